/**
 * `npm run keycloak`: real Keycloak without Docker, in dev mode with keycloak/realm-demo.json
 * imported, on the host and port of KEYCLOAK_ISSUER (default http://localhost:8080/realms/demo).
 * The first run fetches the distribution with Maven; see local/keycloak/server.ts and
 * docs/keycloak.md. Ctrl-C stops it, leaving no process and no open port.
 *
 * Env: KEYCLOAK_ISSUER, KEYCLOAK_MANAGEMENT_PORT (9000; 0 = any free port), KEYCLOAK_ADMIN /
 * KEYCLOAK_ADMIN_PASSWORD (admin/admin), REALM_FILE, KEYCLOAK_JAVA_HOME, KEYCLOAK_CACHE_DIR,
 * VERBOSE=1 (all of Keycloak's log, not only its warnings and errors).
 */
import { resolve } from "node:path";
import { KeycloakSetupError } from "./errors.js";
import { DEFAULT_ISSUER, DEFAULT_MANAGEMENT_PORT, startKeycloak, type RunningKeycloak } from "./server.js";
import { keycloakVersion, mavenCoordinates } from "./version.js";

const begun = performance.now();
const verbose = process.env.VERBOSE === "1";
const issuer = (process.env.KEYCLOAK_ISSUER?.trim() || DEFAULT_ISSUER).replace(/\/$/, "");
const managementPortText = process.env.KEYCLOAK_MANAGEMENT_PORT?.trim();
const managementPort = managementPortText ? Number(managementPortText) : DEFAULT_MANAGEMENT_PORT;
const seconds = (): string => ((performance.now() - begun) / 1000).toFixed(1);

/** Keycloak's log lines worth a person's attention when not verbose. */
const worthShowing = (line: string): boolean => /^\S+ \S+ (WARN|ERROR) /.test(line) || /^(ERROR|WARNING):/.test(line);

const aborter = new AbortController();
let server: RunningKeycloak | undefined;
let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  console.log("stopping Keycloak…");
  if (server === undefined) {
    aborter.abort(new Error("stopped"));
    return;
  }
  server.stop().then(
    () => {
      console.log("Keycloak stopped.");
      process.exit(0);
    },
    (error: unknown) => {
      console.error(`npm run keycloak: could not stop Keycloak: ${String(error)}`);
      process.exit(1);
    },
  );
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);

try {
  if (managementPortText && (!Number.isInteger(managementPort) || managementPort < 0 || managementPort > 65535)) {
    throw new KeycloakSetupError(`KEYCLOAK_MANAGEMENT_PORT must be a port number (0 picks a free one), got "${managementPortText}"`);
  }
  const { version } = keycloakVersion();
  console.log(`Keycloak ${version} (${mavenCoordinates(version)}) for ${issuer}`);
  server = await startKeycloak({
    issuer,
    managementPort,
    ...(process.env.REALM_FILE?.trim() ? { realmFile: resolve(process.env.REALM_FILE.trim()) } : {}),
    signal: aborter.signal,
    onStep: (message) => console.log(`  ${message}`),
    onLine: (line) => {
      if (verbose || worthShowing(line)) console.log(verbose ? line : `  keycloak: ${line}`);
    },
  });
  const running = server;
  console.log(`Keycloak ${running.version} ready in ${seconds()}s${running.firstRun ? " (first run: fetched and prepared)" : ""}: issuer ${running.issuer}`);
  console.log(
    `  admin console ${running.origin}/admin (${running.admin.username}/${running.admin.password === "admin" ? "admin" : "…"}), health ${running.managementUrl}/health/ready`,
  );
  console.log(
    `  now \`npm start\` in another terminal uses it${issuer === DEFAULT_ISSUER ? "" : ` (with KEYCLOAK_ISSUER=${issuer})`}; Ctrl-C here stops Keycloak.`,
  );
  void running.exited.then(({ code, signal }) => {
    if (stopping) return;
    console.error(`npm run keycloak: Keycloak exited by itself (${code ?? signal ?? "?"})`);
    process.exit(1);
  });
} catch (error) {
  if (stopping) {
    console.log("stopped before Keycloak was ready.");
    process.exit(130);
  }
  const message = error instanceof KeycloakSetupError ? error.message : error instanceof Error ? error.message : String(error);
  console.error(`npm run keycloak: ${message}`);
  process.exit(1);
}
