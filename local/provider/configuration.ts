/**
 * oidc-provider configuration derived from the realm file: clients, lifespans, claims, routes (Keycloak's
 * paths under the issuer), and the hooks that make tokens look like Keycloak's.
 */
import type { Configuration, ResourceServer } from "oidc-provider";
import type { Accounts } from "./accounts.js";
import { originAllowed, pkceRequired, toClientMetadata, tokenClients } from "./clients.js";
import type { KeyRing } from "./keys.js";
import type { Realm } from "./realm.js";
import { KNOWN_SCOPES } from "./scopes.js";
import { accessTokenCustomizer, audienceFor } from "./token-claims.js";

/**
 * Keycloak has no resource indicators: every access token is a JWT for the realm. oidc-provider only
 * issues JWT access tokens for a resource server, so all tokens are issued for this one internal
 * indicator; the `aud` clients see comes from the realm's audience mappers instead.
 */
export const REALM_RESOURCE = "urn:local-keycloak:access-token";

/** Keycloak's OIDC endpoints, relative to the issuer (which is `<origin>/realms/<realm>`). */
export const ROUTES = {
  authorization: "/protocol/openid-connect/auth",
  token: "/protocol/openid-connect/token",
  jwks: "/protocol/openid-connect/certs",
  userinfo: "/protocol/openid-connect/userinfo",
  end_session: "/protocol/openid-connect/logout",
  revocation: "/protocol/openid-connect/revoke",
  introspection: "/protocol/openid-connect/token/introspect",
  pushed_authorization_request: "/protocol/openid-connect/ext/par/request",
} as const;

/** What Keycloak 26.4.2 advertises as dpop_signing_alg_values_supported. */
const KEYCLOAK_DPOP_ALGORITHMS = ["PS384", "RS384", "EdDSA", "ES384", "ES256", "RS256", "ES512", "PS256", "PS512", "RS512"] as const;

export interface ConfigurationDeps {
  realm: Realm;
  accounts: Accounts;
  keys: KeyRing;
  cookieKeys: string[];
  /** Absolute path of the login pages, e.g. `/realms/demo/login-actions`. */
  interactionsPath: string;
  /** Told the full claims of each lightweight access token, for introspection (introspection.ts). */
  rememberLightweight?: (jti: string, claims: Record<string, unknown>) => void;
}

/** Keycloak's client attribute for the access token signature algorithm (Advanced > Fine grain OpenID Connect configuration). */
export const ACCESS_TOKEN_ALG = "access.token.signed.response.alg";

export function resourceServerInfo(realm: Realm, clientId: string): ResourceServer {
  const client = realm.client(clientId);
  const lifespan = Number(client?.attributes?.["access.token.lifespan"]) || realm.lifespans.accessToken;
  const [audience] = audienceFor(realm, clientId);
  return {
    audience,
    scope: KNOWN_SCOPES.join(" "),
    accessTokenFormat: "jwt",
    accessTokenTTL: lifespan,
    jwt: { sign: { alg: client?.attributes?.[ACCESS_TOKEN_ALG] === "ES256" ? "ES256" : "RS256" } },
  };
}

export function buildConfiguration(deps: ConfigurationDeps): Configuration {
  const { realm, accounts } = deps;
  const { lifespans } = realm;
  return {
    clients: tokenClients(realm).map(toClientMetadata),
    jwks: deps.keys.toPrivateJwks() as unknown as Configuration["jwks"],
    cookies: { keys: deps.cookieKeys },
    findAccount: accounts.findAccount,
    routes: ROUTES,
    scopes: KNOWN_SCOPES,
    responseTypes: ["code", "none"],
    claims: {
      // `typ` is listed so the ID token's typ "ID" (see accounts.ts) survives claim filtering.
      openid: ["sub", "typ"],
      profile: ["name", "preferred_username", "given_name", "family_name"],
      email: ["email", "email_verified"],
    },
    // Keycloak puts profile and email claims into the ID token, not only into userinfo.
    conformIdTokenClaims: false,
    pkce: { required: (_ctx, client) => pkceRequired(realm.client(client.clientId)) },
    clientBasedCORS: (_ctx, origin, client) => {
      const realmClient = realm.client(client.clientId);
      return realmClient !== undefined && originAllowed(realmClient, origin);
    },
    // Keycloak issues refresh tokens for every user login, without offline_access.
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed("refresh_token"),
    rotateRefreshToken: realm.revokeRefreshToken,
    interactions: { url: (_ctx, interaction) => `${deps.interactionsPath}/${interaction.uid}` },
    // No consent screens, as for Keycloak clients without "consent required": grant what may be asked.
    loadExistingGrant: async (ctx) => {
      const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session?.grantIdFor(ctx.oidc.client?.clientId ?? "");
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const accountId = ctx.oidc.session?.accountId;
      const clientId = ctx.oidc.client?.clientId;
      if (!accountId || !clientId) return undefined;
      const grant = new ctx.oidc.provider.Grant({ accountId, clientId });
      grant.addOIDCScope(KNOWN_SCOPES.join(" "));
      grant.addResourceScope(REALM_RESOURCE, KNOWN_SCOPES.join(" "));
      await grant.save();
      return grant;
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      // Needed for the RSA-OAEP key to be accepted into (and published from) the key set.
      encryption: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      // Keycloak's "Backchannel logout URL" per client (clients.ts); the token itself is Keycloak's (backchannel-logout.ts).
      backchannelLogout: { enabled: true },
      userinfo: { enabled: true },
      // Advertised in discovery as Keycloak does; answered by introspection.ts, which knows Keycloak's tokens.
      introspection: { enabled: true },
      dPoP: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => REALM_RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, _resource, client) => resourceServerInfo(realm, client.clientId),
      },
    },
    // DPoP (RFC 9449) as Keycloak 26.4 has it: no server nonces, proofs signed with any asymmetric
    // algorithm it verifies (its discovery's dpop_signing_alg_values_supported).
    enabledJWA: { dPoPSigningAlgValues: [...KEYCLOAK_DPOP_ALGORITHMS] },
    formats: { customizers: { jwt: accessTokenCustomizer(realm, deps.rememberLightweight) } },
    ttl: {
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? lifespans.accessToken,
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? lifespans.accessToken,
      AuthorizationCode: lifespans.accessCode,
      IdToken: lifespans.accessToken,
      // Keycloak's refresh token expires with the SSO session's idle timeout.
      RefreshToken: Math.min(lifespans.ssoSessionIdle, lifespans.ssoSessionMax),
      Interaction: lifespans.login,
      Session: lifespans.ssoSessionMax,
      Grant: lifespans.ssoSessionMax,
    },
    renderError: (ctx, out) => {
      ctx.type = "html";
      const text = Object.entries(out)
        .map(([k, v]) => `<p><strong>${k}</strong>: ${String(v).replace(/[<>&"]/g, "")}</p>`)
        .join("");
      ctx.body = `<!doctype html><html><head><title>Error</title></head><body><h1>We are sorry...</h1>${text}</body></html>`;
    },
  };
}
