/**
 * CLI: `tsx local/provider/main.ts` serves the realm file as a local Keycloak stand-in.
 * Env: KEYCLOAK_ISSUER (default http://localhost:8080/realms/demo; its port is the listening port),
 * REALM_FILE (default keycloak/realm-demo.json), PROVIDER_HOST (default 127.0.0.1).
 */
import { resolve } from "node:path";
import { DEFAULT_ISSUER, startProvider } from "./index.js";

const issuer = process.env.KEYCLOAK_ISSUER ?? DEFAULT_ISSUER;
const realmFile = resolve(process.env.REALM_FILE ?? "keycloak/realm-demo.json");

try {
  const provider = await startProvider({ issuer, realmFile, host: process.env.PROVIDER_HOST ?? "127.0.0.1" });
  process.stdout.write(`provider ready ${provider.issuer}\n`);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    provider.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`error while stopping: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
} catch (error) {
  process.stderr.write(`provider failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
