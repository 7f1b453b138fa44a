/**
 * The authorizer function's configuration: every setting, its default and its meaning, in one
 * record. Read once, at cold start (functions/authorizer.ts); docs/configuration.md is generated
 * from this record.
 */
import { ConfigError } from "../errors.js";
import { flag, integer, list, readSettings, text, url, type Env, type Setting, type SettingValues } from "./settings.js";
import { REALM_SETTINGS } from "./realm-settings.js";
import { CLOCK_SKEW_SECONDS, ISSUERS, REALMS_ALLOW, REALMS_DENY } from "./shared-settings.js";
import { REVOCATION_SETTINGS } from "./revocation-settings.js";
import type { TrustedIssuers } from "./trusted-issuers.js";
import { DPOP_SETTINGS } from "./dpop-settings.js";

/** Algorithms the verifier can check; the allow-list is a subset of these. */
export const SUPPORTED_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"] as const;
export type SupportedAlgorithm = (typeof SUPPORTED_ALGORITHMS)[number];

export const AUTHORIZER_SETTINGS = {
  issuers: ISSUERS,
  realmsAllow: REALMS_ALLOW,
  realmsDeny: REALMS_DENY,
  audiences: list("KEYCLOAK_AUDIENCE", {
    doc: "`aud` must contain one of these (add an Audience mapper in Keycloak)",
    required: true,
    example: "secured-api",
  }),
  jwksUri: url("KEYCLOAK_JWKS_URI", {
    doc: "skip discovery and fetch the realm's keys here",
    example: "https://keycloak.example.com/realms/demo/protocol/openid-connect/certs",
  }),
  allowedClients: list("KEYCLOAK_ALLOWED_CLIENTS", { doc: "when set, `azp` must be one of these clients" }),
  algorithms: list("KEYCLOAK_ALGORITHMS", {
    doc: `the \`alg\` allow-list, a subset of ${SUPPORTED_ALGORITHMS.join(", ")}`,
    fallback: ["RS256"],
    allowed: SUPPORTED_ALGORITHMS,
  }),
  clockSkewSeconds: CLOCK_SKEW_SECONDS,
  allowHttp: flag("KEYCLOAK_ALLOW_HTTP", {
    doc: "allow plain `http://` key fetching from non-loopback hosts (loopback is always allowed; never in production)",
    fallback: false,
  }),
  maxTokenBytes: integer("KEYCLOAK_MAX_TOKEN_BYTES", {
    doc: "longer tokens are refused before any parsing",
    fallback: 16 * 1024,
    min: 512,
    max: 1024 * 1024,
    unit: "bytes",
  }),
  fetchTimeoutMs: integer("KEYCLOAK_FETCH_TIMEOUT_MS", {
    doc: "the whole budget of one discovery or JWKS fetch",
    fallback: 3000,
    min: 100,
    max: 30_000,
    unit: "ms",
  }),
  jwksMaxAgeSeconds: integer("KEYCLOAK_JWKS_MAX_AGE_SECONDS", {
    doc: "keys older than this are refreshed before use: the longest a withdrawn key keeps verifying",
    fallback: 600,
    min: 1,
    max: 86_400,
    unit: "s",
  }),
  jwksCooldownSeconds: integer("KEYCLOAK_JWKS_COOLDOWN_SECONDS", {
    doc: "at most one refetch for unknown `kid`s per this period, per instance",
    fallback: 30,
    min: 0,
    max: 3600,
    unit: "s",
  }),
  jwksMaxStaleSeconds: integer("KEYCLOAK_JWKS_MAX_STALE_SECONDS", {
    doc: "when a refresh fails, known keys stay usable this long past their max age",
    fallback: 3600,
    min: 0,
    max: 86_400,
    unit: "s",
  }),
  tokenCacheSize: integer("KEYCLOAK_TOKEN_CACHE_SIZE", {
    doc: "verified tokens remembered per instance, so a repeated token skips parsing and the signature check; 0 disables",
    fallback: 1000,
    min: 0,
    max: 100_000,
  }),
  principalClaim: principalClaim(),
  lightweightTokens: flag("KEYCLOAK_LIGHTWEIGHT_TOKENS", {
    doc: "accept Keycloak's lightweight access tokens (no `aud` claim at all; no `sub`, no roles) on strict routes (`introspect: true`) only, which judge them on Keycloak's introspection answer; every other route refuses them",
    fallback: false,
  }),
  ecdsaAllowHighS: flag("KEYCLOAK_ECDSA_ALLOW_HIGH_S", {
    doc: "accept high-S ECDSA signatures too: Keycloak's Java signer does not normalise s, so a realm signing with ES* needs `true` (its tokens then have two spellings)",
    fallback: false,
  }),
  logClaims: list("KEYCLOAK_LOG_CLAIMS", { doc: "claims written into DEBUG decision logs, e.g. `sub,azp`" }),
  refusalLogsPerSecond: integer("KEYCLOAK_REFUSAL_LOGS_PER_SECOND", {
    doc: "WARN lines per refusal reason per second, at most; the rest are counted (metric `Refused`) and the next line says how many were left out",
    fallback: 10,
    min: 1,
    max: 10_000,
  }),
  ...REALM_SETTINGS,
  ...REVOCATION_SETTINGS,
  ...DPOP_SETTINGS,
} as const;

/** Claims that many callers share: as a principal they would merge users again. */
const SHARED_CLAIMS = new Set(["azp", "aud", "iss", "typ", "scope", "acr", "iat", "exp", "nbf", "auth_time", "session_state", "allowed-origins"]);

function principalClaim(): Setting<string> {
  const setting = text("KEYCLOAK_PRINCIPAL_CLAIM", {
    doc: "the claim that names the caller (REST `principalId`); tokens without it as a non-empty string are refused. A per-caller claim: `sub`, `preferred_username`, `email`",
    fallback: "sub",
  });
  return {
    ...setting,
    read(env) {
      const name = setting.read(env);
      if (SHARED_CLAIMS.has(name))
        throw new ConfigError(`KEYCLOAK_PRINCIPAL_CLAIM cannot be "${name}": many callers share it. Use a per-caller claim such as sub`);
      return name;
    },
  };
}

/** The validated, frozen configuration of the authorizer. */
export type AuthorizerConfig = SettingValues<typeof AUTHORIZER_SETTINGS> & { readonly algorithms: readonly SupportedAlgorithm[] };

/** KEYCLOAK_JWKS_URI replaces one realm's discovery: it cannot stand for several realms. */
export function checkJwksUri(config: { readonly jwksUri: string | undefined; readonly issuers: TrustedIssuers }): void {
  if (config.jwksUri !== undefined && config.issuers.single === undefined) {
    throw new ConfigError(
      "KEYCLOAK_JWKS_URI names one realm's keys: use it only with exactly one exact KEYCLOAK_ISSUER (realms of a pattern are found by discovery)",
    );
  }
}

/**
 * Read and validate the environment once. Throws ConfigError naming the variable and the fix.
 *
 * @example
 * const config = loadAuthorizerConfig(process.env); // module scope: a bad deploy fails at cold start
 */
export function loadAuthorizerConfig(env: Env): AuthorizerConfig {
  const config = readSettings(AUTHORIZER_SETTINGS, env) as AuthorizerConfig;
  checkJwksUri(config);
  for (const realm of config.realmRules.keys()) {
    if (config.issuers.exact.every((trusted) => trusted.name !== realm) && config.issuers.patterns.length === 0) {
      throw new ConfigError(`KEYCLOAK_REALM_RULES names realm "${realm}", which no KEYCLOAK_ISSUER entry trusts`);
    }
  }
  return config;
}
