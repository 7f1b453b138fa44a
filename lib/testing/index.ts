/**
 * keycloak-lambda-authorizer/testing: helpers for the tests of a service protected by this
 * project (jest, node:test or any other runner; nothing here depends on one). Mint Keycloak-shaped
 * access tokens with a generated key, serve the realm's keys on loopback or preload them, build the
 * API Gateway events an authorizer and a protected handler receive, and check an authorizer's
 * answers against what API Gateway accepts. Never imported by the deployed functions.
 *
 * @example
 * import { keycloakAccessClaims, lambdaContext, protectedEvent } from "keycloak-lambda-authorizer/testing";
 * const event = protectedEvent("http", { route: "/admin", claims: keycloakAccessClaims("https://kc.example.com/realms/demo") });
 * const response = await handler(event, lambdaContext());
 */
export { b64url, decodePayload, generateRsaKey, keycloakAccessClaims, mintAccessToken, signJwt, TEST_AUDIENCE, type TestKey } from "./tokens.js";
export { startJwksServer, type JwksServer } from "./jwks-server.js";
export { createTestAuthorizer, createTestVerifier, preloadedConfig, preloadedJwks, type PreloadedRealm } from "./preloaded-keys.js";
export { authorizerEvent, EVENT_KINDS, lambdaContext, protectedEvent, TEST_METHOD_ARN, type ProtectedRequest, type RequestLine } from "./events.js";
export { enforceGatewayRules, GATEWAY_LIMITS, gatewayViolations, type AuthorizerAnswer } from "../apigateway/gateway-rules.js";
export type { EventKind } from "../apigateway/events.js";
