/**
 * The provider under test: an issuer (real Keycloak, or the embedded provider) serving the demo
 * realm, the API in front of it under serverless-offline, and what the contract needs to do to
 * the realm the way its operator would (rotate signing keys). test/contract/contract.ts holds the
 * contract; test/e2e/contract-embedded.test.ts and test/keycloak/keycloak.test.ts bind it.
 */
import type { RunningStack } from "../../local/stack.js";
import type { ClientCredentials } from "../helpers/oidc-client.js";

/** The authorizer's key cache in the contract's stack: short, so a test can wait it out. */
export const CONTRACT_JWKS = { maxAgeSeconds: 6, cooldownSeconds: 2 } as const;

/** A confidential client with a service account and no audience mapper: its tokens lack secured-api. */
export const NO_AUDIENCE_CLIENT: ClientCredentials = { id: "no-audience-client", secret: "no-audience-secret" };

/**
 * The authorizer's revocation lookup cache in the contract's stack: a logout must show within it
 * (serverless-offline has no result cache of API Gateway's to add to it).
 */
export const CONTRACT_REVOCATION_CACHE_SECONDS = 2;

/** The protected handler's introspection cache in the contract's stack (strict routes). */
export const CONTRACT_INTROSPECTION_CACHE_SECONDS = 1;

/** A confidential client with "Always use lightweight access token": its users' tokens carry no aud, sub or roles. */
export const LIGHTWEIGHT_CLIENT: ClientCredentials = { id: "lightweight-client", secret: "lightweight-client-secret" };

/**
 * LIGHTWEIGHT_CLIENT as a Keycloak ClientRepresentation, which a realm file (the embedded
 * provider) and the Admin REST API (Keycloak) take alike: password grant, and an Audience mapper
 * for secured-api that is not marked "Add to lightweight access token" but is "Add to token introspection".
 */
export const LIGHTWEIGHT_CLIENT_REPRESENTATION = {
  clientId: LIGHTWEIGHT_CLIENT.id,
  secret: LIGHTWEIGHT_CLIENT.secret,
  enabled: true,
  protocol: "openid-connect",
  publicClient: false,
  clientAuthenticatorType: "client-secret",
  standardFlowEnabled: false,
  serviceAccountsEnabled: false,
  directAccessGrantsEnabled: true,
  fullScopeAllowed: true,
  attributes: { "client.use.lightweight.access.token.enabled": "true" },
  protocolMappers: [
    {
      name: "secured-api-audience",
      protocol: "openid-connect",
      protocolMapper: "oidc-audience-mapper",
      consentRequired: false,
      config: { "included.client.audience": "secured-api", "id.token.claim": "false", "access.token.claim": "true", "introspection.token.claim": "true" },
    },
  ],
  defaultClientScopes: ["web-origins", "acr", "profile", "roles", "basic", "email"],
};

/** The realm's confidential client with "Require DPoP bound tokens" (keycloak/realm-demo.json). */
export const DPOP_CLIENT: ClientCredentials = { id: "dpop-client", secret: "dpop-client-secret" };

/**
 * Environment for the contract's serverless-offline stack, whose origin is also the docs page's.
 * DPoP is `allowed`, so every bearer-token check of the contract runs with DPoP support on too.
 */
export function contractStackEnv(origin: string): Record<string, string> {
  return {
    CORS_ORIGINS: origin,
    KEYCLOAK_DPOP: "allowed",
    KEYCLOAK_JWKS_MAX_AGE_SECONDS: String(CONTRACT_JWKS.maxAgeSeconds),
    KEYCLOAK_JWKS_COOLDOWN_SECONDS: String(CONTRACT_JWKS.cooldownSeconds),
    KEYCLOAK_REVOCATION_CACHE_SECONDS: String(CONTRACT_REVOCATION_CACHE_SECONDS),
    KEYCLOAK_INTROSPECTION_CACHE_SECONDS: String(CONTRACT_INTROSPECTION_CACHE_SECONDS),
    // LIGHTWEIGHT_CLIENT's tokens reach the strict routes.
    KEYCLOAK_LIGHTWEIGHT_TOKENS: "true",
    // Keycloak's admin sign-out of a user with several sessions names one of them (docs/revocation.md).
    KEYCLOAK_LOGOUT_ENDS_ALL_SESSIONS: "true",
  };
}

/** The realm's signing keys, changed the way an operator changes them. */
export interface SigningKeys {
  /** The kid new access tokens are signed with. */
  active(): Promise<string>;
  /** A new RS256 key with a higher priority than any other: later tokens are signed with it. Its kid. */
  add(): Promise<string>;
  /** The key stops signing but stays published for verification (Keycloak: `active` off). */
  makePassive(kid: string): Promise<void>;
  /** The key is gone, from the JWKS too (Keycloak: the key provider deleted). */
  remove(kid: string): Promise<void>;
}

export interface ProviderUnderTest {
  /** File-name friendly: screenshots are named after it. */
  readonly kind: "embedded" | "keycloak";
  /** For test names: "the embedded provider", "Keycloak 26.4.2". */
  readonly label: string;
  readonly issuer: string;
  /** serverless-offline in front of the issuer, env from contractStackEnv(stack.baseUrl). */
  readonly stack: RunningStack;
  /** serverless-offline's output lines (the authorizer's decision logs among them). */
  readonly output: readonly string[];
  /** The api-docs client's redirect URIs and web origins allow stack.baseUrl. */
  readonly docsOrigin: string;
  /**
   * What the authorizer logs when handed this provider's refresh token: Keycloak's are HS512 JWTs
   * (refused on `alg`), the embedded provider's are opaque strings (refused as malformed).
   */
  readonly refreshTokenReason: "algorithm_not_allowed" | "malformed_token";
  readonly keys: SigningKeys;
  /** An administrator signs the user out of all sessions (Keycloak's admin console "Sign out"); undefined where the provider has no admin API. */
  readonly signOutUser: ((userId: string) => Promise<void>) | undefined;
  /** An administrator disables (or enables) the user; undefined where the provider has no admin API. */
  readonly setUserEnabled: ((userId: string, enabled: boolean) => Promise<void>) | undefined;
}
