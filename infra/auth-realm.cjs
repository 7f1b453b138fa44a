// The realm named in the REST API's gateway responses (WWW-Authenticate): the same rule the
// functions apply to AUTH_REALM (lib/config/shared-settings.ts), so the two cannot differ.
"use strict";
const loadTypeScript = require("./typescript-module.cjs");

module.exports = async ({ resolveVariable }) => {
  const { AUTH_REALM } = loadTypeScript("lib/config/shared-settings.ts");
  return AUTH_REALM.read({
    AUTH_REALM: String(await resolveVariable("param:authRealm")),
    KEYCLOAK_ISSUER: String(await resolveVariable("param:keycloakIssuer")),
  });
};
