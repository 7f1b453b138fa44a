/**
 * A strict route (`introspect: true` in the route table) asks Keycloak, through token
 * introspection, whether the request's token is still active, on every request (answers cached
 * per token for at most KEYCLOAK_INTROSPECTION_CACHE_SECONDS and never past `exp`). It runs in the
 * protected handler, not in the authorizer: API Gateway caches the authorizer's answer per token,
 * for every route, so only the handler sees each request.
 *
 * The answer's claims replace the token's for the route's requirement and for the handler: they
 * are Keycloak's view now (roles granted or taken away since the token was issued), and they are
 * how a lightweight access token, which carries almost none, gets any.
 */
import { credentials } from "../apigateway/authorization-header.js";
import { headerOf, type ProxyEvent } from "../apigateway/events.js";
import type { KeycloakClaims } from "../claims.js";
import { InvalidAudienceError, InvalidTokenTypeError, TokenInactiveError } from "../errors.js";
import type { Introspect } from "./introspection-client.js";

export interface StrictRouteCheckOptions {
  readonly introspect: Introspect;
  readonly clockSkewSeconds: number;
  /** KEYCLOAK_AUDIENCE: for a lightweight token (no `aud`), the answer's `aud` must name one. */
  readonly audiences: readonly string[];
  readonly now?: () => number;
}

/** A lightweight access token carries no `aud` (the authorizer lets one through only with KEYCLOAK_LIGHTWEIGHT_TOKENS). */
export const isLightweightToken = (claims: KeycloakClaims): boolean => !Object.hasOwn(claims, "aud");

/** The claims a strict route works with: Keycloak's introspection answer for the request's token. */
export type StrictRouteCheck = (event: ProxyEvent, verified: KeycloakClaims) => Promise<KeycloakClaims>;

export function strictRouteCheck(options: StrictRouteCheckOptions): StrictRouteCheck {
  const now = options.now ?? Date.now;
  return async (event, verified) => {
    // The token the authorizer verified: API Gateway passes the Authorization header through.
    const { token } = credentials(headerOf(event, "authorization"));
    const issuer = String(verified.iss);
    const result = await options.introspect(token, issuer);
    if (!result.active) throw new TokenInactiveError("Keycloak's introspection says the token is not active");
    const claims = result.claims;
    // An answer about another token, or from another realm, would be worth nothing: the answer
    // must agree with what the authorizer verified wherever both name a value.
    for (const name of ["iss", "sub", "sid", "jti", "azp"] as const) {
      if (claims[name] !== undefined && verified[name] !== undefined && claims[name] !== verified[name]) {
        throw new TokenInactiveError(`the introspection answer's ${name} differs from the token's`);
      }
    }
    if (isLightweightToken(verified)) {
      // The token said nothing of its audience: Keycloak's answer must (its Audience mapper's
      // "Add to token introspection"), as a full token's aud would.
      const aud = claims.aud;
      const named = typeof aud === "string" ? [aud] : Array.isArray(aud) ? aud : [];
      if (!named.some((value) => typeof value === "string" && options.audiences.includes(value))) {
        throw new InvalidAudienceError("the introspection answer for a lightweight token names none of KEYCLOAK_AUDIENCE");
      }
      if (claims.typ !== undefined && claims.typ !== "Bearer" && claims.typ !== "DPoP")
        throw new InvalidTokenTypeError("the introspection answer's typ is neither Bearer nor DPoP");
    }
    const exp = typeof claims.exp === "number" ? claims.exp : verified.exp;
    if (typeof exp !== "number" || exp + options.clockSkewSeconds < now() / 1000) throw new TokenInactiveError("the token has expired");
    return { ...claims, iss: issuer } as KeycloakClaims;
  };
}
