// serverless.yml's switch for session revocation (docs/revocation.md): with the `revocation` stage
// parameter true, the back-channel logout receiver (custom.revocationReceiver), the DynamoDB table
// and the two least-privilege roles (custom.revocationResources) are deployed, the authorizer gets
// the table's name and its reader role, and API Gateway's result cache TTL follows the window.
// With it false (the default), the template is exactly what it was without revocation.
"use strict";
const loadTypeScript = require("./typescript-module.cjs");

async function settings(resolveVariable) {
  const param = async (name) => String(await resolveVariable(`param:${name}`));
  const enabled = (await param("revocation")).trim() === "true";
  const service = String(await resolveVariable("self:service"));
  const stage = String(await resolveVariable("sls:stage"));
  const baseTtl = Number(await param("authorizerCacheTtlSeconds"));
  if (!enabled) return { enabled, stage, baseTtl };
  // The lookup cache as the authorizer will read it (the code's default when the param is '').
  const { REVOCATION_SETTINGS } = loadTypeScript("lib/config/revocation-settings.ts");
  const cacheSeconds = REVOCATION_SETTINGS.revocationCacheSeconds.read({ KEYCLOAK_REVOCATION_CACHE_SECONDS: await param("keycloakRevocationCacheSeconds") });
  const window = Number(await param("revocationWindowSeconds"));
  if (!Number.isInteger(window) || window < cacheSeconds) {
    const error = new Error(
      `revocationWindowSeconds (${window}) must be a whole number of seconds at least the lookup cache (KEYCLOAK_REVOCATION_CACHE_SECONDS, ${cacheSeconds} s): the window is the cache plus API Gateway's result cache`,
    );
    error.stack = error.message;
    throw error;
  }
  return { enabled, stage, baseTtl, cacheSeconds, window, tableName: `${service}-${stage}-revocations` };
}

/** API Gateway's result cache TTL: authorizerCacheTtlSeconds, or with revocation what the window leaves after the lookup cache. */
async function authorizerCacheTtlSeconds(resolveVariable) {
  const s = await settings(resolveVariable);
  return s.enabled ? Math.min(s.baseTtl, s.window - s.cacheSeconds) : s.baseTtl;
}

module.exports = async ({ resolveVariable }) => {
  const s = await settings(resolveVariable);
  const ttl = await authorizerCacheTtlSeconds(resolveVariable);
  if (!s.enabled) return { enabled: false, tableName: "", authorizerCacheTtlSeconds: ttl };
  return {
    enabled: true,
    tableName: s.tableName,
    authorizerCacheTtlSeconds: ttl,
    // The longest a session Keycloak ended keeps access: the lookup cache plus API Gateway's cache.
    windowSeconds: s.cacheSeconds + ttl,
    authorizerRole: "AuthorizerRevocationReaderRole",
    receiver: await resolveVariable("self:custom.revocationReceiver"),
    resources: await resolveVariable("self:custom.revocationResources"),
  };
};
module.exports.authorizerCacheTtlSeconds = authorizerCacheTtlSeconds;
