/**
 * keycloak-lambda-authorizer: protect API Gateway APIs (REST and HTTP API) on AWS Lambda with
 * Keycloak access tokens. A service imports this module only: declare its routes, then export the
 * authorizer and its protected handlers.
 *
 * @example
 * import { authorizerHandler, protectedHandler, realmRole, routeTable } from "keycloak-lambda-authorizer";
 * const routes = routeTable([{ method: "GET", path: "/admin", summary: "Admin", requires: realmRole("admin") }]);
 * export const authorizer = authorizerHandler(routes);
 * export const admin = protectedHandler(routes, async (_event, { claims }) => ({ statusCode: 200, body: JSON.stringify({ claims }) }));
 */
export { authorizerHandler, backchannelLogoutHandler, docsHandler, protectedHandler, type AuthorizerHandlerExtensions } from "./lambda-handlers.js";
export { keyBindingCheck, refuseKeyBinding, type KeyBindingOptions } from "./dpop/key-binding-check.js";
export { MemoryReplayCache, type ReplayStore } from "./dpop/replay-cache.js";
export { routeTable, routeKey, type HttpMethod, type Route, type RouteTable } from "./routes/route.js";
export {
  allOf,
  anyOf,
  clientRole,
  describeRequirement,
  dpopBound,
  isSatisfied,
  organization,
  realm,
  realmRole,
  scope,
  type Requirement,
} from "./routes/requirements.js";
export type { KeycloakClaims, VerifiedToken } from "./claims.js";
export type { ProtectedContext, ProtectedHandler } from "./protected/protected-handler.js";
export { createAccessTokenVerifier, type AccessTokenVerifier } from "./token/access-token-verifier.js";
export {
  createAuthorizerHandler,
  UNAUTHORIZED,
  type AuthorizerHandler,
  type AuthorizerResult,
  type CheckedRequest,
  type RequestCheck,
} from "./authorizer/authorizer-handler.js";
export { loadAuthorizerConfig, AUTHORIZER_SETTINGS, SUPPORTED_ALGORITHMS, type AuthorizerConfig } from "./config/authorizer-config.js";
export { loadApiConfig, API_SETTINGS, type ApiConfig } from "./config/api-config.js";
export { loadDocsConfig, DOCS_SETTINGS, type DocsConfig } from "./config/docs-config.js";
export * from "./errors.js";
