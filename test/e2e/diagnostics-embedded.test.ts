/**
 * Issue 19's mismatches (test/diagnostics/mismatches.ts) against the embedded provider: the demo
 * realm plus the mismatched clients of test/diagnostics/clients.ts, in a realm file of its own.
 * The same suite runs against real Keycloak in test/keycloak/diagnostics.test.ts.
 */
import { afterAll, beforeAll } from "@jest/globals";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, ROOT } from "../../local/stack.js";
import { LIGHTWEIGHT, LIGHTWEIGHT_ROLES, MISMATCH_CLIENTS } from "../diagnostics/clients.js";
import { describeMismatches, type MismatchSubject } from "../diagnostics/mismatches.js";
import { startMismatchStacks } from "../diagnostics/stacks.js";

let subject: MismatchSubject & { stop(): Promise<void> };
let workDir: string;

beforeAll(async () => {
  const realm = JSON.parse(await readFile(join(ROOT, "keycloak", "realm-demo.json"), "utf8")) as { clients: unknown[]; users: unknown[] };
  realm.clients.push(...MISMATCH_CLIENTS);
  realm.users.push({ username: `service-account-${LIGHTWEIGHT.id}`, enabled: true, serviceAccountClientId: LIGHTWEIGHT.id, realmRoles: LIGHTWEIGHT_ROLES });
  workDir = await mkdtemp(join(tmpdir(), "kc-diagnostics-"));
  const realmFile = join(workDir, "realm.json");
  await writeFile(realmFile, JSON.stringify(realm));
  subject = await startMismatchStacks(
    { issuer: `http://localhost:${await freePort()}/realms/demo`, realmFile },
    { label: "the embedded provider", refreshTokens: "opaque" },
  );
}, 300_000);

afterAll(async () => {
  await subject?.stop();
  if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
}, 60_000);

describeMismatches(() => subject);
