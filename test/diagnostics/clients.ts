/**
 * The realm's clients for the mismatches of issue 19, each set up the way the mismatch happens in
 * a real Keycloak: as Keycloak ClientRepresentations, which a realm file (the embedded provider)
 * and the Admin REST API (real Keycloak) take alike.
 */
import type { ClientCredentials } from "../helpers/oidc-client.js";

/** Keycloak's default client scopes, as the demo realm's clients list them. */
const DEFAULT_SCOPES = ["web-origins", "acr", "profile", "roles", "basic", "email"];

const audienceMapper = (lightweight: boolean) => ({
  name: "secured-api-audience",
  protocol: "openid-connect",
  protocolMapper: "oidc-audience-mapper",
  consentRequired: false,
  config: {
    "included.client.audience": "secured-api",
    "id.token.claim": "false",
    "access.token.claim": "true",
    "introspection.token.claim": "true",
    ...(lightweight ? { "lightweight.claim": "true" } : {}),
  },
});

const confidential = (client: ClientCredentials) => ({
  clientId: client.id,
  secret: client.secret,
  enabled: true,
  protocol: "openid-connect",
  publicClient: false,
  clientAuthenticatorType: "client-secret",
  standardFlowEnabled: false,
  implicitFlowEnabled: false,
  fullScopeAllowed: true,
});

/** Its tokens' aud lacks secured-api: no Audience mapper. */
export const NO_AUDIENCE: ClientCredentials = { id: "diag-no-audience", secret: "diag-no-audience-secret" };
/** Its users' tokens lack sub: no `basic` client scope (Keycloak 25+). */
export const NO_BASIC: ClientCredentials = { id: "diag-no-basic", secret: "diag-no-basic-secret" };
/** "Always use lightweight access token": no roles (its Audience mapper is marked for lightweight tokens, so aud stays). */
export const LIGHTWEIGHT: ClientCredentials = { id: "diag-lightweight", secret: "diag-lightweight-secret" };
/** Access token signature algorithm ES256, while KEYCLOAK_ALGORITHMS is RS256. */
export const ES256: ClientCredentials = { id: "diag-es256", secret: "diag-es256-secret" };

/** Realm roles of the lightweight client's service account: it would pass GET /admin with a full token. */
export const LIGHTWEIGHT_ROLES = ["admin"];

export const MISMATCH_CLIENTS: readonly Record<string, unknown>[] = [
  { ...confidential(NO_AUDIENCE), serviceAccountsEnabled: true, directAccessGrantsEnabled: false, defaultClientScopes: DEFAULT_SCOPES },
  {
    ...confidential(NO_BASIC),
    serviceAccountsEnabled: false,
    directAccessGrantsEnabled: true,
    protocolMappers: [audienceMapper(false)],
    defaultClientScopes: DEFAULT_SCOPES.filter((scope) => scope !== "basic"),
  },
  {
    ...confidential(LIGHTWEIGHT),
    serviceAccountsEnabled: true,
    directAccessGrantsEnabled: false,
    attributes: { "client.use.lightweight.access.token.enabled": "true" },
    protocolMappers: [audienceMapper(true)],
    defaultClientScopes: DEFAULT_SCOPES,
  },
  {
    ...confidential(ES256),
    serviceAccountsEnabled: true,
    directAccessGrantsEnabled: false,
    attributes: { "access.token.signed.response.alg": "ES256" },
    protocolMappers: [audienceMapper(false)],
    defaultClientScopes: DEFAULT_SCOPES,
  },
];
