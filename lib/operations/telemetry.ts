/**
 * The authorizer's decisions as Powertools log lines and CloudWatch EMF metrics.
 *
 * What it costs per request, at the default level (INFO):
 * - an allowed request: nothing, zero bytes written (API Gateway and Lambda already count requests
 *   and invocations, and CloudWatch Logs bills every byte). Logged only at DEBUG, with the claims
 *   the operator named in KEYCLOAK_LOG_CLAIMS;
 * - a refusal: a WARN line, at most `refusalLogsPerSecond` per reason (the next line says how many
 *   were left out, `suppressed`), and a count: `Refused` (dimension `reason`), summed in memory and
 *   written as one EMF document per reason at most once a second, at the end of an invocation.
 *   So a flood of forged tokens costs a counter increment each, not a log line each; the price is
 *   that up to a second of counts is lost if the instance ends before its next invocation;
 * - a failure (500): an ERROR line with the cause and `AuthorizerFailures`, at once, every time;
 * - key fetches: `KeyFetches` / `KeyFetchFailures` (dimension `kind`), at once;
 * - hints (lib/operations/hints.ts): a refusal that is a configuration mismatch (no Audience
 *   mapper, another hostname, ...) carries a `hint` naming the fix, on at most one line per reason
 *   per minute; computed only for that line. With `rolesRequired`, an allowed token without any
 *   role claim (no `roles` scope, lightweight tokens) gets one WARN line `allowed token carries no
 *   roles` per minute: REST answers 403 for its role routes without any line of ours otherwise.
 * Every metric also has the dimension `realm` (the first `metricRealms` realms by name, then `other`).
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import type { Context } from "aws-lambda";
import { credentials } from "../apigateway/authorization-header.js";
import { authorizationOf, type AuthorizerEvent } from "../apigateway/events.js";
import type { KeyFetch } from "../keys/jwks-cache.js";
import { decisionFields, type DecisionObserver, type RefusedDecision } from "./decision-log.js";
import { HINT_INTERVAL_MS, HINTED_REASONS, HintLimiter, hasNoRoleClaims, hintFor, noRolesHint, tokenParts, type HintSettings } from "./hints.js";
import { SERVICE_NAME } from "./logger.js";
import { emfCounter } from "./emf.js";

export interface TelemetryOptions {
  readonly logger: Logger;
  /** CloudWatch metrics namespace (`KeycloakAuthorizer`). */
  readonly namespace?: string;
  /** Claims the operator chose to see in DEBUG decision logs (e.g. `sub`, `azp`); none by default. */
  readonly logClaims?: readonly string[];
  /** WARN lines per refusal reason per second, at most (a burst of as many is allowed). */
  readonly refusalLogsPerSecond?: number;
  /** Realms with a `realm` dimension of their own; the rest are `other` (bounded cardinality). */
  readonly metricRealms?: number;
  /** What refusal hints may name (lib/operations/hints.ts); no hints without it. */
  readonly hints?: HintSettings;
  /** Some route requires a role: an allowed token without any role claim is worth one line per minute. */
  readonly rolesRequired?: boolean;
  /** Milliseconds since the epoch; tests drive it. */
  readonly now?: () => number;
}

export interface AuthorizerTelemetry {
  readonly observer: DecisionObserver;
  /** A discovery or JWKS fetch finished. */
  keyFetch(fetch: KeyFetch & { readonly realm: string }): void;
  /** Wrap a handler: the Lambda context in every log line. */
  wrap<E, R>(handler: (event: E, context: Context) => Promise<R>): (event: E, context: Context) => Promise<R>;
}

/** Summed refusal counts are written at most this often. */
const REFUSAL_FLUSH_MS = 1000;

export function createAuthorizerTelemetry(options: TelemetryOptions): AuthorizerTelemetry {
  const {
    logger,
    namespace = "KeycloakAuthorizer",
    logClaims = [],
    refusalLogsPerSecond = 10,
    metricRealms = 20,
    now = Date.now,
    hints,
    rolesRequired = false,
  } = options;
  const metric = emfCounter({ namespace, service: SERVICE_NAME });
  // The first `metricRealms` realms seen get a dimension value of their own, the rest `other`:
  // realms can come and go by the thousand, CloudWatch bills every distinct dimension set.
  const labelled = new Set<string>();
  const realmLabel = (realm: string | undefined): string => {
    if (realm === undefined) return "none";
    if (labelled.has(realm)) return realm;
    if (labelled.size >= metricRealms) return "other";
    labelled.add(realm);
    return realm;
  };
  const count = (name: string, dimension: string, value: string, realm: string | undefined, amount = 1): void => {
    metric(name, { [dimension]: value, realm: realmLabel(realm) }, amount);
  };

  // Refusals by reason and realm since the last flush, and each reason's log budget (a token bucket).
  const refusals = new Map<string, { reason: string; realm: string | undefined; amount: number }>();
  let lastFlush = Number.NEGATIVE_INFINITY;
  const flushRefusals = (): void => {
    if (refusals.size === 0 || now() - lastFlush < REFUSAL_FLUSH_MS) return;
    lastFlush = now();
    for (const { reason, realm, amount } of refusals.values()) count("Refused", "reason", reason, realm, amount);
    refusals.clear();
  };
  const budgets = new Map<string, { tokens: number; at: number; suppressed: number }>();
  const mayLog = (reason: string): { ok: boolean; suppressed: number } => {
    const at = now();
    let budget = budgets.get(reason);
    if (budget === undefined) {
      budget = { tokens: refusalLogsPerSecond, at, suppressed: 0 };
      budgets.set(reason, budget); // reasons are a closed set: the map stays small
    }
    budget.tokens = Math.min(refusalLogsPerSecond, budget.tokens + ((at - budget.at) / 1000) * refusalLogsPerSecond);
    budget.at = at;
    if (budget.tokens < 1) {
      budget.suppressed += 1;
      return { ok: false, suppressed: 0 };
    }
    budget.tokens -= 1;
    const suppressed = budget.suppressed;
    budget.suppressed = 0;
    return { ok: true, suppressed };
  };

  // At most one hint per reason per interval, computed only for a line that is written anyway.
  const hinted = new HintLimiter(HINT_INTERVAL_MS, now);
  const refusalHint = (decision: RefusedDecision): string | undefined => {
    const reason = decision.error.code;
    if (hints === undefined || decision.kind === undefined || !HINTED_REASONS.has(reason) || !hinted.due(reason)) return undefined;
    let parts: ReturnType<typeof tokenParts>;
    try {
      parts = tokenParts(credentials(authorizationOf(decision.event as AuthorizerEvent, decision.kind)).token);
    } catch {
      return undefined;
    }
    const hint = hintFor({ code: reason, ...parts, detail: decision.error.detail }, hints);
    if (hint !== undefined) hinted.spent(reason);
    return hint;
  };

  // The Lambda context goes into the logger only when a line is about to be written: an allowed
  // request at INFO pays nothing for it.
  let latest: Context | undefined;
  let added: Context | undefined;
  const withContext = (): Logger => {
    if (latest !== undefined && latest !== added) {
      logger.addContext(latest);
      added = latest;
    }
    return logger;
  };
  // Reading the level costs more than the rest of an allowed request's logging: it only changes
  // with sampling, per invocation.
  const sampled = process.env.POWERTOOLS_LOGGER_SAMPLE_RATE !== undefined;
  let debug = logger.getLevelName() === "DEBUG";

  const observer: DecisionObserver = {
    allowed(decision) {
      if (rolesRequired && hasNoRoleClaims(decision.claims) && hinted.due("no_role_claims")) {
        hinted.spent("no_role_claims");
        withContext().warn("allowed token carries no roles", {
          ...decisionFields(decision, "allow"),
          reason: "no_role_claims",
          hint: noRolesHint(decision.claims),
        });
      }
      if (!debug) return;
      withContext();
      const chosen: Record<string, unknown> = {};
      for (const name of logClaims) if (Object.hasOwn(decision.claims, name)) chosen[name] = decision.claims[name];
      logger.debug("request allowed", { ...decisionFields(decision, "allow"), ...(logClaims.length > 0 ? { claims: chosen } : {}) });
    },
    refused(decision) {
      const reason = decision.error.code;
      const realm = decision.error.realm;
      const key = realm === undefined ? reason : `${reason}\u0000${realm}`;
      const tally = refusals.get(key);
      if (tally === undefined) refusals.set(key, { reason, realm, amount: 1 });
      else tally.amount += 1;
      const { ok, suppressed } = mayLog(reason);
      if (!ok) return;
      const fields = decisionFields(decision, "deny");
      const hint = refusalHint(decision);
      withContext().warn(
        "request refused",
        suppressed > 0 || hint !== undefined ? { ...fields, ...(suppressed > 0 ? { suppressed } : {}), ...(hint === undefined ? {} : { hint }) } : fields,
      );
    },
    failed(decision) {
      count("AuthorizerFailures", "reason", decision.error.code, decision.error.realm);
      withContext().error("authorizer failure", { ...decisionFields(decision, "error"), detail: decision.error.message, error: decision.error.cause });
    },
  };

  return {
    observer,
    keyFetch({ ok, kind, realm }) {
      count(ok ? "KeyFetches" : "KeyFetchFailures", "kind", kind, realm);
    },
    wrap(handler) {
      return async (event, context) => {
        latest = context;
        // Sampling (POWERTOOLS_LOGGER_SAMPLE_RATE) decides per invocation whether DEBUG is on.
        if (sampled) {
          logger.refreshSampleRateCalculation();
          debug = logger.getLevelName() === "DEBUG";
        }
        try {
          return await handler(event, context);
        } finally {
          if (refusals.size > 0) flushRefusals();
        }
      };
    },
  };
}
