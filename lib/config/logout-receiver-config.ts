/**
 * The back-channel logout receiver's configuration (functions/backchannel-logout.ts): read once at
 * cold start. Its keys are the authorizer's (same trusted issuers and realm bounds, JWKS, algorithm allow-list, key rules and
 * skew: the definitions are shared, not copied), plus the clients whose logouts it accepts and the
 * table it writes.
 */
import { ConfigError } from "../errors.js";
import { AUTHORIZER_SETTINGS, checkJwksUri, type SupportedAlgorithm } from "./authorizer-config.js";
import { MAX_TOKEN_LIFETIME_SECONDS, REVOCATION_ENDPOINT, REVOCATION_TABLE, REVOCATION_TIMEOUT_MS } from "./revocation-settings.js";
import { flag, integer, list, readSettings, type Env, type SettingValues } from "./settings.js";

const A = AUTHORIZER_SETTINGS;

export const LOGOUT_RECEIVER_SETTINGS = {
  issuers: A.issuers,
  realmsAllow: A.realmsAllow,
  realmsDeny: A.realmsDeny,
  logoutClients: list("KEYCLOAK_LOGOUT_CLIENTS", {
    doc: "the logout token's `aud` must be one of these: the realm's clients whose back-channel logout URL is this receiver (the clients users log in with, not the API's own)",
    required: true,
    example: "api-client,api-docs",
  }),
  revocationTable: { ...REVOCATION_TABLE, shown: "(required)", read: (env: Env) => requiredTable(env) },
  revocationEndpoint: REVOCATION_ENDPOINT,
  revocationTimeoutMs: REVOCATION_TIMEOUT_MS,
  logoutTokenMaxAgeSeconds: integer("KEYCLOAK_LOGOUT_TOKEN_MAX_AGE_SECONDS", {
    doc: "a logout token whose `iat` is older than this (beyond the skew) is refused as stale; Keycloak sends its tokens at once",
    fallback: 120,
    min: 10,
    max: 3600,
    unit: "s",
  }),
  maxTokenLifetimeSeconds: MAX_TOKEN_LIFETIME_SECONDS,
  logoutEndsAllSessions: flag("KEYCLOAK_LOGOUT_ENDS_ALL_SESSIONS", {
    doc: "a logout token with `sub` ends every session of that user (tokens issued at or before it), not only its `sid`'s: for Keycloak 26, which, when an administrator signs out a user with several sessions, sends one logout token naming one of them (keycloak/keycloak#22914)",
    fallback: false,
  }),
  jwksUri: A.jwksUri,
  algorithms: A.algorithms,
  clockSkewSeconds: A.clockSkewSeconds,
  allowHttp: A.allowHttp,
  fetchTimeoutMs: A.fetchTimeoutMs,
  jwksMaxAgeSeconds: A.jwksMaxAgeSeconds,
  jwksCooldownSeconds: A.jwksCooldownSeconds,
  jwksMaxStaleSeconds: A.jwksMaxStaleSeconds,
  ecdsaAllowHighS: A.ecdsaAllowHighS,
  maxRealms: A.maxRealms,
  realmDiscoveriesPerSecond: A.realmDiscoveriesPerSecond,
  unknownRealmSeconds: A.unknownRealmSeconds,
} as const;

function requiredTable(env: Env): string {
  const table = REVOCATION_TABLE.read(env);
  if (table === undefined) throw new ConfigError("KEYCLOAK_REVOCATION_TABLE is required: the DynamoDB table the receiver records logouts in");
  return table;
}

export type LogoutReceiverConfig = SettingValues<typeof LOGOUT_RECEIVER_SETTINGS> & { readonly algorithms: readonly SupportedAlgorithm[] };

export function loadLogoutReceiverConfig(env: Env): LogoutReceiverConfig {
  const config = readSettings(LOGOUT_RECEIVER_SETTINGS, env) as LogoutReceiverConfig;
  checkJwksUri(config);
  return config;
}
