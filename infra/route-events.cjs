// serverless.yml reads the API's routes from functions/routes.ts through this file, so the wiring and
// the authorizer's decisions come from one declaration. Runs at package/offline time only.
"use strict";
const loadTypeScript = require("./typescript-module.cjs");

const loadRoutes = () => loadTypeScript("functions/routes.ts").ROUTES;

/**
 * `events`: each route on the REST API (TOKEN authorizer) and the HTTP API (payload 2.0 authorizer);
 * `corsOrigins`: the comma-separated `corsOrigins` param as a list.
 */
module.exports = async ({ resolveVariable }) => {
  // With revocation on, the TTL follows its window (infra/revocation.cjs).
  const ttl = await require("./revocation.cjs").authorizerCacheTtlSeconds(resolveVariable);
  const corsOrigins = String(await resolveVariable("param:corsOrigins"))
    .split(",")
    .map((origin) => origin.trim())
    .filter(Boolean);
  const cors = { origins: corsOrigins, headers: ["Authorization", "Content-Type"], allowCredentials: false, maxAge: 600 };
  const events = loadRoutes().flatMap((route) => [
    {
      http: {
        path: route.path.replace(/^\//, ""),
        method: route.method.toLowerCase(),
        cors,
        authorizer: {
          name: "authorizer",
          type: "token",
          identitySource: "method.request.header.Authorization",
          resultTtlInSeconds: ttl,
        },
      },
    },
    { httpApi: { path: route.path, method: route.method, authorizer: { name: "keycloak" } } },
  ]);
  return { events, corsOrigins };
};
