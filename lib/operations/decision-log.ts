/**
 * The authorizer's decisions as events for logs and metrics: exactly one call per invocation.
 * Observers keep logging and metrics out of the decision code, and off the hot path when they do
 * nothing (the default).
 */
import { requestLabel, type EventKind } from "../apigateway/events.js";
import type { KeycloakClaims } from "../claims.js";
import type { AuthorizerError, AuthorizerFailureError, TokenRejectedError } from "../errors.js";

interface DecisionBase {
  readonly kind: EventKind | undefined;
  /** The raw event, for the route in logs; never logged as a whole. */
  readonly event: unknown;
  readonly latencyMs: number;
  readonly requestId: string | undefined;
}
export interface AllowedDecision extends DecisionBase {
  readonly kid: string;
  /** The realm that issued the token. */
  readonly realm: string;
  /** Verified claims: an observer logs only the ones the operator chose. */
  readonly claims: KeycloakClaims;
}
export interface RefusedDecision extends DecisionBase {
  readonly error: TokenRejectedError;
}
export interface FailedDecision extends DecisionBase {
  readonly error: AuthorizerFailureError;
}

export interface DecisionObserver {
  allowed(decision: AllowedDecision): void;
  /** A bad or missing token (401). */
  refused(decision: RefusedDecision): void;
  /** The token could not be judged (500): keys unavailable, or a bug. */
  failed(decision: FailedDecision): void;
}

/** Tells no one. */
export const SILENT: DecisionObserver = { allowed() {}, refused() {}, failed() {} };

export type LogFields = Readonly<Record<string, string | number | boolean | undefined>>;

/** A decision's fields for a log line: identifiers and codes, never the token or the claims. */
export function decisionFields(
  decision: DecisionBase & { readonly error?: AuthorizerError; readonly kid?: string; readonly realm?: string },
  outcome: "allow" | "deny" | "error",
): LogFields {
  return {
    event: decision.kind,
    route: requestLabel(decision.event),
    decision: outcome,
    // A trusted realm's name only (an error carries one once the issuer matched).
    realm: decision.realm ?? decision.error?.realm,
    reason: decision.error?.code,
    stage: decision.error?.stage,
    kid: decision.kid,
    latencyMs: Math.round(decision.latencyMs * 1000) / 1000,
    requestId: decision.requestId,
  };
}
