/**
 * Issue 19's mismatches (test/diagnostics/mismatches.ts) against real Keycloak: its own Keycloak
 * from `npm run keycloak` on free ports (the suite adds clients, and an ES256 client makes
 * Keycloak add an ES256 key to the realm for good), the clients set up through the Admin REST
 * API. The same suite runs against the embedded provider in npm test.
 */
import { afterAll, beforeAll } from "@jest/globals";
import { freePort } from "../../local/stack.js";
import { addMismatchClients } from "../diagnostics/keycloak-realm.js";
import { describeMismatches, type MismatchSubject } from "../diagnostics/mismatches.js";
import { startMismatchStacks } from "../diagnostics/stacks.js";
import { portsClosed, runScript, type ScriptRun } from "../helpers/npm-script.js";
import { keycloakVersion } from "../../local/keycloak/version.js";

/** A first run on a fresh machine fetches about 160 MB with Maven and runs Quarkus' build step. */
const FIRST_START_MS = 20 * 60_000;

let keycloak: ScriptRun;
let issuerPort: number;
let subject: (MismatchSubject & { stop(): Promise<void> }) | undefined;

beforeAll(async () => {
  issuerPort = await freePort();
  const issuer = `http://localhost:${issuerPort}/realms/demo`;
  keycloak = runScript(["run", "keycloak"], { KEYCLOAK_ISSUER: issuer, KEYCLOAK_MANAGEMENT_PORT: "0" });
  await keycloak.waitFor(/Ctrl-C here stops Keycloak/, FIRST_START_MS);
  await addMismatchClients(issuer, { username: "admin", password: "admin" });
  subject = await startMismatchStacks({ issuer }, { label: `Keycloak ${keycloakVersion().version}`, refreshTokens: "jwt" });
}, FIRST_START_MS + 300_000);

afterAll(async () => {
  await subject?.stop();
  if (keycloak !== undefined) {
    await keycloak.interrupt();
    await portsClosed([issuerPort]);
  }
}, 120_000);

describeMismatches(() => subject as MismatchSubject);
