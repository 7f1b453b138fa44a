/** The docs function's configuration (functions/docs.ts): read once at cold start. */
import { ConfigError } from "../errors.js";
import { readSettings, text, type Env, type SettingValues } from "./settings.js";
import { ISSUERS, REALMS_ALLOW, REALMS_DENY } from "./shared-settings.js";
import { REALM_NAME } from "./trusted-issuers.js";

export const DOCS_SETTINGS = {
  issuers: ISSUERS,
  realmsAllow: REALMS_ALLOW,
  realmsDeny: REALMS_DENY,
  defaultRealm: text("DOCS_REALM", {
    doc: "the realm the docs page logs in to when the page's URL names none (`/docs?realm=acme` names one); by default the first exact `KEYCLOAK_ISSUER` (required when there is none)",
  }),
  clientId: text("DOCS_CLIENT_ID", { doc: "the realm's public client the docs page logs in with (authorization code + PKCE)", fallback: "api-docs" }),
} as const;

export type DocsConfig = SettingValues<typeof DOCS_SETTINGS>;

export function loadDocsConfig(env: Env): DocsConfig {
  const config = readSettings(DOCS_SETTINGS, env);
  const realm = config.defaultRealm;
  if (realm === undefined && config.issuers.exact.length === 0) {
    throw new ConfigError("DOCS_REALM is required when KEYCLOAK_ISSUER is only {realm} patterns: the realm the docs page logs in to by default");
  }
  if (realm !== undefined && !REALM_NAME.test(realm)) throw new ConfigError(`DOCS_REALM "${realm}" is not a realm name`);
  return config;
}
