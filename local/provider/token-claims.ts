/**
 * Reshapes oidc-provider's JWT access tokens into Keycloak's: `typ: JWT` header instead of RFC 9068's
 * `at+jwt`, and Keycloak's claim set (typ Bearer, azp, sid, realm_access, resource_access, profile
 * claims, service-account markers; a DPoP-bound token's `cnf.jkt`, with `typ` DPoP, as Keycloak
 * 26.4 writes it). Registered as `formats.customizers.jwt`.
 *
 * Two client settings change the claim set as they do in Keycloak 26 (observed with 26.4.2):
 * - without the `basic` client scope, a user's access token has no `sub` (and no `auth_time`);
 *   service-account tokens keep `sub`;
 * - "Always use lightweight access token" (attribute `client.use.lightweight.access.token.enabled`)
 *   keeps only exp, iat, jti, iss, typ, azp, sid and scope, `sub` for service accounts, and `aud`
 *   from Audience mappers marked "Add to lightweight access token" (`lightweight.claim`): no roles,
 *   no profile, no acr.
 */
import type { AccessToken, ClientCredentials, JWTStructured, KoaContextWithOIDC } from "oidc-provider";
import { emailClaims, profileClaims } from "./accounts.js";
import { webOrigins } from "./clients.js";
import { type Realm, type UserRepresentation, userId } from "./realm.js";
import { effectiveScopes, scopeClaim } from "./scopes.js";

/** Keycloak's client attribute behind "Always use lightweight access token". */
const LIGHTWEIGHT = "client.use.lightweight.access.token.enabled";

/** oidc-provider insists on an audience; Keycloak's default `account` audience is the closest stand-in. */
const FALLBACK_AUDIENCE = "account";

export function audienceFor(realm: Realm, clientId: string): string[] {
  const audiences = realm.accessTokenAudiences(clientId);
  return audiences.length > 0 ? audiences : [FALLBACK_AUDIENCE];
}

function serviceAccountFor(realm: Realm, clientId: string): UserRepresentation {
  // Keycloak always has the user; a hand-written realm may omit it, so synthesise a role-less one.
  return realm.serviceAccount(clientId) ?? { username: `service-account-${clientId}`, serviceAccountClientId: clientId };
}

function roleClaims(realm: Realm, user: UserRepresentation): Record<string, unknown> {
  const roles = realm.effectiveRoles(user);
  const resourceAccess = Object.fromEntries(Object.entries(roles.clients).map(([c, r]) => [c, { roles: r }]));
  return {
    ...(roles.realm.length > 0 ? { realm_access: { roles: roles.realm } } : {}),
    ...(Object.keys(resourceAccess).length > 0 ? { resource_access: resourceAccess } : {}),
  };
}

/**
 * Keycloak 26's `organization` scope (its Organization Membership mapper, multivalued): the aliases
 * of the user's organizations, only when the scope was asked for and the user is a member of one.
 */
function organizationClaim(realm: Realm, user: UserRepresentation, scopes: ReadonlySet<string>, isServiceAccount: boolean): Record<string, unknown> {
  if (isServiceAccount || !scopes.has("organization")) return {};
  const organizations = realm.organizationsOf(user);
  return organizations.length > 0 ? { organization: organizations } : {};
}

/**
 * `remember` is told the full claims of each lightweight access token (by `jti`), for the
 * embedded introspection endpoint (introspection.ts).
 */
export function accessTokenCustomizer(realm: Realm, remember?: (jti: string, claims: Record<string, unknown>) => void) {
  return (ctx: KoaContextWithOIDC | undefined, token: AccessToken | ClientCredentials, parts: JWTStructured): void => {
    const clientId = token.clientId;
    const client = clientId === undefined ? undefined : realm.client(clientId);
    if (!clientId || !client) throw new Error(`token for unknown client ${String(clientId)}`);

    const isServiceAccount = token.kind === "ClientCredentials";
    const accountId = token.kind === "AccessToken" ? token.accountId : undefined;
    const user = isServiceAccount ? serviceAccountFor(realm, clientId) : accountId ? realm.userById(accountId) : undefined;
    if (!user) throw new Error(`token for unknown account ${String(accountId)}`);

    const scopes = effectiveScopes(client, token.scopes);
    const sid = token.kind === "AccessToken" ? (token as AccessToken & { sid?: string }).sid : undefined;
    const origins = webOrigins(client);
    const audiences = audienceFor(realm, clientId);
    const { exp, iat, jti, iss, cnf } = parts.payload as typeof parts.payload & { cnf?: { jkt?: unknown } };
    // oidc-provider binds a token to the proof's key (RFC 9449) in `cnf.jkt`; Keycloak then says so in `typ`.
    const dpopBound = typeof cnf?.jkt === "string";
    // Keycloak names the login time in access tokens of browser sessions (code flow, and their
    // refreshes), not in password-grant or service-account tokens.
    const entities = ctx?.oidc.entities as { AuthorizationCode?: { authTime?: number }; RefreshToken?: { authTime?: number } } | undefined;
    const authTime = isServiceAccount ? undefined : (entities?.AuthorizationCode?.authTime ?? entities?.RefreshToken?.authTime);

    parts.header = { typ: "JWT" };
    const subject = isServiceAccount || scopes.has("basic") ? { sub: userId(user) } : {};
    // Rebuilt from scratch (not merged) so oidc-provider-only claims such as client_id for users go away.
    parts.payload = {
      exp,
      iat,
      ...(typeof authTime === "number" && scopes.has("basic") ? { auth_time: authTime } : {}),
      jti,
      iss,
      aud: audiences.length === 1 ? audiences[0] : audiences,
      ...subject,
      typ: dpopBound ? "DPoP" : "Bearer",
      azp: clientId,
      ...(sid ? { sid } : {}),
      acr: "1",
      ...(scopes.has("web-origins") && origins.length > 0 ? { "allowed-origins": origins } : {}),
      ...(scopes.has("roles") ? roleClaims(realm, user) : {}),
      ...organizationClaim(realm, user, scopes, isServiceAccount),
      ...(dpopBound ? { cnf: { jkt: cnf?.jkt } } : {}),
      scope: scopeClaim(scopes),
      ...(scopes.has("email") ? emailClaims(user) : {}),
      ...(scopes.has("profile") ? profileClaims(user) : {}),
      ...(isServiceAccount && scopes.has("service_account")
        ? {
            // Keycloak's `service_account` client scope, when the client has it (the demo realm's
            // clients list their scopes and leave it out, so Keycloak adds none of these).
            client_id: clientId,
            clientHost: ctx?.ip ?? "127.0.0.1",
            clientAddress: ctx?.ip ?? "127.0.0.1",
          }
        : {}),
    };
    if (client.attributes?.[LIGHTWEIGHT] === "true") {
      // Keycloak's introspection answers a lightweight token with the claims it was issued without.
      if (typeof jti === "string") remember?.(jti, parts.payload);
      const kept = realm.lightweightAudiences(clientId);
      parts.payload = {
        exp,
        iat,
        jti,
        iss,
        ...(kept.length === 0 ? {} : { aud: kept.length === 1 ? kept[0] : kept }),
        ...(isServiceAccount ? subject : {}),
        typ: dpopBound ? "DPoP" : "Bearer",
        azp: clientId,
        ...(sid ? { sid } : {}),
        // The binding is no optional claim: a lightweight token keeps it.
        ...(dpopBound ? { cnf: { jkt: cnf?.jkt } } : {}),
        scope: scopeClaim(scopes),
      };
      if (kept.length === 0) {
        // oidc-provider refuses to sign a JWT access token without aud; Keycloak's lightweight
        // tokens have none. A non-enumerable aud passes its check and stays out of the signed JSON.
        Object.defineProperty(parts.payload, "aud", { value: FALLBACK_AUDIENCE, enumerable: false, writable: true, configurable: true });
      }
    }
  };
}
