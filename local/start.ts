/**
 * `npm start`: Keycloak (a running one, from `npm run keycloak` or `docker compose up`, or the
 * embedded provider when nothing answers at the issuer) and the API under serverless-offline,
 * with one ready line naming the provider (and Keycloak's version). Ctrl-C stops all of it.
 * Env: KEYCLOAK_ISSUER (default http://localhost:8080/realms/demo), PORT (3000), LAMBDA_PORT (3002).
 */
import { ROUTES } from "../functions/routes.js";
import { createConsoleFilter } from "./console-lines.js";
import { keycloakServerVersion } from "./keycloak/server-info.js";
import { adminCredentials } from "./keycloak/server.js";
import { keycloakVersion } from "./keycloak/version.js";
import { fileURLToPath } from "node:url";
import { DEFAULT_ISSUER } from "./provider/index.js";
import { startStack } from "./stack.js";

/** The second realm the embedded provider serves (many realms, Organizations: docs/many-realms.md). */
const ACME_REALM_FILE = fileURLToPath(new URL("../keycloak/realm-acme.json", import.meta.url));

const started = performance.now();
const verbose = process.env.VERBOSE === "1";
const filter = createConsoleFilter();

try {
  const stack = await startStack({
    ...(process.env.KEYCLOAK_ISSUER ? { issuer: process.env.KEYCLOAK_ISSUER } : {}),
    port: Number(process.env.PORT ?? 3000),
    lambdaPort: Number(process.env.LAMBDA_PORT ?? 3002),
    extraRealmFiles: [ACME_REALM_FILE],
    // One short line per refused request (local/console-lines.ts); everything raw with VERBOSE=1.
    onOutput: (line) => {
      const shown = verbose ? line : filter(line);
      if (shown !== undefined) console.log(shown);
    },
  });
  let provider = "embedded OpenID provider (realm files keycloak/realm-demo.json, keycloak/realm-acme.json)";
  if (stack.providerKind === "keycloak") {
    // A running Keycloak (npm run keycloak, docker compose up): say which one.
    const found = await keycloakServerVersion(stack.issuer, adminCredentials());
    const tested = keycloakVersion().version;
    provider =
      "version" in found
        ? `Keycloak ${found.version}${found.version === tested ? "" : ` (this project is tested with ${tested})`}`
        : `Keycloak (version unknown: ${found.unknown})`;
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`provider: ${provider} at ${stack.issuer}`);
  // With DPoP on, the REST API has a REQUEST authorizer (infra/dpop.cjs): say which.
  const dpop = process.env.KEYCLOAK_DPOP?.trim() || "off";
  const restAuthorizer = dpop === "off" ? "TOKEN authorizer" : `REQUEST authorizer, DPoP ${dpop}`;
  console.log(`routes (REST API under /dev, ${restAuthorizer}; HTTP API at the root, payload 2.0 authorizer):`);
  for (const route of ROUTES) {
    const rest = `${route.method} ${stack.baseUrl}/dev${route.path}`;
    console.log(`  ${rest.padEnd(40)} ${route.method} ${stack.baseUrl}${route.path}  ${route.summary}`);
  }
  console.log(`docs:     ${stack.baseUrl}/docs (Swagger UI: Authorize, log in as alice/alice or bob/bob)`);
  console.log(`ready in ${seconds}s. Try:`);
  // npm run token finds the realm through KEYCLOAK_ISSUER too: name it when it is not the default.
  const tokenEnv = stack.issuer === DEFAULT_ISSUER ? "" : `KEYCLOAK_ISSUER=${stack.issuer} `;
  console.log(`  curl -H "Authorization: Bearer $(${tokenEnv}npm run -s token -- --user alice)" ${stack.baseUrl}/secured`);

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    console.log("stopping…");
    stack.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
} catch (error) {
  console.error(`npm start failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
