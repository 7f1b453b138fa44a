/**
 * `npm run doctor` as a person runs it: against the embedded provider (a clean bill, then a
 * token), against a bad URL and a broken configuration (a clear message, exit 1), with wrong
 * arguments (exit 2). Never a secret or a token in its output. The mismatches and their fixes are
 * test/diagnostics/mismatches.ts's.
 */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { freePort } from "../../local/stack.js";
import { startProvider, type RunningProvider } from "../../local/provider/index.js";
import { clientTokens } from "../helpers/oidc-client.js";
import { runScript } from "../helpers/npm-script.js";

let provider: RunningProvider;

beforeAll(async () => {
  provider = await startProvider({ port: 0 });
});
afterAll(() => provider.close());

async function doctor(args: readonly string[], env: Record<string, string | undefined>): Promise<{ code: string; out: string }> {
  const run = runScript(["run", "-s", "doctor", "--", ...args], env);
  const code = await run.exited;
  return { code, out: run.output() };
}

describe("against the embedded provider", () => {
  test("the local configuration: every check passes, exit 0, and it says a token would show the signing key", async () => {
    const { code, out } = await doctor([], { KEYCLOAK_ISSUER: provider.issuer });
    expect(out).toContain(`KEYCLOAK_ISSUER ${provider.issuer}`);
    expect(out).toContain("ok    discovery's issuer is exactly KEYCLOAK_ISSUER");
    expect(out).toMatch(/ok {4}the JWKS has signing keys for an allowed algorithm: RS256 \(kid [\w-]+\)/);
    expect(out).toMatch(/info {2}JWKS key [\w-]+: an encryption key \(RSA-OAEP\), never used to verify tokens/);
    expect(out).toContain("which key the realm signs access tokens with shows only in a token");
    expect(out).toContain("Keycloak's default lifespan is 300 s: 330 s");
    expect(out).toContain("result: no check failed");
    expect(code).toBe("0");
  }, 60_000);

  test("with the service account's token: each check, the decision, the routes, and the longest access after logout in seconds; no secret, no token", async () => {
    const token = (await clientTokens(provider.issuer)).access_token;
    const { code, out } = await doctor(["--client"], { KEYCLOAK_ISSUER: provider.issuer });
    expect(out).toContain("token (client credentials of client api-client, from the realm's token endpoint)");
    expect(out).toContain(`ok    iss "${provider.issuer}" is exactly KEYCLOAK_ISSUER`);
    expect(out).toContain("ok    the signature verifies with the realm's key");
    expect(out).toMatch(/decision: allowed, principal sub "[\w-]+", verified by kid [\w-]+/);
    expect(out).toContain("ok    API Gateway accepts the answers: a REST policy allowing");
    // The service account is a secured-api reader, no admin.
    expect(out).toContain("yes   GET /reports  (client role secured-api/reader or client role secured-api/writer)");
    expect(out).toContain("no    GET /admin  (realm role admin)");
    expect(out).toContain("a logged-out user keeps access for up to 330 s");
    expect(out).toContain("result: no check failed");
    expect(code).toBe("0");
    expect(out).not.toContain("api-client-secret");
    expect(out).not.toContain(token.split(".")[2] ?? "");
  }, 60_000);

  test("a client that requires DPoP-bound tokens: the doctor asks with a proof of its own, explains the bound token and decides it as a client sends it", async () => {
    const dpopClient = ["--client", "--client-id", "dpop-client", "--client-secret", "dpop-client-secret"];
    const { code, out } = await doctor(dpopClient, { KEYCLOAK_ISSUER: provider.issuer, KEYCLOAK_DPOP: "allowed" });
    expect(out).toContain("info  the client requires DPoP-bound tokens: asked again with a proof by a key the doctor made for this run");
    expect(out).toContain('ok    typ "DPoP" is Bearer or DPoP (an access token)');
    expect(out).toContain("ok    cnf.jkt binds it to a DPoP key: the API takes it as DPoP <token> with a proof by that key (KEYCLOAK_DPOP allowed)");
    expect(out).toContain("ok    a DPoP-bound token: sent as DPoP <token> with a proof by the doctor's key, as a client does");
    expect(out).toMatch(/decision: allowed, principal sub "[\w-]+"/);
    expect(out).toContain("ok    API Gateway accepts the answers: a REST policy allowing");
    // DPoP turns API Gateway's result cache off: it adds nothing to the access window.
    expect(out).toContain("the API Gateway result cache (authorizerCacheTtlSeconds 0 s)");
    expect(out).toContain("result: no check failed");
    expect(code).toBe("0");
    expect(out).not.toContain("dpop-client-secret");

    // The same token's check with DPoP off: refused, and the fix says to turn it on.
    const off = await doctor(dpopClient, { KEYCLOAK_ISSUER: provider.issuer, KEYCLOAK_DPOP: "off" });
    expect(off.out).toContain("FAIL  cnf.jkt binds it to a DPoP key, and KEYCLOAK_DPOP is off");
    expect(off.out).toContain("decision: refused, 401, reason sender_constrained_token");
    expect(off.code).toBe("1");
  }, 90_000);

  test("a wrong client secret: the token request fails with Keycloak's error, and the secret is not printed", async () => {
    const { code, out } = await doctor(["--client", "--client-secret", "not-the-secret-42"], { KEYCLOAK_ISSUER: provider.issuer });
    expect(out).toMatch(/FAIL {2}no token: token request failed \(HTTP 401\) (invalid_client|unauthorized_client)/);
    expect(out).toContain("fix: check --client-id and --client-secret");
    expect(out).not.toContain("not-the-secret-42");
    expect(code).toBe("1");
  }, 60_000);
});

describe("what cannot work says so and exits 1", () => {
  test("nothing at the issuer: discovery does not answer, with the network error and the fix", async () => {
    const issuer = `http://127.0.0.1:${await freePort()}/realms/demo`;
    const { code, out } = await doctor(["--client"], { KEYCLOAK_ISSUER: issuer });
    expect(out).toContain(`FAIL  discovery does not answer (key fetch failed (${issuer}/.well-known/openid-configuration): ECONNREFUSED)`);
    expect(out).toContain("fix: check KEYCLOAK_ISSUER: the realm's URL exactly as in tokens' iss");
    expect(out).toMatch(/FAIL {2}no token: cannot reach/);
    expect(out).toMatch(/result: \d+ checks? failed/);
    expect(code).toBe("1");
  }, 60_000);

  test("not a URL: the authorizer would not start, and the message names the variable", async () => {
    const { code, out } = await doctor([], { KEYCLOAK_ISSUER: "keycloak:8080/realms/demo" });
    expect(out).toContain("FAIL  the authorizer would not start: KEYCLOAK_ISSUER must be an http(s) URL such as https://keycloak.example.com/realms/demo");
    expect(code).toBe("1");
  }, 60_000);

  test("a deployed stage without its issuer, then with a loopback one: the messages serverless package would give", async () => {
    const missing = await doctor(["--stage", "prod"], { KEYCLOAK_ISSUER: undefined });
    expect(missing.out).toContain("FAIL  the authorizer would not start: KEYCLOAK_ISSUER is required");
    expect(missing.code).toBe("1");
    const loopback = await doctor(["--stage", "prod", "--param", `keycloakIssuer=${provider.issuer}`], { KEYCLOAK_ISSUER: undefined });
    expect(loopback.out).toContain("FAIL  a deployed stage with a plain http issuer: serverless package/deploy refuses it (infra/stage-check.cjs)");
    expect(loopback.code).toBe("1");
  }, 60_000);

  test("wrong arguments: the usage, exit 2", async () => {
    const { code, out } = await doctor(["--client", "--token", "x"], {});
    expect(out).toContain("doctor: give at most one of --token, --user and --client");
    expect(out).toContain("usage: npm run doctor --");
    expect(code).toBe("2");
  }, 60_000);
});
