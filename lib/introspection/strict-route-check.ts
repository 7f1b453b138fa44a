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
import { CLAIMS_CONTEXT_KEY } from "../apigateway/context.js";
import { authorizerContextOf, headerOf, type ProxyEvent } from "../apigateway/events.js";
import { realmNameOf } from "../config/trusted-issuers.js";
import { isLightweightToken, type KeycloakClaims } from "../claims.js";
import { InvalidAudienceError, InvalidTokenTypeError, MalformedTokenError, TokenInactiveError } from "../errors.js";
import type { Introspect } from "./introspection-client.js";

export interface StrictRouteCheckOptions {
  readonly introspect: Introspect;
  readonly clockSkewSeconds: number;
  /**
   * For a lightweight token (no `aud`), the audiences the answer's `aud` must name one of: the
   * realm's own (KEYCLOAK_REALM_RULES), else KEYCLOAK_AUDIENCE, as the authorizer judges full tokens.
   */
  readonly audiencesOf: (realm: string) => readonly string[];
  readonly now?: () => number;
}

/** The claims text the authorizer put into the context (lib/apigateway/context.ts), as signed. */
function verifiedClaimsJson(event: ProxyEvent): unknown {
  return authorizerContextOf(event)?.[CLAIMS_CONTEXT_KEY];
}

/** The claims a strict route works with: Keycloak's introspection answer for the request's token. */
export type StrictRouteCheck = (event: ProxyEvent, verified: KeycloakClaims) => Promise<KeycloakClaims>;

export function strictRouteCheck(options: StrictRouteCheckOptions): StrictRouteCheck {
  const now = options.now ?? Date.now;
  return async (event, verified) => {
    // The token the authorizer verified: API Gateway passes the Authorization header through. It
    // must be that very token (its payload segment is the context's claims text, byte for byte),
    // so Keycloak is asked about what was verified and nothing else.
    const { token } = credentials(headerOf(event, "authorization"));
    const segment = token.split(".")[1];
    if (segment === undefined || Buffer.from(segment, "base64url").toString("utf8") !== verifiedClaimsJson(event)) {
      throw new MalformedTokenError("the Authorization header's token is not the one the authorizer verified");
    }
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
      const audiences = options.audiencesOf(realmNameOf(issuer));
      if (!named.some((value) => typeof value === "string" && audiences.includes(value))) {
        throw new InvalidAudienceError("the introspection answer for a lightweight token names none of the realm's audiences");
      }
      if (claims.typ !== undefined && claims.typ !== "Bearer" && claims.typ !== "DPoP")
        throw new InvalidTokenTypeError("the introspection answer's typ is neither Bearer nor DPoP");
    }
    const exp = typeof claims.exp === "number" ? claims.exp : verified.exp;
    if (typeof exp !== "number" || exp + options.clockSkewSeconds < now() / 1000) throw new TokenInactiveError("the token has expired");
    // A copy: the cached answer is shared by later requests, and a handler may change what it gets.
    return { ...structuredClone(claims), iss: issuer } as KeycloakClaims;
  };
}
