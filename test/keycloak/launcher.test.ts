/**
 * `npm run keycloak` with a realm file Keycloak refuses: it exits non-zero with Keycloak's own
 * error line, no stack trace, and leaves no process, port or temporary home behind. (The cases
 * decided before Keycloak runs are in test/local/keycloak-launcher.test.ts.)
 */
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, ROOT } from "../../local/stack.js";
import { portsClosed, runScript } from "../helpers/npm-script.js";

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "kc-broken-realm-"));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

test("a realm import Keycloak refuses: exit 1 with Keycloak's own error line, and nothing left behind", async () => {
  const realm = JSON.parse(await readFile(join(ROOT, "keycloak", "realm-demo.json"), "utf8")) as { clients: Array<Record<string, unknown>> };
  const [first] = realm.clients;
  if (first === undefined) throw new Error("the realm has no clients");
  first.notAClientField = true; // Keycloak's import rejects fields it does not know
  const realmFile = join(scratch, "realm-demo.json");
  await writeFile(realmFile, JSON.stringify(realm));
  const homesBefore = (await readdir(tmpdir())).filter((name) => name.startsWith("kla-keycloak-"));

  const port = await freePort();
  const run = runScript(["run", "keycloak"], { KEYCLOAK_ISSUER: `http://localhost:${port}/realms/demo`, KEYCLOAK_MANAGEMENT_PORT: "0", REALM_FILE: realmFile });
  try {
    const code = await run.exited;
    const output = run.output();
    expect(code).toBe("1");
    expect(output).toContain(`npm run keycloak: Keycloak `);
    expect(output).toContain(`(the realm import of ${realmFile} failed)`);
    expect(output).toContain("Failed to run import");
    expect(output).toContain('Unrecognized field "notAClientField"');
    expect(output).not.toMatch(/^\s+at [\w.$]+\(/m); // no Java stack trace
    expect(output).not.toContain("Ready");
    expect(await portsClosed([port])).toBe(true);
    const left = execFileSync("ps", ["-eo", "args"])
      .toString()
      .split("\n")
      .filter((line) => line.includes(`--http-port=${port}`));
    expect(left).toEqual([]);
    const homesAfter = (await readdir(tmpdir())).filter((name) => name.startsWith("kla-keycloak-"));
    expect(homesAfter.filter((name) => !homesBefore.includes(name))).toEqual([]);
  } finally {
    run.kill();
  }
}, 300_000);
