/**
 * The three Lambda handlers, assembled from the environment for one route table: what
 * functions/*.ts export. Each reads and validates its configuration once (at cold start, when
 * the function module is imported) and builds its long-lived parts (keys, caches, logger) once.
 */
import { strictRoutesFrom } from "./introspection/strict-routes.js";
import type { APIGatewayProxyResult } from "aws-lambda";
import type { ProxyEvent } from "./apigateway/events.js";
import { lambdaAuthorizer, type LambdaAuthorizer } from "./authorizer/lambda-authorizer.js";
import { dpopFeature } from "./dpop/dpop-feature.js";
import type { ReplayStore } from "./dpop/replay-cache.js";
import { backchannelLogoutHandler } from "./revocation/lambda-handler.js";
import { revocationFeature } from "./revocation/revocation-feature.js";
import { loadApiConfig } from "./config/api-config.js";
import { loadDocsConfig } from "./config/docs-config.js";
import type { Env } from "./config/settings.js";
import { createDocsHandler } from "./docs/docs-handler.js";
import { createLogger } from "./operations/logger.js";
import { protect, type ProtectedHandler } from "./protected/protected-handler.js";
import type { RouteTable } from "./routes/route.js";

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
 * The API Gateway Lambda authorizer for REST (TOKEN, REQUEST) and HTTP API (payload 2.0) events,
 * with every feature (DPoP, revocation) built in; each is used only when configured. (This
 * repository's deployed entries pick their features at package time: functions/authorizer.ts.)
 *
 * @example
 * export const handler = authorizerHandler(API_ROUTES);
 */
export function authorizerHandler(routes: RouteTable, env: Env = process.env, extensions: AuthorizerHandlerExtensions = {}): LambdaAuthorizer {
  return lambdaAuthorizer(routes, env, { dpop: dpopFeature(extensions.dpopReplayStore), revocation: revocationFeature });
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
  const strict = strictRoutesFrom(config);
  return protect(handler, {
    routes,
    realm: config.realm,
    // DPoP challenges only where the authorizer takes DPoP (KEYCLOAK_DPOP on).
    ...(config.dpop === "off" ? {} : { dpopAlgorithms: config.dpopAlgorithms }),
    clockSkewSeconds: config.clockSkewSeconds,
    corsOrigins: config.corsOrigins,
    logger: createLogger(),
    ...(strict === undefined ? {} : { strict }),
  });
}

/** The docs function: `GET /openapi.json`, `GET /docs` and Swagger UI's files. */
export function docsHandler(routes: RouteTable, env: Env = process.env): (event: ProxyEvent) => Promise<APIGatewayProxyResult> {
  const config = loadDocsConfig(env);
  return createDocsHandler({ ...config, routes, offline: env.IS_OFFLINE === "true" });
}
