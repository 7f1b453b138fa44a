import { ConfigError } from "./errors.js";

/** Algorithms aws-jwt-verify can check; the allow-list is a subset of these. */
export const SUPPORTED_ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "EdDSA"] as const;
export type SupportedAlgorithm = (typeof SUPPORTED_ALGORITHMS)[number];

/** The validated, frozen configuration of the authorizer. Build it once, at cold start. */
export interface AuthorizerConfig {
  /** Exact expected `iss`, e.g. `http://localhost:8080/realms/demo`. */
  readonly issuer: string;
  /** `aud` must contain at least one of these. */
  readonly audiences: readonly string[];
  /** Overrides OIDC discovery when set. */
  readonly jwksUri: string | undefined;
  /** When non-empty, `azp` must be one of these. */
  readonly allowedClients: readonly string[];
  readonly algorithms: readonly SupportedAlgorithm[];
  readonly clockSkewSeconds: number;
  /** Allow plain http:// key fetching from non-loopback hosts (never do this in production). */
  readonly allowHttp: boolean;
  /** Tokens longer than this are rejected before any parsing or crypto. */
  readonly maxTokenBytes: number;
  /** Per-fetch budget (connect + response) for discovery and JWKS requests. */
  readonly fetchTimeoutMs: number;
  /** Keys older than this are refreshed before use. */
  readonly jwksMaxAgeSeconds: number;
  /** At most one refetch for unknown `kid`s per this many seconds. */
  readonly jwksCooldownSeconds: number;
  /** When a refresh fails, known keys stay usable this long past their max age. */
  readonly jwksMaxStaleSeconds: number;
  /** Most verified tokens remembered per instance, so a repeated token skips the RSA check; 0 disables. */
  readonly tokenCacheSize: number;
  /** The claim that names the caller (REST `principalId`); tokens without it as a non-empty string are refused. */
  readonly principalClaim: string;
  /** Accept ECDSA signatures with s > n/2 too (Keycloak's Java signer does not normalise s); tokens become malleable. */
  readonly ecdsaAllowHighS: boolean;
}

/** Documented defaults; the README's configuration table lists the same values. */
export const DEFAULTS = {
  algorithms: ["RS256"] as const,
  clockSkewSeconds: 30,
  maxTokenBytes: 16 * 1024,
  fetchTimeoutMs: 3000,
  jwksMaxAgeSeconds: 600,
  jwksCooldownSeconds: 30,
  jwksMaxStaleSeconds: 3600,
  tokenCacheSize: 1000,
  principalClaim: "sub",
} as const;

const MAX_CLOCK_SKEW_SECONDS = 60;

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Read and validate the environment once. Throws {@link ConfigError} naming the variable and the fix.
 *
 * @example
 * const config = loadConfig(process.env); // module scope, so a bad deploy fails at cold start
 */
export function loadConfig(env: Env): AuthorizerConfig {
  const issuer = requireUrl(env, "KEYCLOAK_ISSUER", "e.g. http://localhost:8080/realms/demo");
  const audiences = list(env, "KEYCLOAK_AUDIENCE");
  if (audiences.length === 0) {
    throw new ConfigError("KEYCLOAK_AUDIENCE is required: a comma-separated list of accepted `aud` values, e.g. secured-api");
  }
  const jwksUri = optional(env, "KEYCLOAK_JWKS_URI");
  if (jwksUri !== undefined) parseUrl("KEYCLOAK_JWKS_URI", jwksUri, "an absolute http(s) URL of the realm's certs endpoint");

  const algorithms = list(env, "KEYCLOAK_ALGORITHMS");
  for (const alg of algorithms) {
    if (!(SUPPORTED_ALGORITHMS as readonly string[]).includes(alg)) {
      throw new ConfigError(`KEYCLOAK_ALGORITHMS contains "${alg}": use a comma-separated subset of ${SUPPORTED_ALGORITHMS.join(", ")}`);
    }
  }

  return Object.freeze({
    issuer,
    audiences: Object.freeze(audiences),
    jwksUri,
    allowedClients: Object.freeze(list(env, "KEYCLOAK_ALLOWED_CLIENTS")),
    algorithms: Object.freeze(algorithms.length > 0 ? (algorithms as SupportedAlgorithm[]) : [...DEFAULTS.algorithms]),
    clockSkewSeconds: integer(env, "KEYCLOAK_CLOCK_SKEW_SECONDS", DEFAULTS.clockSkewSeconds, 0, MAX_CLOCK_SKEW_SECONDS),
    allowHttp: boolean(env, "KEYCLOAK_ALLOW_HTTP", false),
    maxTokenBytes: integer(env, "KEYCLOAK_MAX_TOKEN_BYTES", DEFAULTS.maxTokenBytes, 512, 1024 * 1024),
    fetchTimeoutMs: integer(env, "KEYCLOAK_FETCH_TIMEOUT_MS", DEFAULTS.fetchTimeoutMs, 100, 30_000),
    jwksMaxAgeSeconds: integer(env, "KEYCLOAK_JWKS_MAX_AGE_SECONDS", DEFAULTS.jwksMaxAgeSeconds, 1, 86_400),
    jwksCooldownSeconds: integer(env, "KEYCLOAK_JWKS_COOLDOWN_SECONDS", DEFAULTS.jwksCooldownSeconds, 0, 3600),
    jwksMaxStaleSeconds: integer(env, "KEYCLOAK_JWKS_MAX_STALE_SECONDS", DEFAULTS.jwksMaxStaleSeconds, 0, 86_400),
    tokenCacheSize: integer(env, "KEYCLOAK_TOKEN_CACHE_SIZE", DEFAULTS.tokenCacheSize, 0, 100_000),
    principalClaim: optional(env, "KEYCLOAK_PRINCIPAL_CLAIM") ?? DEFAULTS.principalClaim,
    ecdsaAllowHighS: boolean(env, "KEYCLOAK_ECDSA_ALLOW_HIGH_S", false),
  });
}

function optional(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === "" ? undefined : value;
}

function list(env: Env, name: string): string[] {
  const value = optional(env, name);
  if (value === undefined) return [];
  const items = value.split(",").map((item) => item.trim());
  if (items.some((item) => item === "")) {
    throw new ConfigError(`${name} has an empty entry: write a comma-separated list without empty items`);
  }
  return items;
}

function requireUrl(env: Env, name: string, example: string): string {
  const value = optional(env, name);
  if (value === undefined) throw new ConfigError(`${name} is required (${example})`);
  parseUrl(name, value, example);
  return value;
}

function parseUrl(name: string, value: string, hint: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch (cause) {
    throw new ConfigError(`${name} is not a valid URL: use ${hint}`, { cause });
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new ConfigError(`${name} must be an http(s) URL: use ${hint}`);
  }
  return url;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = optional(env, name);
  if (value === undefined) return fallback;
  const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max} (default ${fallback}), got "${value}"`);
  }
  return parsed;
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const value = optional(env, name);
  if (value === undefined) return fallback;
  if (value === "true") return true;
  if (value === "false") return false;
  throw new ConfigError(`${name} must be "true" or "false", got "${value}"`);
}
