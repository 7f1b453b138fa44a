/**
 * Which issuers the authorizer trusts: `KEYCLOAK_ISSUER` as a comma-separated list of exact
 * issuers (`https://id.example.com/realms/demo`) and patterns for the realms of one Keycloak, with
 * `{realm}` as the last path segment (`https://id.example.com/realms/{realm}`), narrowed by an
 * optional allow-list or deny-list of realm names.
 *
 * Why this is strict: a token's `iss` decides where keys are fetched from. It is matched here
 * before anything is fetched, and a pattern only ever yields `<configured prefix><realm name>`,
 * where the name is 1 to 64 of `A-Z a-z 0-9 _ - .` (not starting with a dot): no `/`, `%`, `@`,
 * `:`, `?`, `#`, `\`, spaces or other characters, so a token can aim a fetch at no other host,
 * port, scheme or path than the configured Keycloak's `/realms/<name>`.
 */
import { ConfigError } from "../errors.js";
import { parseHttpUrl, type Env, type Setting } from "./settings.js";

/** A realm the token's issuer was matched to. */
export interface TrustedRealm {
  /** The exact issuer: what `iss` equals, and what discovery's `issuer` must equal. */
  readonly issuer: string;
  /** The realm's name: the issuer's last path segment. */
  readonly name: string;
  /** True when the issuer came from a `{realm}` pattern (realms that can come and go). */
  readonly fromPattern: boolean;
}

export interface TrustedIssuers {
  /** The realm for a token's (still unverified) `iss`, or undefined: then no fetch may happen. */
  match(iss: unknown): TrustedRealm | undefined;
  /** The exact issuers configured, in order (no patterns). */
  readonly exact: readonly TrustedRealm[];
  /** The patterns configured, as written (`https://id.example.com/realms/{realm}`). */
  readonly patterns: readonly string[];
  /** The one issuer when exactly one exact issuer and no pattern is configured. */
  readonly single: TrustedRealm | undefined;
}

/** A Keycloak realm name as a pattern accepts it. */
export const REALM_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/;

const PLACEHOLDER = "{realm}";

/** The name of the realm an issuer names: its last path segment. */
export function realmNameOf(issuer: string): string {
  return issuer.slice(issuer.lastIndexOf("/") + 1);
}

/** Parse the issuer list; throws ConfigError naming the variable and the fix. */
export function parseTrustedIssuers(value: string, allow: readonly string[], deny: readonly string[]): TrustedIssuers {
  const entries = value.split(",").map((entry) => entry.trim());
  if (entries.some((entry) => entry === "")) throw new ConfigError("KEYCLOAK_ISSUER has an empty entry: write a comma-separated list without empty items");
  const exact = new Map<string, TrustedRealm>();
  const prefixes: string[] = [];
  for (const entry of entries) {
    if (entry.includes(PLACEHOLDER)) prefixes.push(patternPrefix(entry));
    else {
      const issuer = exactIssuer(entry);
      exact.set(issuer, Object.freeze({ issuer, name: realmNameOf(issuer), fromPattern: false }));
    }
  }
  for (const name of [...allow, ...deny]) {
    if (!REALM_NAME.test(name))
      throw new ConfigError(`KEYCLOAK_REALMS_ALLOW/KEYCLOAK_REALMS_DENY: "${name}" is not a realm name (1 to 64 of A-Z a-z 0-9 _ - .)`);
  }
  const allowed: ReadonlySet<string> = new Set(allow);
  const denied: ReadonlySet<string> = new Set(deny);
  const permitted = (name: string): boolean => !denied.has(name) && (allowed.size === 0 || allowed.has(name));
  for (const realm of exact.values()) {
    if (!permitted(realm.name))
      throw new ConfigError(`KEYCLOAK_ISSUER names ${realm.issuer}, whose realm "${realm.name}" the allow-list or deny-list excludes`);
  }
  const exactList = Object.freeze([...exact.values()]);
  const patterns = Object.freeze(prefixes.map((prefix) => `${prefix}${PLACEHOLDER}`));
  return Object.freeze({
    exact: exactList,
    patterns,
    single: exactList.length === 1 && prefixes.length === 0 ? exactList[0] : undefined,
    match(iss: unknown): TrustedRealm | undefined {
      if (typeof iss !== "string") return undefined;
      const known = exact.get(iss);
      if (known !== undefined) return known;
      for (const prefix of prefixes) {
        if (iss.length <= prefix.length || !iss.startsWith(prefix)) continue;
        const name = iss.slice(prefix.length);
        if (REALM_NAME.test(name) && permitted(name)) return { issuer: iss, name, fromPattern: true };
      }
      return undefined;
    },
  });
}

/** An exact issuer: an absolute http(s) URL without query, fragment, credentials or trailing slash. */
function exactIssuer(entry: string): string {
  const url = parseHttpUrl("KEYCLOAK_ISSUER", entry, "https://keycloak.example.com/realms/demo");
  if (url.search !== "" || url.hash !== "" || url.username !== "" || url.password !== "") {
    throw new ConfigError(`KEYCLOAK_ISSUER entry ${entry} has a query, fragment or credentials: write the issuer exactly as tokens carry it in iss`);
  }
  // Tokens carry Keycloak's issuer without a trailing slash; one here would match no token.
  return entry.replace(/\/+$/, "");
}

/** `https://id.example.com/realms/{realm}` -> `https://id.example.com/realms/`, checked. */
function patternPrefix(entry: string): string {
  const fix = "write it as https://<keycloak host>/realms/{realm}";
  if (entry.indexOf(PLACEHOLDER) !== entry.lastIndexOf(PLACEHOLDER) || !entry.endsWith(`/${PLACEHOLDER}`)) {
    throw new ConfigError(`KEYCLOAK_ISSUER pattern ${entry}: {realm} must be the last path segment, once: ${fix}`);
  }
  const prefix = entry.slice(0, -PLACEHOLDER.length);
  const url = parseHttpUrl("KEYCLOAK_ISSUER", `${prefix}x`, "https://keycloak.example.com/realms/{realm}");
  if (url.search !== "" || url.hash !== "" || url.username !== "" || url.password !== "" || `${url.origin}${url.pathname}` !== `${prefix}x`) {
    throw new ConfigError(`KEYCLOAK_ISSUER pattern ${entry} is not a plain URL before {realm}: ${fix}`);
  }
  return prefix;
}

/** The `KEYCLOAK_ISSUER` setting (with its allow- and deny-lists read from the same environment). */
export function trustedIssuersSetting(options: { allow: Setting<readonly string[]>; deny: Setting<readonly string[]> }): Setting<TrustedIssuers> {
  return {
    name: "KEYCLOAK_ISSUER",
    doc: "the trusted issuers, comma-separated: exact (`https://id.example.com/realms/demo`: discovery's `issuer` must equal it) or a pattern for the realms of one Keycloak with `{realm}` as the last path segment (`https://id.example.com/realms/{realm}`)",
    shown: "(required)",
    read(env: Env) {
      const value = env.KEYCLOAK_ISSUER?.trim();
      if (value === undefined || value === "") {
        throw new ConfigError(
          "KEYCLOAK_ISSUER is required: the realm's issuer, e.g. https://keycloak.example.com/realms/demo (or a pattern, .../realms/{realm})",
        );
      }
      return parseTrustedIssuers(value, options.allow.read(env), options.deny.read(env));
    },
  };
}
