/**
 * `npm run doctor`'s parts in-process: its check-by-check explanation agrees with the verifier's
 * decision for every kind of refusal; the fetch rules, the access window and a stage's environment
 * are what the authorizer and serverless would make of them. (The process itself:
 * test/e2e/doctor.test.ts; the mismatches: test/diagnostics/mismatches.ts.)
 */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { API_ROUTES } from "../../functions/routes.js";
import { Report } from "../../local/doctor/checklist.js";
import { checkRealm } from "../../local/doctor/realm-checks.js";
import { stageEnvironment } from "../../local/doctor/stage-env.js";
import { checkAccessWindow, checkToken } from "../../local/doctor/token-checks.js";
import { ROOT } from "../../local/stack.js";
import { keycloakAccessClaims } from "../../lib/testing/index.js";
import { testConfig } from "../helpers/config.js";
import type { DoctorConfig } from "../../local/doctor/doctor-config.js";

/** The doctor looks at one realm: the test configuration, with that realm named. */
const doctorConfig = (issuer: string, env: Record<string, string> = {}): DoctorConfig => ({ ...testConfig(issuer, env), issuer });
import { startIdpStub, type IdpStub } from "../helpers/idp-stub.js";
import { accessToken, generateRsaKey, signJwt, type TestKey } from "../helpers/tokens.js";

let idp: IdpStub;
let key: TestKey;
const encryption = generateRsaKey({ kid: "enc-1", use: "enc" });

beforeAll(async () => {
  key = generateRsaKey();
  idp = await startIdpStub([key.jwk, encryption.jwk]);
});
afterAll(() => idp.close());

function report(): { report: Report; lines: string[] } {
  const lines: string[] = [];
  return { report: new Report((line) => lines.push(line)), lines };
}

describe("the explanation agrees with the authorizer's decision", () => {
  const now = () => Math.floor(Date.now() / 1000);
  const cases: Array<[string, () => string, string, Record<string, string>?]> = [
    ["garbage", () => "not-a-jwt", "malformed_token"],
    [
      "a disallowed algorithm",
      () => signJwt({ alg: "RS384", kid: key.kid }, keycloakAccessClaims(idp.issuer), key.privateKey, "sha384"),
      "algorithm_not_allowed",
    ],
    ["no kid", () => signJwt({ alg: "RS256" }, keycloakAccessClaims(idp.issuer), key.privateKey), "missing_kid"],
    ["crit", () => accessToken(key, idp.issuer, { header: { crit: ["b64"], b64: false } }), "unsupported_crit"],
    ["an embedded jwk", () => accessToken(key, idp.issuer, { header: { jwk: key.jwk } }), "embedded_key_header"],
    ["another issuer", () => accessToken(key, idp.issuer, { claims: { iss: "https://other.example/realms/x" } }), "invalid_issuer"],
    ["padding", () => `${accessToken(key, idp.issuer)}=`, "non_canonical_token"],
    ["expired", () => accessToken(key, idp.issuer, { claims: { exp: now() - 120 } }), "token_expired"],
    ["nbf ahead", () => accessToken(key, idp.issuer, { claims: { nbf: now() + 600 } }), "token_not_yet_valid"],
    ["a foreign audience", () => accessToken(key, idp.issuer, { claims: { aud: "account" } }), "invalid_audience"],
    ["no exp, and a foreign audience", () => accessToken(key, idp.issuer, { claims: { exp: undefined, aud: "account" } }), "invalid_audience"],
    ["no exp", () => accessToken(key, idp.issuer, { claims: { exp: undefined } }), "missing_exp"],
    ["no iat", () => accessToken(key, idp.issuer, { claims: { iat: undefined } }), "missing_iat"],
    ["iat ahead", () => accessToken(key, idp.issuer, { claims: { iat: now() + 600 } }), "iat_in_future"],
    ["an ID token", () => accessToken(key, idp.issuer, { claims: { typ: "ID" } }), "invalid_token_type"],
    ["an unlisted client", () => accessToken(key, idp.issuer, { claims: { azp: "other" } }), "client_not_allowed", { KEYCLOAK_ALLOWED_CLIENTS: "api-client" }],
    ["no sub", () => accessToken(key, idp.issuer, { claims: { sub: undefined } }), "missing_subject"],
    ["cnf", () => accessToken(key, idp.issuer, { claims: { cnf: { jkt: "x" } } }), "sender_constrained_token"],
    ["an unknown kid", () => accessToken({ ...key, kid: "nope" }, idp.issuer), "unknown_kid"],
    ["the encryption key's kid", () => accessToken({ ...generateRsaKey(), kid: "enc-1" }, idp.issuer), "key_not_usable"],
    ["a forged signature", () => accessToken({ ...generateRsaKey(), kid: key.kid }, idp.issuer), "invalid_signature"],
    ["an oversized token", () => accessToken(key, idp.issuer, { claims: { pad: "x".repeat(17_000) } }), "token_too_large"],
  ];

  test.each(cases.map(([label, make, code, env]) => [label, code, make, env] as const))(
    "%s: refused with %s, the explanation's first failure the same",
    async (_label, code, make, env = {}) => {
      const config = doctorConfig(idp.issuer, env);
      const { report: checks, lines } = report();
      await checkToken(checks, config, make(), [key.jwk, encryption.jwk], API_ROUTES);
      const decision = lines.find((line) => line.includes("decision:"));
      expect(decision).toContain(`decision: refused, 401, reason ${code} (the authorizer's log line says this)`);
      expect(decision).not.toContain("disagrees");
      expect(lines.some((line) => line.startsWith("  FAIL"))).toBe(true);
    },
  );

  test("a valid token: every check ok, allowed, and the routes it may call", async () => {
    const { report: checks, lines } = report();
    const { lifespanSeconds } = await checkToken(checks, doctorConfig(idp.issuer), accessToken(key, idp.issuer), [key.jwk], API_ROUTES);
    expect(checks.failures).toBe(0);
    expect(lifespanSeconds).toBe(300);
    expect(lines).toContain("  yes   GET /admin  (realm role admin)");
    expect(lines.find((line) => line.includes("decision:"))).toMatch(/decision: allowed, principal sub "5c0f8e0e-/);
  });
});

describe("the realm's fetch rules", () => {
  test("plain http to a host on a network: refused by the authorizer (FAIL), or, with KEYCLOAK_ALLOW_HTTP, a warning", async () => {
    // The test's network is loopback only: discovery fails at once, which is beside the point here.
    for (const [env, status] of [
      [{}, "FAIL"],
      [{ KEYCLOAK_ALLOW_HTTP: "true" }, "warn"],
    ] as const) {
      const { report: checks, lines } = report();
      await checkRealm(checks, doctorConfig("http://keycloak.internal/realms/demo", env), { localStage: true, withToken: false });
      expect(lines[0]).toContain(`${status.padEnd(5)} KEYCLOAK_ISSUER is`);
      expect(lines.some((line) => line.includes("FAIL  discovery does not answer"))).toBe(true);
    }
  });
});

describe("the access window after logout", () => {
  const window = (lifespan: number | undefined, ttl: number) => {
    const { report: checks, lines } = report();
    checkAccessWindow(checks, doctorConfig(idp.issuer), lifespan, ttl);
    return { lines: lines.join("\n"), warnings: checks.warnings };
  };
  test("in seconds: the token's lifespan plus the clock skew; warnings for long tokens and a cache TTL that outlasts them", () => {
    expect(window(300, 300)).toEqual({ lines: expect.stringContaining("a logged-out user keeps access for up to 330 s"), warnings: 0 });
    expect(window(300, 600)).toEqual({ lines: expect.stringContaining("authorizerCacheTtlSeconds (600 s) outlasts the token (300 s)"), warnings: 1 });
    expect(window(3600, 300)).toEqual({ lines: expect.stringContaining("up to 3630 s"), warnings: 1 });
    expect(window(undefined, 300).lines).toContain("Keycloak's default lifespan is 300 s: 330 s");
  });
});

describe("a stage's environment, as serverless resolves it", () => {
  test("dev: the local defaults, this shell's variables over them", async () => {
    const dev = await stageEnvironment(ROOT, "dev", {}, {});
    expect(dev).toMatchObject({ stage: "dev", local: true, cacheTtlSeconds: 300 });
    expect(dev.env).toMatchObject({ KEYCLOAK_ISSUER: "http://localhost:8080/realms/demo", KEYCLOAK_AUDIENCE: "secured-api", KEYCLOAK_ALGORITHMS: "" });
    const shell = await stageEnvironment(ROOT, "dev", {}, { KEYCLOAK_ALGORITHMS: "ES256", KEYCLOAK_ISSUER: "http://localhost:9/realms/x" });
    expect(shell.env).toMatchObject({ KEYCLOAK_ALGORITHMS: "ES256", KEYCLOAK_ISSUER: "http://localhost:9/realms/x" });
  });

  test("prod: not local, no issuer unless given; --param wins over everything", async () => {
    const prod = await stageEnvironment(ROOT, "prod", {}, {});
    expect(prod).toMatchObject({ stage: "prod", local: false });
    expect(prod.env.KEYCLOAK_ISSUER).toBe("");
    const given = await stageEnvironment(
      ROOT,
      "prod",
      { keycloakIssuer: "https://kc.example.com/realms/demo", authorizerCacheTtlSeconds: "60" },
      { KEYCLOAK_ISSUER: "x" },
    );
    expect(given).toMatchObject({ cacheTtlSeconds: 60, env: expect.objectContaining({ KEYCLOAK_ISSUER: "https://kc.example.com/realms/demo" }) });
  });
});
