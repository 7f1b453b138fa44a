/**
 * A verifier and an authorizer whose realm keys are preloaded in memory: no server, no port, for
 * tests of a route table or of the authorizer's answers. The verifier is the real one (the same
 * checks, the same key rules); only the fetching of discovery and the JWKS is replaced.
 */
import { createAuthorizerHandler, type AuthorizerHandler } from "../authorizer/authorizer-handler.js";
import { loadAuthorizerConfig, type AuthorizerConfig } from "../config/authorizer-config.js";
import { KeysUnavailableError } from "../errors.js";
import { discoveryUrl } from "../keys/discovery.js";
import type { FetchJson } from "../keys/fetch-json.js";
import { JwksCache } from "../keys/jwks-cache.js";
import type { RouteTable } from "../routes/route.js";
import { createAccessTokenVerifier, type AccessTokenVerifier } from "../token/access-token-verifier.js";
import { TEST_AUDIENCE } from "./tokens.js";

export interface PreloadedRealm {
  /** The realm's exact `iss`, e.g. `https://keycloak.example.com/realms/demo` (nothing is fetched from it). */
  readonly issuer: string;
  /** Public JWKs as the realm publishes them (`generateRsaKey().jwk`). */
  readonly keys: readonly Record<string, unknown>[];
  /** Authorizer settings (KEYCLOAK_AUDIENCE defaults to secured-api), as the function's environment would hold them. */
  readonly env?: Readonly<Record<string, string>>;
}

/** Discovery and the JWKS of `issuer`, answered from memory; any other URL fails as an unreachable realm would. */
export function preloadedJwks(issuer: string, keys: readonly Record<string, unknown>[]): FetchJson {
  const certs = `${issuer}/protocol/openid-connect/certs`;
  return async (url) => {
    if (url === discoveryUrl(issuer)) return { issuer, jwks_uri: certs };
    if (url === certs) return { keys };
    throw new KeysUnavailableError(`no preloaded document for ${url}`);
  };
}

/** The authorizer's configuration for a preloaded realm. */
export function preloadedConfig(realm: PreloadedRealm): AuthorizerConfig {
  return loadAuthorizerConfig({ KEYCLOAK_ISSUER: realm.issuer, KEYCLOAK_AUDIENCE: TEST_AUDIENCE, ...realm.env });
}

/** The real access-token verifier, with the realm's keys preloaded. */
export function createTestVerifier(realm: PreloadedRealm): AccessTokenVerifier {
  const config = preloadedConfig(realm);
  const jwksCache = new JwksCache({
    issuer: realm.issuer,
    jwksUri: config.jwksUri,
    fetchJson: preloadedJwks(realm.issuer, realm.keys),
    maxAgeMs: config.jwksMaxAgeSeconds * 1000,
    cooldownMs: config.jwksCooldownSeconds * 1000,
    maxStaleMs: config.jwksMaxStaleSeconds * 1000,
  });
  return createAccessTokenVerifier(config, { jwksCache });
}

/** The real authorizer (REST policies from `routes`, HTTP API simple responses), with the realm's keys preloaded. */
export function createTestAuthorizer(routes: RouteTable, realm: PreloadedRealm): AuthorizerHandler {
  return createAuthorizerHandler({ verifier: createTestVerifier(realm), routes });
}
