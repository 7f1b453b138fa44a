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
import KcAdminClient from "@keycloak/keycloak-admin-client";
import { readFileSync } from "node:fs";
import { loadAuthorizerConfig } from "../../lib/config/authorizer-config.js";
import { createAccessTokenVerifier } from "../../lib/token/access-token-verifier.js";
import { keycloakVersion } from "../../local/keycloak/version.js";
import { freePort, startStack, type RunningStack } from "../../local/stack.js";
import { describeProviderContract } from "../contract/contract.js";
import { callApiWith, headerOf, passwordGrant, tokenEndpoint, tokenRequest } from "../contract/http.js";
import { startKeycloakSubject } from "../contract/keycloak-subject.js";
import { DPOP_CLIENT, type ProviderUnderTest } from "../contract/subject.js";
import { dpopProof, generateDpopKey } from "../helpers/dpop.js";
import { rejectionCode } from "../helpers/verification.js";
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

  test("imports keycloak/realm-demo.json and keycloak/realm-acme.json with no warning and no error", () => {
    const output = keycloak.output();
    expect(output).toContain("Realm 'demo' imported");
    expect(output).toContain("Realm 'acme' imported");
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

describe("two realms on one Keycloak (docs/many-realms.md): KEYCLOAK_ISSUER a {realm} pattern", () => {
  const ACME_CLIENT = { id: "api-client", secret: "acme-api-client-secret" };
  let open: RunningStack;
  let demoOnly: RunningStack;
  let carol: string;
  beforeAll(async () => {
    const pattern = issuer.replace(/demo$/, "{realm}");
    [open, demoOnly] = await Promise.all([
      startStack({ issuer: pattern, port: await freePort(), lambdaPort: 0, revocation: false }),
      startStack({ issuer: pattern, port: await freePort(), lambdaPort: 0, revocation: false, env: { KEYCLOAK_REALMS_ALLOW: "demo" } }),
    ]);
    const granted = await tokenRequest(
      issuer.replace(/demo$/, "acme"),
      { grant_type: "password", username: "carol", password: "carol", scope: "openid organization" },
      ACME_CLIENT,
    );
    expect(granted.status).toBe(200);
    carol = granted.body.access_token ?? "";
  }, 180_000);
  afterAll(() => Promise.all([open?.stop(), demoOnly?.stop()]));

  test("Keycloak's acme token names its organization; demo's and acme's tokens both get 200 with exactly their claims", async () => {
    expect(payloadOf(carol)).toMatchObject({ iss: issuer.replace(/demo$/, "acme"), aud: "secured-api", organization: ["acme-corp"] });
    const alice = (await passwordGrant(issuer, "alice")).access_token ?? "";
    for (const token of [carol, alice]) {
      for (const path of ["/dev/secured", "/secured"]) {
        const answer = await callApiWith(open.baseUrl, "GET", path, { authorization: `Bearer ${token}` });
        expect(answer.status).toBe(200);
        expect(answer.body.claims).toStrictEqual(payloadOf(token));
      }
    }
  });

  test("with KEYCLOAK_REALMS_ALLOW=demo, acme's token is refused on both API kinds", async () => {
    for (const path of ["/dev/secured", "/secured"]) {
      expect((await callApiWith(demoOnly.baseUrl, "GET", path, { authorization: `Bearer ${carol}` })).status).toBe(401);
    }
  });
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

describe("a realm signing with PS256 (RSA-PSS), as FAPI-style profiles have it", () => {
  let admin: KcAdminClient;
  let providerId: string;
  let stack: RunningStack;
  beforeAll(async () => {
    admin = new KcAdminClient({ baseUrl: new URL(issuer).origin, realmName: "master" });
    await admin.auth({ username: "admin", password: "admin", grantType: "password", clientId: "admin-cli" });
    admin.setConfig({ realmName: "demo" });
    const realm = await admin.realms.findOne({ realm: "demo" });
    // The operator's way: an rsa-generated key provider for PS256 above the RS256 one, and the
    // realm's default signature algorithm set to it (Realm settings > Tokens).
    ({ id: providerId } = await admin.components.create({
      name: "rsa-pss-generated",
      providerId: "rsa-generated",
      providerType: "org.keycloak.keys.KeyProvider",
      parentId: realm?.id ?? "demo",
      config: { priority: ["500"], enabled: ["true"], active: ["true"], algorithm: ["PS256"], keySize: ["2048"] },
    }));
    await admin.realms.update({ realm: "demo" }, { defaultSignatureAlgorithm: "PS256" });
    const port = await freePort();
    stack = await startStack({ issuer, port, lambdaPort: 0, env: { KEYCLOAK_ALGORITHMS: "PS256", KEYCLOAK_DPOP: "allowed" } });
  }, 180_000);
  afterAll(async () => {
    await stack?.stop();
    await admin?.realms.update({ realm: "demo" }, { defaultSignatureAlgorithm: "RS256" });
    if (providerId !== undefined) await admin?.components.del({ id: providerId });
  }, 60_000);

  test("Keycloak signs access tokens PS256 with its active PS256 key, and publishes it for PS256 only", async () => {
    const { active } = await admin.realms.getKeys({ realm: "demo" });
    const token = (await passwordGrant(issuer, "alice")).access_token ?? "";
    expect(headerOf(token)).toMatchObject({ alg: "PS256", kid: active?.PS256 });
    const jwks = (await (await fetch(`${issuer}/protocol/openid-connect/certs`)).json()) as { keys: Array<Record<string, unknown>> };
    expect(jwks.keys.find((key) => key.kid === active?.PS256)).toMatchObject({ kty: "RSA", alg: "PS256", use: "sig" });
  });

  test.each([
    ["REST API", "/dev"],
    ["HTTP API", ""],
  ])("%s: Keycloak's PS256 access token gets 200 with exactly its claims; a tampered one 401", async (_kind, prefix) => {
    const token = (await passwordGrant(issuer, "alice")).access_token ?? "";
    const ok = await callApiWith(stack.baseUrl, "GET", `${prefix}/secured`, { authorization: `Bearer ${token}` });
    expect(ok.status).toBe(200);
    expect(ok.body.claims).toStrictEqual(payloadOf(token));
    const [header, , signature] = token.split(".") as [string, string, string];
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...payloadOf(token), realm_access: { roles: ["admin", "superuser"] } })).toString("base64url")}.${signature}`;
    expect((await callApiWith(stack.baseUrl, "GET", `${prefix}/secured`, { authorization: `Bearer ${forged}` })).status).toBe(401);
  });

  test("a DPoP-bound PS256 token of dpop-client, with a proof per request, on both API kinds", async () => {
    const key = generateDpopKey("ES256");
    const granted = await tokenRequest(issuer, { grant_type: "client_credentials" }, DPOP_CLIENT, {
      DPoP: dpopProof(key, { htm: "POST", htu: tokenEndpoint(issuer) }),
    });
    const token = granted.body.access_token ?? "";
    expect(headerOf(token).alg).toBe("PS256");
    for (const path of ["/dev/secured", "/secured"]) {
      const headers = { authorization: `DPoP ${token}`, DPoP: dpopProof(key, { htm: "GET", htu: `${stack.baseUrl}${path}`, accessToken: token }) };
      expect((await callApiWith(stack.baseUrl, "GET", path, headers)).status).toBe(200);
      expect((await callApiWith(stack.baseUrl, "GET", path, headers)).status).toBe(401);
    }
  });

  test("the allow-list still rules: with RS256 only (the default), Keycloak's PS256 tokens are refused", async () => {
    const verifier = createAccessTokenVerifier(loadAuthorizerConfig({ KEYCLOAK_ISSUER: issuer, KEYCLOAK_AUDIENCE: "secured-api" }));
    expect(await rejectionCode(verifier, (await passwordGrant(issuer, "alice")).access_token ?? "")).toBe("algorithm_not_allowed");
  });
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
