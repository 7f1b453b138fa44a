// serverless.yml reads the API's routes from functions/routes.ts through this file, so the wiring and
// the authorizer's decisions come from one declaration. The framework can only load CommonJS
// here, so the TypeScript module is transpiled in memory with esbuild (already a dev dependency).
// Runs at package/offline time only; never deployed.
"use strict";
const { buildSync } = require("esbuild");
const Module = require("node:module");
const path = require("node:path");

// serverless.yml reads this file more than once per run (events, CORS origins): transpile once.
let routes;
function loadRoutes() {
  routes ??= transpileRoutes();
  return routes;
}

function transpileRoutes() {
  const entry = path.join(__dirname, "..", "functions", "routes.ts");
  const result = buildSync({ entryPoints: [entry], bundle: true, format: "cjs", platform: "node", target: "node20", write: false, logLevel: "silent" });
  const compiled = new Module(entry);
  compiled.filename = entry;
  compiled._compile(result.outputFiles[0].text, entry);
  return compiled.exports.ROUTES;
}

/**
 * `events`: each route on the REST API (TOKEN authorizer) and the HTTP API (payload 2.0 authorizer);
 * `corsOrigins`: the comma-separated `corsOrigins` param as a list.
 */
module.exports = async ({ resolveVariable }) => {
  const ttl = await resolveVariable("param:authorizerCacheTtlSeconds");
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
