/** The docs function's configuration (functions/docs.ts): read once at cold start. */
import { readSettings, text, type Env, type SettingValues } from "./settings.js";
import { AUTH_REALM, ISSUER } from "./shared-settings.js";

export const DOCS_SETTINGS = {
  issuer: ISSUER,
  realm: AUTH_REALM,
  clientId: text("DOCS_CLIENT_ID", { doc: "the realm's public client the docs page logs in with (authorization code + PKCE)", fallback: "api-docs" }),
} as const;

export type DocsConfig = SettingValues<typeof DOCS_SETTINGS>;

export function loadDocsConfig(env: Env): DocsConfig {
  return readSettings(DOCS_SETTINGS, env);
}
