import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { Context } from "aws-lambda";
import { decisionFields, type DecisionObserver } from "./decision-observer.js";
import type { Logger as LogFn } from "./log.js";

export interface TelemetryOptions {
  readonly serviceName?: string;
  /** CloudWatch metrics namespace. */
  readonly namespace?: string;
  /** Claims the operator chose to see in decision logs (e.g. `sub`, `azp`); none by default. */
  readonly logClaims?: readonly string[];
}

export interface Telemetry {
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Decisions as Powertools log lines and EMF metrics. */
  readonly observer: DecisionObserver;
  /** The same logger behind the project's small `Logger` function type. */
  readonly log: LogFn;
  /** A discovery or JWKS fetch finished. */
  keyFetch(outcome: { ok: boolean; kind: "discovery" | "jwks" }): void;
  /** A repeated token was answered from the verified-token cache. */
  tokenCacheHit(): void;
  /** Wrap a handler: Lambda context in every log line, metrics flushed once per invocation. */
  wrap<E, R>(handler: (event: E, context: Context) => Promise<R>): (event: E, context: Context) => Promise<R>;
}

/**
 * Structured JSON logs (Powertools Logger) and CloudWatch Embedded Metric Format metrics
 * (Powertools Metrics) for the authorizer. Log lines carry request id, route, decision, reason
 * code, latency and key id; never the token, and claims only as listed in `logClaims`.
 * Allowed requests are logged at DEBUG (set POWERTOOLS_LOG_LEVEL=DEBUG, or a
 * POWERTOOLS_LOGGER_SAMPLE_RATE, to see them); refusals at WARN; key outages at ERROR.
 *
 * Metrics (namespace `KeycloakAuthorizer`): `Allowed`; `Refused` with dimension `reason`;
 * `AuthorizerFailures`; `KeyFetches`, `KeyFetchFailures` (dimension `kind`); `TokenCacheHits`.
 */
export function createTelemetry(options: TelemetryOptions = {}): Telemetry {
  const serviceName = options.serviceName ?? "keycloak-lambda-authorizer";
  const logger = new Logger({ serviceName });
  const metrics = new Metrics({ namespace: options.namespace ?? "KeycloakAuthorizer", serviceName });
  const logClaims = options.logClaims ?? [];
  let pending = false;

  const count = (name: string): void => {
    metrics.addMetric(name, MetricUnit.Count, 1);
    pending = true;
  };
  const countWith = (name: string, dimension: string, value: string): void => {
    // A metric with its own dimension is its own EMF document: the per-invocation blob keeps none.
    const single = metrics.singleMetric();
    single.addDimension(dimension, value);
    single.addMetric(name, MetricUnit.Count, 1);
  };

  const observer: DecisionObserver = {
    allowed(decision) {
      count("Allowed");
      if (logger.getLevelName() !== "DEBUG") return;
      const chosen: Record<string, unknown> = {};
      for (const name of logClaims) if (name in decision.claims) chosen[name] = decision.claims[name];
      logger.debug("request allowed", { ...decisionFields(decision), ...(logClaims.length > 0 ? { claims: chosen } : {}) });
    },
    refused(decision) {
      countWith("Refused", "reason", decision.error.code);
      logger.warn("request refused", decisionFields(decision));
    },
    failed(decision) {
      countWith("AuthorizerFailures", "reason", decision.error.code);
      logger.error("authorizer failure", { ...decisionFields(decision), detail: decision.error.message });
    },
  };

  const log: LogFn = (level, message, fields) => {
    if (level === "ERROR") logger.error(message, fields);
    else if (level === "WARN") logger.warn(message, fields);
    else if (level === "DEBUG") logger.debug(message, fields);
    else logger.info(message, fields);
  };

  return {
    logger,
    metrics,
    observer,
    log,
    keyFetch({ ok, kind }) {
      countWith(ok ? "KeyFetches" : "KeyFetchFailures", "kind", kind);
    },
    tokenCacheHit() {
      count("TokenCacheHits");
    },
    wrap(handler) {
      return async (event, context) => {
        if (context !== undefined) logger.addContext(context);
        logger.refreshSampleRateCalculation();
        try {
          return await handler(event, context);
        } finally {
          if (pending) metrics.publishStoredMetrics();
          pending = false;
        }
      };
    },
  };
}
