/**
 * One trusted realm's key cache, as the access-token verifier and the logout receiver both build
 * it: the realm's own discovery and JWKS, with the configured cache policy. A realm of a
 * `{realm}` pattern always goes through discovery (never the fixed KEYCLOAK_JWKS_URI), and its
 * JWKS must be on its issuer's origin.
 */
import type { TrustedRealm } from "../config/trusted-issuers.js";
import type { FetchJson } from "./fetch-json.js";
import { JwksCache, type KeyFetch } from "./jwks-cache.js";

/** The key settings both functions read (lib/config/authorizer-config.ts defines them). */
export interface RealmKeySettings {
  readonly jwksUri: string | undefined;
  readonly jwksMaxAgeSeconds: number;
  readonly jwksCooldownSeconds: number;
  readonly jwksMaxStaleSeconds: number;
}

export function realmJwksCache(realm: TrustedRealm, settings: RealmKeySettings, fetchJson: FetchJson, onFetch?: (fetch: KeyFetch) => void): JwksCache {
  return new JwksCache({
    issuer: realm.issuer,
    jwksUri: realm.fromPattern ? undefined : settings.jwksUri,
    sameOriginKeys: realm.fromPattern,
    fetchJson,
    maxAgeMs: settings.jwksMaxAgeSeconds * 1000,
    cooldownMs: settings.jwksCooldownSeconds * 1000,
    maxStaleMs: settings.jwksMaxStaleSeconds * 1000,
    ...(onFetch === undefined ? {} : { onFetch }),
  });
}
