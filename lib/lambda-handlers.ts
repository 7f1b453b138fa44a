/**
 * The three Lambda handlers, assembled from the environment for one route table: what
 * functions/*.ts export. Each reads and validates its configuration once (at cold start, when
 * the function module is imported) and builds its long-lived parts (keys, caches, logger) once.
 */
import type { APIGatewayProxyResult, Context } from "aws-lambda";
import type { ProxyEvent } from "./apigateway/events.js";
import { createAuthorizerHandler, type AuthorizerResult } from "./authorizer/authorizer-handler.js";
import { eventKind, type AuthorizerEvent } from "./apigateway/events.js";
import { enforceGatewayRules } from "./apigateway/gateway-rules.js";
import { loadApiConfig } from "./config/api-config.js";
import { loadAuthorizerConfig } from "./config/authorizer-config.js";
import { loadDocsConfig } from "./config/docs-config.js";
import type { Env } from "./config/settings.js";
import { createDocsHandler } from "./docs/docs-handler.js";
import { keyBindingCheck } from "./dpop/key-binding-check.js";
import { MemoryReplayCache, type ReplayStore } from "./dpop/replay-cache.js";
import { namesRole } from "./operations/hints.js";
import { createLogger } from "./operations/logger.js";
import { createAuthorizerTelemetry } from "./operations/telemetry.js";
import { protect, type ProtectedHandler } from "./protected/protected-handler.js";
import type { RouteTable } from "./routes/route.js";
import { createAccessTokenVerifier } from "./token/access-token-verifier.js";
import { revocationChecks, backchannelLogoutHandler } from "./revocation/lambda-handler.js";

export { backchannelLogoutHandler };

export interface AuthorizerHandlerExtensions {
  /**
   * Where DPoP proof ids are remembered against replay. By default each instance remembers its own
   * (KEYCLOAK_DPOP_REPLAY_CACHE_SIZE); a store shared by every instance also catches a proof
   * replayed to another instance (docs/dpop.md).
   */
  readonly dpopReplayStore?: ReplayStore;
}

/**
 * The API Gateway Lambda authorizer for REST (TOKEN, REQUEST) and HTTP API (payload 2.0) events.
 *
 * @example
 * export const handler = authorizerHandler(API_ROUTES); // functions/authorizer.ts
 */
export function authorizerHandler(
  routes: RouteTable,
  env: Env = process.env,
  extensions: AuthorizerHandlerExtensions = {},
): (event: AuthorizerEvent, context: Context) => Promise<AuthorizerResult> {
  const config = loadAuthorizerConfig(env);
  const logger = createLogger();
  const telemetry = createAuthorizerTelemetry({
    logger,
    logClaims: config.logClaims,
    refusalLogsPerSecond: config.refusalLogsPerSecond,
    metricRealms: config.metricRealms,
    hints: config,
    rolesRequired: routes.routes.some((route) => route.requires !== undefined && namesRole(route.requires)),
    // Powertools' own variable, honoured as Powertools documents it.
    ...(env.POWERTOOLS_METRICS_NAMESPACE ? { namespace: env.POWERTOOLS_METRICS_NAMESPACE } : {}),
  });
  const verifier = createAccessTokenVerifier(config, { onKeyFetch: telemetry.keyFetch });
  const keyBinding = keyBindingCheck({
    mode: config.dpop,
    algorithms: config.dpopAlgorithms,
    proofMaxAgeSeconds: config.dpopProofMaxAgeSeconds,
    clockSkewSeconds: config.clockSkewSeconds,
    replayStore: extensions.dpopReplayStore ?? new MemoryReplayCache({ maxEntries: config.dpopReplayCacheSize }),
    routes,
    offline: env.IS_OFFLINE === "true",
  });
  if (config.algorithms.some((alg) => alg.startsWith("ES")) && !config.ecdsaAllowHighS) {
    // Not an error: issuers that normalise s exist. But Keycloak's does not, and then about half
    // of its ECDSA tokens would be refused as non_canonical_token: say so once, at cold start.
    logger.warn("ECDSA allowed with high-S signatures refused", {
      reason: "ecdsa_low_s_only",
      hint: "Keycloak does not normalise ECDSA signatures: set KEYCLOAK_ECDSA_ALLOW_HIGH_S=true for a Keycloak realm that signs with ES256/384/512",
    });
  }
  // Fetch the realm's keys during init instead of on the first request. A failure here is only
  // logged: the first request retries (after the failure backoff) and answers for itself.
  verifier.prefetch().catch((error: { code?: string; message?: string }) => {
    logger.warn("key prefetch failed", { reason: error.code, detail: error.message });
  });
  // Revocation (lib/revocation/), only when KEYCLOAK_REVOCATION_TABLE is set: nothing else is loaded.
  const checks = revocationChecks(config, logger, env.POWERTOOLS_METRICS_NAMESPACE);
  const handler = telemetry.wrap(createAuthorizerHandler({ verifier, routes, observer: telemetry.observer, keyBinding, checks }));
  // serverless-offline accepts answers API Gateway refuses (lib/apigateway/gateway-rules.ts):
  // locally every answer is checked, so a local run cannot pass where AWS would answer 500.
  if (env.IS_OFFLINE !== "true") return handler;
  return enforceGatewayRules(handler, eventKind, (violations, kind) => {
    logger.error("authorizer answer API Gateway would refuse", { reason: "gateway_rules", event: kind, violations: violations.join("; ") });
  });
}

/**
 * A protected API handler: `handler` runs only for a verified token that meets its route's
 * requirement, with the claims in `context.claims`.
 *
 * @example
 * export const handler = protectedHandler(API_ROUTES, async (_event, context) => ({ statusCode: 200, body: JSON.stringify(context.claims) }));
 */
export function protectedHandler(routes: RouteTable, handler: ProtectedHandler, env: Env = process.env) {
  const config = loadApiConfig(env);
  return protect(handler, { routes, realm: config.realm, clockSkewSeconds: config.clockSkewSeconds, corsOrigins: config.corsOrigins, logger: createLogger() });
}

/** The docs function: `GET /openapi.json`, `GET /docs` and Swagger UI's files. */
export function docsHandler(routes: RouteTable, env: Env = process.env): (event: ProxyEvent) => Promise<APIGatewayProxyResult> {
  const config = loadDocsConfig(env);
  return createDocsHandler({ ...config, routes, offline: env.IS_OFFLINE === "true" });
}
