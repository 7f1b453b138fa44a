import { DEFAULTS } from "./config.js";
import { ConfigError } from "./errors.js";

/** Configuration of the protected API functions (not the authorizer). */
export interface ApiConfig {
  /** The `realm` of `WWW-Authenticate` challenges, e.g. `demo`. */
  readonly realm: string;
  /** Origins allowed to call the API from a browser (`*` wildcards allowed in a label). */
  readonly corsOrigins: readonly string[];
  /** The authorizer's clock skew: the handler re-checks `exp` with the same allowance. */
  readonly clockSkewSeconds: number;
}

/**
 * Read once at cold start. The realm defaults to the last path segment of KEYCLOAK_ISSUER
 * (`.../realms/demo` -> `demo`).
 */
export function loadApiConfig(env: Readonly<Record<string, string | undefined>>): ApiConfig {
  const fromIssuer = env.KEYCLOAK_ISSUER?.replace(/\/+$/, "").split("/").pop();
  const realm = env.AUTH_REALM?.trim() || fromIssuer;
  if (realm === undefined || realm === "") {
    throw new ConfigError("AUTH_REALM (or KEYCLOAK_ISSUER) is required: the realm name used in WWW-Authenticate, e.g. demo");
  }
  const corsOrigins = (env.CORS_ORIGINS ?? "")
    .split(",")
    .map((origin) => origin.trim())
    .filter((origin) => origin !== "");
  const skew = env.KEYCLOAK_CLOCK_SKEW_SECONDS?.trim() || String(DEFAULTS.clockSkewSeconds);
  const clockSkewSeconds = /^\d+$/.test(skew) ? Number(skew) : Number.NaN;
  if (!(clockSkewSeconds <= 60)) throw new ConfigError(`KEYCLOAK_CLOCK_SKEW_SECONDS must be a whole number from 0 to 60, got "${skew}"`);
  return Object.freeze({ realm, corsOrigins: Object.freeze(corsOrigins), clockSkewSeconds });
}
