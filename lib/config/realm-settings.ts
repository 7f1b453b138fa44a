/**
 * Settings for many realms (realm-per-tenant on one Keycloak): how many are held, how fast new
 * ones may be discovered, and per-realm rules. Spread into the authorizer's settings.
 */
import { ConfigError } from "../errors.js";
import { integer, type Env, type Setting } from "./settings.js";
import { REALM_NAME } from "./trusted-issuers.js";

/** Rules that may differ per realm; absent ones are the defaults (KEYCLOAK_AUDIENCE, KEYCLOAK_ALLOWED_CLIENTS). */
export interface RealmRules {
  readonly audiences?: readonly string[];
  readonly allowedClients?: readonly string[];
}

const RULES: Setting<ReadonlyMap<string, RealmRules>> = {
  name: "KEYCLOAK_REALM_RULES",
  doc: 'per-realm overrides as JSON, e.g. `{"acme":{"audience":["acme-api"],"allowedClients":["acme-web"]}}`; a realm without an entry gets `KEYCLOAK_AUDIENCE` and `KEYCLOAK_ALLOWED_CLIENTS`',
  shown: "(none)",
  read(env: Env) {
    const value = env.KEYCLOAK_REALM_RULES?.trim();
    const rules = new Map<string, RealmRules>();
    if (value === undefined || value === "") return rules;
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch (cause) {
      throw new ConfigError('KEYCLOAK_REALM_RULES is not JSON: write an object of realm names, e.g. {"acme":{"audience":["acme-api"]}}', { cause });
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
      throw new ConfigError("KEYCLOAK_REALM_RULES must be a JSON object of realm names");
    for (const [realm, rule] of Object.entries(parsed)) {
      if (!REALM_NAME.test(realm)) throw new ConfigError(`KEYCLOAK_REALM_RULES: "${realm}" is not a realm name`);
      if (typeof rule !== "object" || rule === null || Array.isArray(rule))
        throw new ConfigError(`KEYCLOAK_REALM_RULES.${realm} must be an object with audience and/or allowedClients`);
      const { audience, allowedClients, ...unknown } = rule as Record<string, unknown>;
      if (Object.keys(unknown).length > 0)
        throw new ConfigError(`KEYCLOAK_REALM_RULES.${realm} has unknown keys ${Object.keys(unknown).join(", ")}: use audience and allowedClients`);
      const strings = (key: string, given: unknown): readonly string[] | undefined => {
        if (given === undefined) return undefined;
        const items = typeof given === "string" ? [given] : given;
        if (!Array.isArray(items) || items.length === 0 || !items.every((item) => typeof item === "string" && item !== "")) {
          throw new ConfigError(`KEYCLOAK_REALM_RULES.${realm}.${key} must be a non-empty string or list of strings`);
        }
        return Object.freeze([...(items as string[])]);
      };
      const audiences = strings("audience", audience);
      const clients = strings("allowedClients", allowedClients);
      rules.set(realm, Object.freeze({ ...(audiences === undefined ? {} : { audiences }), ...(clients === undefined ? {} : { allowedClients: clients }) }));
    }
    return rules;
  },
};

export const REALM_SETTINGS = {
  realmRules: RULES,
  maxRealms: integer("KEYCLOAK_MAX_REALMS", {
    doc: "realms whose keys are held in memory at once; past it the least recently used one is dropped (and fetched again when needed)",
    fallback: 100,
    min: 1,
    max: 100_000,
  }),
  realmDiscoveriesPerSecond: integer("KEYCLOAK_REALM_DISCOVERIES_PER_SECOND", {
    doc: "first fetches of realms not held in memory, at most, per instance (a burst of as many); tokens of further new realms are answered 500 until there is room. Realms that signed a token the instance verified get the same rate of their own (so Keycloak sees at most twice it), which tokens naming invented realms cannot spend",
    fallback: 10,
    min: 1,
    max: 1000,
  }),
  unknownRealmSeconds: integer("KEYCLOAK_UNKNOWN_REALM_SECONDS", {
    doc: "how long a realm Keycloak answered 404 for (deleted, or never created) is refused without asking again",
    fallback: 60,
    min: 0,
    max: 86_400,
    unit: "s",
  }),
  metricRealms: integer("KEYCLOAK_METRIC_REALMS", {
    doc: "realms that get their own value of the `realm` dimension in metrics and logs; the others are grouped as `other`",
    fallback: 20,
    min: 0,
    max: 1000,
  }),
} as const;
