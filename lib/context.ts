import { MissingAuthorizerContextError } from "./errors.js";
import type { KeycloakClaims } from "./verifier.js";

/**
 * The authorizer context key that carries the claims. REST authorizer contexts only take strings,
 * numbers and booleans, so the claims travel as one JSON string: lossless for every JSON type,
 * and the same on both API kinds, offline and on AWS. (`claims`, `scopes` and `principalId` are
 * avoided: serverless-offline overwrites them.)
 */
export const CLAIMS_CONTEXT_KEY = "kc_claims";

/** Context values API Gateway accepts for REST authorizers (and HTTP APIs alike). */
export type AuthorizerContext = Record<string, string | number | boolean>;

/**
 * Claims to authorizer context: the payload's JSON text exactly as signed (so every claim, even
 * one named `__proto__`, arrives as the token carried it). `sub` and `azp` are copied as plain
 * strings too, for mapping templates and logs (`$context.authorizer.sub`).
 */
export function toAuthorizerContext(claims: KeycloakClaims, claimsJson: string): AuthorizerContext {
  const context: AuthorizerContext = { [CLAIMS_CONTEXT_KEY]: claimsJson };
  if (typeof claims.sub === "string") context.sub = claims.sub;
  if (typeof claims.azp === "string") context.azp = claims.azp;
  return context;
}

/** The parts of an API Gateway proxy event (REST v1 or HTTP API v2) that hold the authorizer's output. */
export interface EventWithAuthorizer {
  readonly requestContext?: {
    readonly authorizer?: Readonly<Record<string, unknown>> | null;
  } | null;
}

/**
 * Authorizer context back to claims, for the protected handler. REST puts the context at
 * `requestContext.authorizer`, HTTP API (payload 2.0) at `requestContext.authorizer.lambda`.
 * Anything unreadable is an error, never an empty identity.
 */
export function claimsFromEvent(event: EventWithAuthorizer): KeycloakClaims {
  const authorizer = event.requestContext?.authorizer;
  const lambda = authorizer?.lambda;
  const encoded =
    typeof lambda === "object" && lambda !== null
      ? (lambda as Record<string, unknown>)[CLAIMS_CONTEXT_KEY]
      : authorizer?.[CLAIMS_CONTEXT_KEY];
  if (typeof encoded !== "string") {
    throw new MissingAuthorizerContextError("no claims in the authorizer context");
  }
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
