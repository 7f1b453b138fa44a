/**
 * The authorizer's decisions as Powertools log lines and CloudWatch EMF metrics.
 *
 * What it costs per request, at the default level (INFO): nothing for an allowed request (zero
 * bytes written: API Gateway and Lambda already count requests and invocations, and CloudWatch
 * Logs bills every byte); for a refusal, one WARN line and one EMF document (metric `Refused`,
 * dimension `reason`); for a failure, one ERROR line with the cause and one EMF document
 * (`AuthorizerFailures`, dimension `reason`). Key fetches: `KeyFetches` / `KeyFetchFailures`
 * (dimension `kind`). Allowed requests are logged only at DEBUG (with the claims the operator named
 * in KEYCLOAK_LOG_CLAIMS).
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { Context } from "aws-lambda";
import type { KeyFetch } from "../keys/jwks-cache.js";
import { decisionFields, type DecisionObserver } from "./decision-log.js";
import { SERVICE_NAME } from "./logger.js";

export interface TelemetryOptions {
  readonly logger: Logger;
  /** CloudWatch metrics namespace; POWERTOOLS_METRICS_NAMESPACE overrides it. */
  readonly namespace?: string;
  /** Claims the operator chose to see in DEBUG decision logs (e.g. `sub`, `azp`); none by default. */
  readonly logClaims?: readonly string[];
}

export interface AuthorizerTelemetry {
  readonly observer: DecisionObserver;
  /** A discovery or JWKS fetch finished. */
  keyFetch(fetch: KeyFetch): void;
  /** Wrap a handler: the Lambda context in every log line. */
  wrap<E, R>(handler: (event: E, context: Context) => Promise<R>): (event: E, context: Context) => Promise<R>;
}

export function createAuthorizerTelemetry({ logger, namespace = "KeycloakAuthorizer", logClaims = [] }: TelemetryOptions): AuthorizerTelemetry {
  const metrics = new Metrics({ namespace, serviceName: SERVICE_NAME });
  // One EMF document per event, written at once: nothing is buffered across invocations, so
  // nothing needs flushing at the end of one.
  const count = (name: string, dimension: string, value: string): void => {
    const single = metrics.singleMetric();
    single.addDimension(dimension, value);
    single.addMetric(name, MetricUnit.Count, 1);
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
  const sampled = process.env.POWERTOOLS_LOGGER_SAMPLE_RATE !== undefined;

  const observer: DecisionObserver = {
    allowed(decision) {
      if (logger.getLevelName() !== "DEBUG") return;
      withContext();
      const chosen: Record<string, unknown> = {};
      for (const name of logClaims) if (Object.hasOwn(decision.claims, name)) chosen[name] = decision.claims[name];
      logger.debug("request allowed", { ...decisionFields(decision, "allow"), ...(logClaims.length > 0 ? { claims: chosen } : {}) });
    },
    refused(decision) {
      count("Refused", "reason", decision.error.code);
      withContext().warn("request refused", decisionFields(decision, "deny"));
    },
    failed(decision) {
      count("AuthorizerFailures", "reason", decision.error.code);
      withContext().error("authorizer failure", { ...decisionFields(decision, "error"), detail: decision.error.message, error: decision.error.cause });
    },
  };

  return {
    observer,
    keyFetch({ ok, kind }) {
      count(ok ? "KeyFetches" : "KeyFetchFailures", "kind", kind);
    },
    wrap(handler) {
      return (event, context) => {
        latest = context;
        // Sampling (POWERTOOLS_LOGGER_SAMPLE_RATE) decides per invocation whether DEBUG is on.
        if (sampled) logger.refreshSampleRateCalculation();
        return handler(event, context);
      };
    },
  };
}
