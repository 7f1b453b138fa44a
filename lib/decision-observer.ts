import type { AuthorizerError } from "./errors.js";
import type { Logger, LogRecord } from "./log.js";
import type { KeycloakClaims } from "./verifier.js";

type EventKind = "rest-token" | "rest-request" | "http-v2";

interface DecisionBase {
  readonly kind: EventKind | undefined;
  /** The raw event, for observers that want the route; never logged as a whole. */
  readonly event: unknown;
  readonly latencyMs: number;
  readonly requestId: string | undefined;
}
export interface AllowedDecision extends DecisionBase {
  readonly kid: string;
  /** Verified claims: an observer logs only the ones the operator chose. */
  readonly claims: KeycloakClaims;
}
export interface RefusedDecision extends DecisionBase {
  readonly error: AuthorizerError;
}

/**
 * Where the authorizer reports each decision: exactly one call per invocation. Observers keep
 * logging and metrics out of the decision code, and out of the hot path when they do nothing.
 */
export interface DecisionObserver {
  allowed(decision: AllowedDecision): void;
  /** A bad or missing token (401). */
  refused(decision: RefusedDecision): void;
  /** The keys could not be had (500): an outage, not a bad token. */
  failed(decision: RefusedDecision): void;
}

/**
 * `GET /secured` for a REST method ARN or an HTTP API route key; undefined for anything else.
 * For logs only: decisions never depend on it.
 */
export function routeOf(event: unknown): string | undefined {
  if (typeof event !== "object" || event === null) return undefined;
  const { methodArn, routeKey } = event as { methodArn?: unknown; routeKey?: unknown };
  if (typeof routeKey === "string") return routeKey;
  if (typeof methodArn !== "string") return undefined;
  const match = /^arn:[^/]+\/[^/]+\/([A-Z]+)(\/.*)?$/.exec(methodArn);
  return match === null ? undefined : `${match[1]} ${match[2] ?? "/"}`;
}

/** The decision's fields for a log line: identifiers and codes, never the token or claims. */
export function decisionFields(decision: DecisionBase & { error?: AuthorizerError; kid?: string }): LogRecord {
  return {
    event: decision.kind,
    route: routeOf(decision.event),
    decision: decision.error === undefined ? "allow" : decision.error.name === "KeysUnavailableError" ? "error" : "deny",
    reason: decision.error?.code,
    stage: decision.error?.stage,
    kid: decision.kid,
    latencyMs: Math.round(decision.latencyMs * 1000) / 1000,
    requestId: decision.requestId,
  };
}

/** Refusals as WARN and failures as ERROR lines; allowed requests are not logged (hot path). */
export function logObserver(log: Logger): DecisionObserver {
  return {
    allowed() {},
    refused(decision) {
      log("WARN", "request refused", decisionFields(decision));
    },
    failed(decision) {
      log("ERROR", "authorizer failure", { ...decisionFields(decision), detail: decision.error.message });
    },
  };
}
