/**
 * Verified claims -> the authorizer's context -> claims again in the protected handler, lossless.
 * REST authorizer contexts only take strings, numbers and booleans, so the claims travel as one
 * JSON string: the token payload's text exactly as signed. The same on both API kinds, offline and
 * on AWS. (`claims`, `scopes` and `principalId` are avoided: serverless-offline overwrites them.)
 */
import type { KeycloakClaims, VerifiedToken } from "../claims.js";
import { MissingAuthorizerContextError } from "../errors.js";
import { authorizerContextOf, type ProxyEvent } from "./events.js";

/** The authorizer context key that carries the claims. */
export const CLAIMS_CONTEXT_KEY = "kc_claims";

/** Context values API Gateway accepts for REST authorizers (and HTTP APIs alike). */
export type AuthorizerContext = Record<string, string | number | boolean>;

/**
 * `realm` (the issuing realm's name), `sub` and `azp` are copied as plain strings too, for mapping
 * templates and logs (`$context.authorizer.realm`).
 */
export function toAuthorizerContext({
  claims,
  claimsJson,
  realm,
  lightweight,
}: Pick<VerifiedToken, "claims" | "claimsJson" | "realm"> & Partial<Pick<VerifiedToken, "lightweight">>): AuthorizerContext {
  const context: AuthorizerContext = { [CLAIMS_CONTEXT_KEY]: claimsJson, realm };
  // KEYCLOAK_LIGHTWEIGHT_TOKENS: an HTTP API allows such a token on every route; an integration
  // that is not a protected handler (which introspects or refuses it) must refuse it by this mark.
  if (lightweight === true) context.lightweight = true;
  if (typeof claims.sub === "string") context.sub = claims.sub;
  if (typeof claims.azp === "string") context.azp = claims.azp;
  return context;
}

/** The claims the authorizer put into the event's context. Anything unreadable is an error, never an empty identity. */
export function claimsFromEvent(event: ProxyEvent): KeycloakClaims {
  const encoded = authorizerContextOf(event)?.[CLAIMS_CONTEXT_KEY];
  if (typeof encoded !== "string") throw new MissingAuthorizerContextError("no claims in the authorizer context");
  let claims: unknown;
  try {
    // JSON.parse makes `__proto__` and `constructor` plain own properties: lossless, and no
    // prototype is set. (Copy claims with spread or structuredClone, not Object.assign.)
    claims = JSON.parse(encoded);
  } catch (cause) {
    throw new MissingAuthorizerContextError("authorizer context claims are not JSON", { cause });
  }
  if (typeof claims !== "object" || claims === null || Array.isArray(claims) || Object.keys(claims).length === 0) {
    throw new MissingAuthorizerContextError("authorizer context claims are not a claims object");
  }
  return claims as KeycloakClaims;
}
