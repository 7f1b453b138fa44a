// serverless.yml reads the API's routes from functions/routes.ts through this file, so the wiring and
// the authorizer's decisions come from one declaration. Runs at package/offline time only.
"use strict";
const loadTypeScript = require("./typescript-module.cjs");
const dpopWiring = require("./dpop.cjs");

const loadRoutes = () => loadTypeScript("functions/routes.ts").ROUTES;

/**
 * `events`: each route on the REST API (a TOKEN authorizer, or REQUEST with DPoP on: infra/dpop.cjs)
 * and the HTTP API (payload 2.0 authorizer); `corsOrigins`: the comma-separated `corsOrigins` param
 * as a list.
 */
module.exports = async ({ resolveVariable }) => {
  // The REST authorizer's kind and TTL: DPoP's wiring (infra/dpop.cjs), with revocation's window in it.
  const { restAuthorizer } = await dpopWiring({ resolveVariable });
  const corsOrigins = String(await resolveVariable("param:corsOrigins"))
    .split(",")
    .map((origin) => origin.trim())
    .filter(Boolean);
  // DPoP: browsers may send a proof header (RFC 9449), which a preflight must allow.
  const cors = { origins: corsOrigins, headers: ["Authorization", "Content-Type", "DPoP"], allowCredentials: false, maxAge: 600 };
  const events = loadRoutes().flatMap((route) => [
    {
      http: {
        path: route.path.replace(/^\//, ""),
        method: route.method.toLowerCase(),
        cors,
        authorizer: restAuthorizer,
      },
    },
    { httpApi: { path: route.path, method: route.method, authorizer: { name: "keycloak" } } },
  ]);
  return { events, corsOrigins };
};
