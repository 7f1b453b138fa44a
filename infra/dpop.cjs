// How API Gateway is wired for the authorizer's DPoP mode (keycloakDpop, lib/config/dpop-settings.ts),
// read by serverless.yml and infra/route-events.cjs at package/offline time. Never deployed.
//
// A DPoP proof is single-use, and API Gateway's result cache would defeat that: a cached Allow is
// served again without calling the authorizer, so a replayed proof (same Authorization and DPoP
// values) would pass within the TTL, and with the REST policy covering every route, on another
// route (another htu) too. So with DPoP on (`allowed` or `required`) the cache is off (TTL 0) on
// both API kinds, whatever authorizerCacheTtlSeconds says; and the REST API uses a REQUEST
// authorizer, since a TOKEN authorizer sees only the Authorization header, never the proof.
//
// Identity sources (all must be present, or API Gateway answers 401 without calling the
// authorizer): `Authorization` always; the `DPoP` header too when DPoP is `required` (every
// request must carry one then), never when `allowed` (Bearer clients send none).
"use strict";
const loadTypeScript = require("./typescript-module.cjs");
const authRealm = require("./auth-realm.cjs");

async function dpopWiring({ resolveVariable }) {
  const { DPOP_SETTINGS } = loadTypeScript("lib/config/dpop-settings.ts");
  const param = async (name) => String(await resolveVariable(`param:${name}`));
  // Resolved first, outside the try: the framework's resolver signals "not yet" by throwing.
  const env = { KEYCLOAK_DPOP: await param("keycloakDpop"), KEYCLOAK_DPOP_ALGORITHMS: await param("keycloakDpopAlgorithms") };
  // authorizerCacheTtlSeconds, or what revocation's window leaves of it (infra/revocation.cjs).
  const baseTtl = await require("./revocation.cjs").authorizerCacheTtlSeconds(resolveVariable);
  const realmName = await authRealm({ resolveVariable });
  let mode;
  let algorithms;
  try {
    mode = DPOP_SETTINGS.dpop.read(env);
    algorithms = DPOP_SETTINGS.dpopAlgorithms.read(env);
  } catch (error) {
    const failure = new Error(`serverless.yml parameters: ${error.message}`);
    failure.stack = failure.message; // the framework prints the stack: keep it to the message
    throw failure;
  }
  const on = mode !== "off";
  const ttl = on ? 0 : baseTtl;
  const realm = String(realmName).replace(/["\\]/g, "");
  const bearer = `Bearer realm="${realm}", error="invalid_token"`;
  const dpop = `DPoP realm="${realm}", error="invalid_token", algs="${algorithms.join(" ")}"`;
  const challenge = mode === "off" ? bearer : mode === "allowed" ? `${bearer}, ${dpop}` : dpop;
  return {
    mode,
    authorizerTtl: ttl,
    restAuthorizer: on
      ? {
          name: "authorizer",
          type: "request",
          identitySource: mode === "required" ? "method.request.header.Authorization,method.request.header.DPoP" : "method.request.header.Authorization",
          resultTtlInSeconds: 0,
        }
      : { name: "authorizer", type: "token", identitySource: "method.request.header.Authorization", resultTtlInSeconds: ttl },
    httpApiIdentitySource: mode === "required" ? ["$request.header.Authorization", "$request.header.DPoP"] : ["$request.header.Authorization"],
    // A gateway response's header is one static value: both challenges when both schemes are taken.
    unauthorizedChallenge: `'${challenge}'`,
  };
}

module.exports = dpopWiring;
