/**
 * `npm run keycloak` when something is missing or in the way: one clear message (what is wrong,
 * what to install or do instead), a non-zero exit, no stack trace, nothing left running. These
 * cases are decided before any Java runs, so they are tested here with Node alone; a failing
 * realm import needs real Keycloak and is in test/keycloak/launcher.test.ts.
 *
 * Java and Maven are simulated by small scripts on a PATH of the test's own (so a machine with a
 * real JDK behaves like one without).
 */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { spawn } from "node:child_process";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { javaMajor } from "../../local/keycloak/java.js";
import { keycloakErrorLines } from "../../local/keycloak/kc-process.js";
import { startProvider } from "../../local/provider/index.js";
import { freePort, ROOT } from "../../local/stack.js";

const TSX = fileURLToPath(new URL("../../node_modules/tsx/dist/cli.mjs", import.meta.url));

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "kc-launcher-"));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** A folder holding executable scripts `name` -> body, for PATH. */
async function fakeBin(name: string, scripts: Record<string, string>): Promise<string> {
  const folder = await mkdtemp(join(scratch, `${name}-`));
  for (const [command, body] of Object.entries(scripts)) {
    const file = join(folder, command);
    await writeFile(file, `#!/bin/sh\n${body}\n`);
    await chmod(file, 0o755);
  }
  return folder;
}

const fakeJava = (version: string): string => `echo 'openjdk version "${version}" 2030-01-01' >&2`;

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `npm run keycloak` (its script, run directly, so PATH can be the test's) with this environment. */
async function launch(env: Record<string, string>): Promise<Run> {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !["JAVA_HOME", "KEYCLOAK_JAVA_HOME", "PATH"].includes(name) && !name.startsWith("KEYCLOAK_")),
  );
  const child = spawn(process.execPath, [TSX, "local/keycloak/main.ts"], {
    cwd: ROOT,
    env: { ...base, KEYCLOAK_CACHE_DIR: join(scratch, "empty-cache"), KEYCLOAK_MANAGEMENT_PORT: "0", PATH: join(scratch, "nothing"), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", (exitCode) => resolve(exitCode)));
  return { code, stdout, stderr };
}

const issuerOn = (port: number, realm = "demo"): string => `http://localhost:${port}/realms/${realm}`;

function expectCleanFailure(run: Run, ...phrases: string[]): void {
  expect(run.code).toBe(1);
  const [firstLine = ""] = run.stderr.split("\n");
  expect(firstLine.startsWith("npm run keycloak: ")).toBe(true);
  for (const phrase of phrases) expect(run.stderr).toContain(phrase);
  // No stack trace, no Node warning.
  expect(`${run.stdout}${run.stderr}`).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  expect(run.stderr).not.toContain("Error:");
}

/** Another program on `port`: accepts connections, never answers (read, so a closed peer is noticed). */
function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => {
      socket.on("error", () => undefined);
      socket.resume();
    });
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}
const close = (server: Server): Promise<void> => new Promise((resolve) => server.close(() => resolve()));

describe("npm run keycloak refuses clearly", () => {
  test("without Java: says what to install, or to use docker compose or the embedded provider", async () => {
    const run = await launch({ KEYCLOAK_ISSUER: issuerOn(await freePort()) });
    expectCleanFailure(
      run,
      "Keycloak needs Java 17 or later",
      "no JAVA_HOME, no java on PATH",
      "apt-get install openjdk-17-jdk-headless",
      "docker compose up",
      "npm start",
    );
  }, 60_000);

  test("with only a Java that is too old: names it", async () => {
    const bin = await fakeBin("java11", { java: fakeJava("11.0.2") });
    const run = await launch({ KEYCLOAK_ISSUER: issuerOn(await freePort()), PATH: bin });
    expectCleanFailure(run, "Keycloak needs Java 17 or later", "PATH: Java 11 at");
  }, 60_000);

  test("a JAVA_HOME that holds no java is passed over for the java on PATH", async () => {
    const bin = await fakeBin("java17", { java: fakeJava("17.0.99") });
    const run = await launch({ KEYCLOAK_ISSUER: issuerOn(await freePort()), PATH: bin, JAVA_HOME: join(scratch, "no-such-jdk") });
    // It got past Java (to Maven, which is missing here).
    expect(run.stdout).toContain('Java 17 (openjdk version "17.0.99" 2030-01-01) from PATH');
    expectCleanFailure(run, "Maven (mvn) is needed once");
  }, 60_000);

  test("without Maven on a first run: says Maven is needed once, for which artifact, and the alternatives", async () => {
    const bin = await fakeBin("java-no-mvn", { java: fakeJava("17.0.99") });
    const run = await launch({ KEYCLOAK_ISSUER: issuerOn(await freePort()), PATH: bin });
    expectCleanFailure(run, "Maven (mvn) is needed once", "org.keycloak:keycloak-quarkus-dist:", "apt-get install maven", "docker compose up", "npm start");
  }, 60_000);

  test("when Maven cannot fetch: Maven's own reason", async () => {
    const bin = await fakeBin("mvn-fails", {
      java: fakeJava("17.0.99"),
      mvn: `echo '[ERROR] Failed to execute goal: Could not find artifact org.keycloak:keycloak-quarkus-dist:zip in central' ; exit 1`,
    });
    const run = await launch({ KEYCLOAK_ISSUER: issuerOn(await freePort()), PATH: bin });
    expectCleanFailure(run, "Maven could not fetch org.keycloak:keycloak-quarkus-dist:", "Could not find artifact");
  }, 60_000);

  test("when the issuer's port is taken by another program", async () => {
    const port = await freePort();
    const server = await listen(port);
    try {
      const run = await launch({ KEYCLOAK_ISSUER: issuerOn(port) });
      expectCleanFailure(run, `port ${port} (from the issuer ${issuerOn(port)}) is taken by another program`, "KEYCLOAK_ISSUER=");
    } finally {
      await close(server);
    }
  }, 60_000);

  test("when an OpenID provider already answers at the issuer", async () => {
    const port = await freePort();
    const provider = await startProvider({ issuer: issuerOn(port) });
    try {
      const run = await launch({ KEYCLOAK_ISSUER: issuerOn(port) });
      expectCleanFailure(run, `an OpenID provider already answers at ${issuerOn(port)}`, "npm start uses it");
    } finally {
      await provider.close();
    }
  }, 60_000);

  test("when the management port is taken", async () => {
    const management = await freePort();
    const server = await listen(management);
    try {
      const run = await launch({ KEYCLOAK_ISSUER: issuerOn(await freePort()), KEYCLOAK_MANAGEMENT_PORT: String(management) });
      expectCleanFailure(run, `management port ${management} (health checks) is taken`, "KEYCLOAK_MANAGEMENT_PORT");
    } finally {
      await close(server);
    }
  }, 60_000);

  test.each([
    ["https://keycloak.example.com/realms/demo", "plain http, loopback only"],
    ["http://localhost:8080/auth/realms/demo", "plain http, loopback only"],
    ["http://localhost:8080/realms/other", 'names realm "other"'],
  ])(
    "for the issuer %s",
    async (issuer, phrase) => {
      expectCleanFailure(await launch({ KEYCLOAK_ISSUER: issuer }), phrase);
    },
    60_000,
  );
});

describe("launcher helpers", () => {
  test.each([
    ['openjdk version "17.0.15" 2025-04-15', 17],
    ['openjdk version "25" 2025-09-16', 25],
    ['java version "1.8.0_402"', 8],
    ['openjdk version "21.0.2-ea" 2024-01-16', 21],
    ["no version here", undefined],
  ])("java -version %j is Java %s", (output, major) => {
    expect(javaMajor(output)).toBe(major);
  });

  test("Keycloak's own reason is taken from its failed-start lines", () => {
    // As Keycloak 26.4.2 prints them when a realm file has a field it does not know.
    const lines = [
      "2026-12-03 11:46:53,630 INFO  [org.keycloak.exportimport.dir.DirImportProvider] (main) Importing from directory /x/data/import",
      "2026-12-03 11:46:54,079 ERROR [org.keycloak.quarkus.runtime.cli.ExecutionExceptionHandler] (main) ERROR: Failed to start server in (development) mode",
      "2026-12-03 11:46:54,079 ERROR [org.keycloak.quarkus.runtime.cli.ExecutionExceptionHandler] (main) ERROR: Failed to run import",
      '2026-12-03 11:46:54,080 ERROR [org.keycloak.quarkus.runtime.cli.ExecutionExceptionHandler] (main) ERROR: Unrecognized field "bazQux" (class org.keycloak.representations.idm.ClientRepresentation), not marked as ignorable',
      "2026-12-03 11:46:54,080 ERROR [org.keycloak.quarkus.runtime.cli.ExecutionExceptionHandler] (main) For more details run the same command passing the '--verbose' option. Also you can use '--help' to see the details about the usage of the particular command.",
    ];
    expect(keycloakErrorLines(lines)).toEqual([
      "Failed to run import",
      'Unrecognized field "bazQux" (class org.keycloak.representations.idm.ClientRepresentation), not marked as ignorable',
    ]);
  });
});
