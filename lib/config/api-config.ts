/** The protected API functions' configuration (functions/secured.ts): read once at cold start. */
import { list, readSettings, type Env, type SettingValues } from "./settings.js";
import { AUTH_REALM, CLOCK_SKEW_SECONDS, ISSUER_TEXT } from "./shared-settings.js";

export const API_SETTINGS = {
  issuer: ISSUER_TEXT,
  realm: AUTH_REALM,
  corsOrigins: list("CORS_ORIGINS", { doc: "browser origins allowed to call the API (`*` allowed within a label)" }),
  clockSkewSeconds: CLOCK_SKEW_SECONDS,
} as const;

export type ApiConfig = SettingValues<typeof API_SETTINGS>;

export function loadApiConfig(env: Env): ApiConfig {
  return readSettings(API_SETTINGS, env);
}
