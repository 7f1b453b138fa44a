/** The protected API functions' configuration (functions/secured.ts): read once at cold start. */
import { ConfigError } from "../errors.js";
import { AUTHORIZER_SETTINGS } from "./authorizer-config.js";
import { integer, list, readSettings, text, type Env, type SettingValues } from "./settings.js";
import { AUTH_REALM, CLOCK_SKEW_SECONDS, ISSUER_TEXT } from "./shared-settings.js";

export const API_SETTINGS = {
  issuer: ISSUER_TEXT,
  realm: AUTH_REALM,
  corsOrigins: list("CORS_ORIGINS", { doc: "browser origins allowed to call the API (`*` allowed within a label)" }),
  clockSkewSeconds: CLOCK_SKEW_SECONDS,
  introspectionClientId: text("KEYCLOAK_INTROSPECTION_CLIENT_ID", {
    doc: "the API's confidential client in the realm, which strict routes (`introspect: true`) ask Keycloak's token introspection as; required when the route table has a strict route",
  }),
  introspectionClientSecret: text("KEYCLOAK_INTROSPECTION_CLIENT_SECRET", {
    doc: "that client's secret (in AWS, from SSM or Secrets Manager through serverless.yml); never logged",
  }),
  introspectionCacheSeconds: integer("KEYCLOAK_INTROSPECTION_CACHE_SECONDS", {
    doc: "how long a strict route reuses Keycloak's answer for a token (never past its `exp`): the longest a logout goes unseen there; 0 asks on every request",
    fallback: 10,
    min: 0,
    max: 300,
    unit: "s",
  }),
  introspectionTimeoutMs: integer("KEYCLOAK_INTROSPECTION_TIMEOUT_MS", {
    doc: "the whole budget of asking Keycloak about one token (the discovery that finds the endpoint, once per realm, included); past it the request is refused with 503",
    fallback: 1500,
    min: 100,
    max: 10_000,
    unit: "ms",
  }),
  audiences: list("KEYCLOAK_AUDIENCE", {
    doc: "the authorizer's audiences (the same value): a lightweight access token's introspection answer must name one in `aud`",
  }),
  dpop: AUTHORIZER_SETTINGS.dpop,
  dpopAlgorithms: AUTHORIZER_SETTINGS.dpopAlgorithms,
  realmRules: AUTHORIZER_SETTINGS.realmRules,
  allowHttp: AUTHORIZER_SETTINGS.allowHttp,
} as const;

export type ApiConfig = SettingValues<typeof API_SETTINGS>;

export function loadApiConfig(env: Env): ApiConfig {
  const config = readSettings(API_SETTINGS, env);
  if ((config.introspectionClientId === undefined) !== (config.introspectionClientSecret === undefined)) {
    throw new ConfigError("KEYCLOAK_INTROSPECTION_CLIENT_ID and KEYCLOAK_INTROSPECTION_CLIENT_SECRET go together: set both, or neither");
  }
  return config;
}
