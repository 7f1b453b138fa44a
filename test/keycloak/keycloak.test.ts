/**
 * Real Keycloak, the way a newcomer meets it: `npm run keycloak` (the distribution from Maven
 * Central, dev mode, keycloak/realm-demo.json imported), then `npm start` against it, then the
 * provider contract (test/contract/contract.ts) against the same server, then Ctrl-C.
 *
 * The Keycloak is this file's own, on free ports (never 8080/9000, which a developer's
 * `npm run keycloak` may hold), started once for every test here and stopped at the end: the
 * contract changes the realm (keys, sessions, clients), and the import check reads its log.
 */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { readFileSync } from "node:fs";
import { keycloakVersion } from "../../local/keycloak/version.js";
import { freePort } from "../../local/stack.js";
import { describeProviderContract } from "../contract/contract.js";
import { passwordGrant } from "../contract/http.js";
import { startKeycloakSubject } from "../contract/keycloak-subject.js";
import type { ProviderUnderTest } from "../contract/subject.js";
import { payloadOf } from "../helpers/oidc-client.js";
import { portsClosed, runScript, type ScriptRun } from "../helpers/npm-script.js";

const { version } = keycloakVersion();
/** A first run on a fresh machine fetches about 160 MB with Maven and runs Quarkus' build step. */
const FIRST_START_MS = 20 * 60_000;

let keycloak: ScriptRun;
let issuer: string;
let issuerPort: number;
let managementPort: number;

beforeAll(async () => {
  issuerPort = await freePort();
  issuer = `http://localhost:${issuerPort}/realms/demo`;
  // VERBOSE=1: Keycloak's whole log, to check the import.
  keycloak = runScript(["run", "keycloak"], { KEYCLOAK_ISSUER: issuer, KEYCLOAK_MANAGEMENT_PORT: "0", VERBOSE: "1" });
  await keycloak.waitFor(/Ctrl-C here stops Keycloak/, FIRST_START_MS);
  managementPort = Number(/health http:\/\/127\.0\.0\.1:(\d+)\/health\/ready/.exec(keycloak.output())?.[1]);
}, FIRST_START_MS + 10_000);

afterAll(async () => {
  // The last test stops it with Ctrl-C; this only cleans up after a failure.
  keycloak?.kill();
});

/** 127.0.0.1 as /proc/net/tcp shows it, and as /proc/net/tcp6 shows an IPv4-mapped ::ffff:127.0.0.1 (Java binds that way). */
const LOOPBACK = new Set(["0100007F", "0000000000000000FFFF00000100007F"]);

/** Local addresses of the sockets listening on `port` (hex, as /proc/net/tcp* shows them). */
function listeners(port: number): string[] {
  const found: string[] = [];
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of readFileSync(table, "utf8").split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      const [address, hexPort] = (fields[1] ?? "").split(":");
      if (fields[3] === "0A" && hexPort !== undefined && Number.parseInt(hexPort, 16) === port) found.push(address ?? "");
    }
  }
  return found;
}

describe("npm run keycloak", () => {
  test("prints the Keycloak version of keycloak/version.json and a ready line", () => {
    const output = keycloak.output();
    expect(output).toContain(`Keycloak ${version} (org.keycloak:keycloak-quarkus-dist:${version}:zip) for ${issuer}`);
    expect(output).toMatch(new RegExp(`Keycloak ${version.replace(/\./g, "\\.")} ready in [\\d.]+s.*: issuer ${issuer}`));
    expect(output).toContain("Ctrl-C here stops Keycloak");
  });

  test("imports keycloak/realm-demo.json with no warning and no error", () => {
    const output = keycloak.output();
    expect(output).toContain("Realm 'demo' imported");
    expect(output).toContain("Import finished successfully");
    // Keycloak's log format: `<date> <time> LEVEL [category] (thread) message`.
    const warnings = output.split("\n").filter((line) => /^\S+ \S+ (WARN|ERROR)\s+\[/.test(line));
    expect(warnings).toEqual([]);
  });

  test("tokens carry exactly the issuer as iss, however Keycloak is reached", async () => {
    const discovery = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as { issuer: string };
    expect(discovery.issuer).toBe(issuer);
    const viaLoopbackAddress = `http://127.0.0.1:${issuerPort}/realms/demo`;
    const tokens = await passwordGrant(viaLoopbackAddress, "alice");
    expect(payloadOf(tokens.access_token ?? "").iss).toBe(issuer);
  });

  test("listens on loopback only, with its health check on the management port", async () => {
    for (const port of [issuerPort, managementPort]) {
      const addresses = listeners(port);
      expect(addresses.length).toBeGreaterThan(0);
      expect(addresses.filter((address) => !LOOPBACK.has(address))).toEqual([]);
    }
    const health = await fetch(`http://127.0.0.1:${managementPort}/health/ready`);
    expect(health.status).toBe(200);
    expect(((await health.json()) as { status: string }).status).toBe("UP");
  });
});

describe("npm start with Keycloak running", () => {
  test("says which Keycloak it found, and a token from Keycloak's own token endpoint gets 200 from /secured with its claims", async () => {
    const [port, lambdaPort] = [await freePort(), await freePort()];
    const start = runScript(["start"], { KEYCLOAK_ISSUER: issuer, PORT: String(port), LAMBDA_PORT: String(lambdaPort) });
    try {
      await start.waitFor(/ready in [\d.]+s\. Try:[\s\S]*--user alice\)/, 120_000);
      expect(start.output()).toContain(`provider: Keycloak ${version} at ${issuer}`);
      const tokens = await passwordGrant(issuer, "alice");
      for (const path of ["/secured", "/dev/secured"]) {
        const response = await fetch(`http://localhost:${port}${path}`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
        expect(response.status).toBe(200);
        expect(((await response.json()) as { claims: unknown }).claims).toStrictEqual(payloadOf(tokens.access_token ?? ""));
      }
      expect(["0", "SIGINT"]).toContain(await start.interrupt());
      expect(await portsClosed([port, lambdaPort])).toBe(true);
    } finally {
      start.kill();
    }
  }, 180_000);
});

describe(`the provider contract against Keycloak ${version}`, () => {
  let subject: ProviderUnderTest & { stop(): Promise<void> };
  beforeAll(async () => {
    subject = await startKeycloakSubject({ issuer, origin: new URL(issuer).origin, realm: "demo", version, admin: { username: "admin", password: "admin" } });
  }, 180_000);
  afterAll(async () => {
    await subject?.stop();
  });
  describeProviderContract(() => subject, { adminSignOut: true });
});

describe("Ctrl-C", () => {
  test("stops Keycloak, leaving no process and no open port", async () => {
    const exit = await keycloak.interrupt();
    expect(["0", "SIGINT"]).toContain(exit);
    expect(keycloak.output()).toContain("Keycloak stopped.");
    expect(await portsClosed([issuerPort, managementPort])).toBe(true);
    const { execFileSync } = await import("node:child_process");
    const left = execFileSync("ps", ["-eo", "args"])
      .toString()
      .split("\n")
      .filter((line) => line.includes(`--http-port=${issuerPort}`));
    expect(left).toEqual([]);
  }, 60_000);
});
