/**
 * Hints that name the fix (lib/operations/hints.ts): one per configuration mismatch, none for
 * attacks, never the token's own text, at most one per reason per interval, computed only on the
 * refusal path; and how they reach the authorizer's and the protected handler's log lines.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, jest, test } from "@jest/globals";
import type { Context } from "aws-lambda";
import { API_ROUTES } from "../../functions/routes.js";
import { createAuthorizerHandler } from "../../lib/authorizer/authorizer-handler.js";
import { authorizerHandler, protectedHandler } from "../../lib/lambda-handlers.js";
import { HINT_INTERVAL_MS, HintLimiter, hintFor, rolesHint, tokenParts, type HintSettings } from "../../lib/operations/hints.js";
import { createLogger } from "../../lib/operations/logger.js";
import { createAuthorizerTelemetry } from "../../lib/operations/telemetry.js";
import { clientRole, realmRole, scope } from "../../lib/routes/requirements.js";
import { createAccessTokenVerifier } from "../../lib/token/access-token-verifier.js";
import { authorizerEvent, EVENT_KINDS, keycloakAccessClaims, lambdaContext, protectedEvent } from "../../lib/testing/index.js";
import { captureOutput, type CapturedOutput } from "../helpers/captured-output.js";
import { testConfig } from "../helpers/config.js";
import { startIdpStub, type IdpStub } from "../helpers/idp-stub.js";
import { accessToken, b64url, generateRsaKey, signJwt, type TestKey } from "../helpers/tokens.js";

const ISSUER = "https://keycloak.example.com/realms/demo";
const SETTINGS: HintSettings = {
  issuers: { exact: [{ issuer: ISSUER }], patterns: [] },
  audiences: ["secured-api"],
  algorithms: ["RS256"],
  principalClaim: "sub",
};
const hint = (code: string, payload: Record<string, unknown> = {}, header: Record<string, unknown> = {}, detail?: { keyProblem: string }) =>
  hintFor({ code, payload, header, detail }, SETTINGS);

describe("which refusals get a hint, and what it names", () => {
  test("aud without the API: the Audience mapper, for the client that asked", () => {
    expect(hint("invalid_audience", { aud: "account", azp: "web-app", acr: "1" })).toBe(
      'token has only aud "account", none of KEYCLOAK_AUDIENCE (secured-api): add an Audience mapper (Included Client Audience: secured-api) to client web-app or a client scope it uses, or set KEYCLOAK_AUDIENCE',
    );
    expect(hint("invalid_audience", { azp: "web-app", acr: "1" })).toMatch(/^token has no aud, none of KEYCLOAK_AUDIENCE .*Audience mapper/);
    expect(hint("invalid_audience", { aud: ["other-api"], azp: "web-app", acr: "1" })).toMatch(/^token names other audiences/);
  });

  test("a lightweight token without aud: the mapper's lightweight switch", () => {
    expect(hint("invalid_audience", { azp: "m2m", sub: "x", typ: "Bearer", scope: "profile" })).toMatch(
      /lightweight access token.*"Add to lightweight access token" on.*Audience mapper.*"Always use lightweight access token".*KEYCLOAK_LIGHTWEIGHT_TOKENS=true/,
    );
  });

  test("an ID, refresh, offline or logout token, whatever check stopped it, says to send the access token", () => {
    expect(hint("invalid_audience", { typ: "ID", aud: "api-client" })).toMatch(/^an ID token was sent \(typ ID\): send the token response's access_token/);
    expect(hint("invalid_token_type", { typ: "ID" })).toMatch(/^an ID token was sent/);
    expect(hint("algorithm_not_allowed", { typ: "Refresh" }, { alg: "HS512" })).toMatch(/^a refresh token was sent \(typ Refresh\)/);
    expect(hint("invalid_token_type", { typ: "Offline" })).toMatch(/^an offline token was sent/);
    expect(hint("invalid_token_type", { typ: "Logout" })).toMatch(/^a logout token was sent/);
    expect(hint("invalid_token_type", { typ: "Weird" })).toBeUndefined();
  });

  test("iss with this realm's path on another host: Keycloak's hostname and KEYCLOAK_ISSUER, with the host only when it is a plain one", () => {
    expect(hint("invalid_issuer", { iss: "http://keycloak:8080/realms/demo" })).toBe(
      "token iss has this realm's path on another host (keycloak:8080; KEYCLOAK_ISSUER has keycloak.example.com): pin Keycloak's hostname (KC_HOSTNAME or --hostname, or the realm's Frontend URL) to one URL and set KEYCLOAK_ISSUER to exactly that issuer",
    );
    expect(hint("invalid_issuer", { iss: "https://xn--80ak6aa92e.com/realms/demo" })).toMatch(/\(xn--80ak6aa92e\.com;/);
    expect(hint("invalid_issuer", { iss: "https://keycloak.example.com/auth/realms/demo" })).toMatch(/only by the \/auth prefix/);
    // Unrelated issuers are not a setting to change: no hint.
    expect(hint("invalid_issuer", { iss: "https://evil.example/realms/other" })).toBeUndefined();
    expect(hint("invalid_issuer", { iss: "not a url" })).toBeUndefined();
    expect(hint("invalid_issuer", { iss: 42 })).toBeUndefined();
  });

  test("with several trusted issuers and realm patterns, the same realm path on another host of any of them", () => {
    const settings: HintSettings = { ...SETTINGS, issuers: { exact: [{ issuer: ISSUER }], patterns: ["https://id.example.com/realms/{realm}"] } };
    const of = (iss: unknown) => hintFor({ code: "invalid_issuer", payload: { iss } }, settings);
    expect(of("http://keycloak:8080/realms/tenant-7")).toMatch(
      /^token iss has this realm's path on another host \(keycloak:8080; KEYCLOAK_ISSUER has id\.example\.com\)/,
    );
    expect(of("http://keycloak:8080/realms/demo")).toMatch(/KEYCLOAK_ISSUER has keycloak\.example\.com\)/);
    expect(of("https://id.example.com/auth/realms/tenant-7")).toMatch(/only by the \/auth prefix/);
    // A realm name a pattern would not accept is not put into it: no hint.
    expect(of("http://keycloak:8080/realms/a%2Fb")).toBeUndefined();
    expect(of("https://evil.example/other/tenant-7")).toBeUndefined();
  });

  test("no sub: the basic client scope, or another principal claim", () => {
    expect(hint("missing_subject", { azp: "web-app", acr: "1", realm_access: {} })).toBe(
      "token has no sub: Keycloak 25+ adds sub only through the basic client scope; add basic to the default client scopes of client web-app, or set KEYCLOAK_PRINCIPAL_CLAIM to another per-caller claim",
    );
    expect(hint("missing_subject", { azp: "lw", aud: "secured-api", typ: "Bearer", scope: "openid" })).toMatch(/lightweight access token.*service accounts/);
    expect(hintFor({ code: "missing_subject", payload: { azp: "web-app", acr: "1" } }, { ...SETTINGS, principalClaim: "preferred_username" })).toMatch(
      /^token has no preferred_username claim \(KEYCLOAK_PRINCIPAL_CLAIM\).*KEYCLOAK_PRINCIPAL_CLAIM=sub$/,
    );
  });

  test("an alg the allow-list lacks: KEYCLOAK_ALGORITHMS, or the realm's and client's signature algorithm", () => {
    expect(hint("algorithm_not_allowed", { typ: "Bearer" }, { alg: "ES256" })).toBe(
      "token alg ES256 is not in KEYCLOAK_ALGORITHMS (RS256): if the realm signs with it (Realm settings > Tokens > Default signature algorithm, or the client's Access token signature algorithm), add ES256 to KEYCLOAK_ALGORITHMS (with KEYCLOAK_ECDSA_ALLOW_HIGH_S=true for ES*), or switch back to RS256",
    );
    // RSA-PSS is verified (lib/token/rsa-pss-signature.ts): a setting to change like any other.
    expect(hint("algorithm_not_allowed", {}, { alg: "PS256" })).toMatch(/^token alg PS256 is not in KEYCLOAK_ALGORITHMS \(RS256\)/);
    // An attack's alg is no setting to change.
    for (const alg of ["none", "HS256", "RS256 ", "<script>", 7]) expect(hint("algorithm_not_allowed", {}, { alg })).toBeUndefined();
  });

  test("a kid that names an encryption key, a weak key or a mislabelled one: the realm's key providers", () => {
    expect(hint("key_not_usable", {}, {}, { keyProblem: "not_a_signing_key" })).toMatch(
      /encryption key \(use "enc"\), which never signs.*Realm settings > Keys/,
    );
    expect(hint("key_not_usable", {}, {}, { keyProblem: "weak_rsa_key" })).toMatch(/under 2048 bits/);
    expect(hint("key_not_usable", {}, {}, { keyProblem: "alg_disagrees_with_key" })).toMatch(/contradicts its key type/);
    expect(hint("key_not_usable", {}, {}, { keyProblem: "invalid_key_material" })).toBeUndefined();
  });

  test.each([
    "invalid_signature",
    "malformed_token",
    "non_canonical_token",
    "embedded_key_header",
    "unsupported_crit",
    "unknown_kid",
    "token_expired",
    "missing_token",
    "client_not_allowed",
  ])("%s is no configuration mismatch: no hint", (code) => {
    expect(hint(code, { typ: "ID", aud: "account", iss: "http://keycloak:8080/realms/demo" }, { alg: "ES256" })).toBeUndefined();
  });

  test("no role claims at all, for a route that requires a role: the roles scope (and the lightweight switch)", () => {
    const noRoles = { azp: "web-app", acr: "1", preferred_username: "alice", sub: "x" };
    expect(rolesHint(realmRole("admin"), noRoles)).toBe(
      "token carries no roles (no realm_access, no resource_access): give client web-app the roles client scope (unless the caller has no role at all)",
    );
    expect(rolesHint(clientRole("secured-api", "reader"), { azp: "m2m", sub: "x", aud: "secured-api" })).toMatch(
      /lightweight access token.*Add to lightweight/,
    );
    // It has role claims and just lacks this role, or the route asks for a scope: nothing to configure.
    expect(rolesHint(realmRole("admin"), { ...noRoles, realm_access: { roles: ["user"] } })).toBeUndefined();
    expect(rolesHint(scope("reports:read"), noRoles)).toBeUndefined();
    expect(rolesHint(undefined, noRoles)).toBeUndefined();
  });
});

describe("hints never echo the token's text", () => {
  const hostile = '"},{"admin":true} \u202e\n<img src=x onerror=alert(1)>';
  test.each([
    ["invalid_audience", { aud: hostile, azp: hostile, acr: "1" }, {}],
    ["missing_subject", { azp: hostile, acr: "1" }, {}],
    ["invalid_issuer", { iss: `https://${encodeURIComponent(hostile)}.example/realms/demo` }, {}],
    ["invalid_issuer", { iss: `https://a${"b".repeat(200)}.example/realms/demo` }, {}],
    ["algorithm_not_allowed", { typ: hostile }, { alg: hostile }],
  ])("%s with hostile claims", (code, payload, header) => {
    const text = hint(code, payload, header) ?? "";
    expect(text).not.toContain("<img");
    expect(text).not.toContain("admin");
    expect(text).not.toContain("\u202e");
    expect(text).not.toContain("\n");
    expect(text).not.toMatch(/b{100}/);
  });

  test("tokenParts decodes leniently and never throws", () => {
    expect(tokenParts(`${b64url({ alg: "RS256" })}.${b64url({ aud: "x" })}.sig`)).toEqual({ header: { alg: "RS256" }, payload: { aud: "x" } });
    for (const token of ["", "...", "a.b.c", `${b64url("[1]")}.${b64url("null")}.x`, "x".repeat(100_000)]) expect(() => tokenParts(token)).not.toThrow();
    expect(tokenParts(`${b64url("[1]")}.${b64url("null")}.x`)).toEqual({ header: undefined, payload: undefined });
  });
});

describe("at most one hint per reason per interval", () => {
  test("HintLimiter: due until spent, then not for the interval, per reason", () => {
    let now = 0;
    const limiter = new HintLimiter(HINT_INTERVAL_MS, () => now);
    expect(limiter.due("invalid_audience")).toBe(true);
    limiter.spent("invalid_audience");
    expect(limiter.due("invalid_audience")).toBe(false);
    expect(limiter.due("invalid_issuer")).toBe(true);
    now = HINT_INTERVAL_MS - 1;
    expect(limiter.due("invalid_audience")).toBe(false);
    now = HINT_INTERVAL_MS;
    expect(limiter.due("invalid_audience")).toBe(true);
  });
});

describe("the authorizer's log lines", () => {
  let idp: IdpStub;
  let key: TestKey;
  let output: CapturedOutput;
  let now: number;
  const context = lambdaContext();
  beforeAll(async () => {
    key = generateRsaKey();
    idp = await startIdpStub([key.jwk, generateRsaKey({ kid: "enc-key", use: "enc" }).jwk]);
  });
  afterAll(() => idp.close());
  beforeEach(() => {
    output = captureOutput();
    now = Date.now();
  });
  afterEach(() => {
    jest.restoreAllMocks();
  });

  const authorizer = (env: Record<string, string> = {}, rolesRequired = true) => {
    const config = testConfig(idp.issuer, env);
    const telemetry = createAuthorizerTelemetry({ logger: createLogger(), hints: config, rolesRequired, now: () => now });
    return telemetry.wrap(createAuthorizerHandler({ verifier: createAccessTokenVerifier(config), routes: API_ROUTES, observer: telemetry.observer }));
  };
  const refusals = () => output.records().filter((record) => record.message === "request refused");

  test.each(EVENT_KINDS)(
    "a flood of one mismatch on %s: every refusal logged (within the log budget), the hint on the first line only, again after the interval",
    async (kind) => {
      const handle = authorizer();
      const token = accessToken(key, idp.issuer, { claims: { aud: "account", azp: "web-app" } });
      for (let i = 0; i < 5; i += 1) await expect(handle(authorizerEvent(kind, `Bearer ${token}`), context)).rejects.toThrow(/^Unauthorized$/);
      now += HINT_INTERVAL_MS;
      await expect(handle(authorizerEvent(kind, `Bearer ${token}`), context)).rejects.toThrow(/^Unauthorized$/);
      const lines = refusals();
      expect(lines.map((line) => line.reason)).toEqual(Array(6).fill("invalid_audience"));
      expect(lines.map((line) => typeof line.hint)).toEqual(["string", "undefined", "undefined", "undefined", "undefined", "string"]);
      expect(lines[0]?.hint).toMatch(/Audience mapper \(Included Client Audience: secured-api\) to client web-app/);
      expect(output.text()).not.toContain(token.split(".")[2]);
    },
  );

  test("each reason has its own interval; a refusal without a hint does not use one up", async () => {
    const handle = authorizer();
    await expect(
      handle(authorizerEvent("http-v2", `Bearer ${accessToken(key, idp.issuer, { claims: { iss: "https://evil.example/realms/x" } })}`), context),
    ).rejects.toThrow();
    const hostMismatch = new URL(idp.issuer);
    hostMismatch.hostname = "localhost";
    await expect(
      handle(authorizerEvent("http-v2", `Bearer ${accessToken(key, idp.issuer, { claims: { iss: hostMismatch.href } })}`), context),
    ).rejects.toThrow();
    await expect(handle(authorizerEvent("http-v2", `Bearer ${accessToken(key, idp.issuer, { claims: { typ: "ID" } })}`), context)).rejects.toThrow();
    await expect(handle(authorizerEvent("http-v2", `Bearer ${accessToken(key, idp.issuer, { claims: { sub: undefined } })}`), context)).rejects.toThrow();
    const enc = signJwt({ alg: "RS256", typ: "JWT", kid: "enc-key" }, keycloakAccessClaims(idp.issuer), generateRsaKey().privateKey);
    await expect(handle(authorizerEvent("http-v2", `Bearer ${enc}`), context)).rejects.toThrow();
    const rs512 = signJwt({ alg: "RS512", typ: "JWT", kid: key.kid }, keycloakAccessClaims(idp.issuer), key.privateKey, "sha512");
    await expect(handle(authorizerEvent("http-v2", `Bearer ${rs512}`), context)).rejects.toThrow();
    expect(refusals().map((line) => [line.reason, typeof line.hint === "string" ? (line.hint as string).slice(0, 30) : undefined])).toEqual([
      ["invalid_issuer", undefined],
      ["invalid_issuer", "token iss has this realm's pat"],
      ["invalid_token_type", "an ID token was sent (typ ID):"],
      ["missing_subject", "token has no sub: Keycloak 25+"],
      ["key_not_usable", "token kid names the realm's en"],
      ["algorithm_not_allowed", "token alg RS512 is not in KEYC"],
    ]);
  });

  test("an allowed request still writes nothing at INFO; one without any role claim writes one line a minute, naming the roles scope", async () => {
    const handle = authorizer();
    await handle(authorizerEvent("rest-token", `Bearer ${accessToken(key, idp.issuer)}`), context);
    // Discovery and JWKS fetch metrics aside, nothing.
    expect(output.records().filter((record) => !("_aws" in record))).toEqual([]);
    const noRoles = accessToken(key, idp.issuer, { claims: { realm_access: undefined, resource_access: undefined, azp: "m2m" } });
    for (let i = 0; i < 3; i += 1) await handle(authorizerEvent("rest-token", `Bearer ${noRoles}`), context);
    const lines = output.records().filter((record) => record.message === "allowed token carries no roles");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: "WARN", reason: "no_role_claims", decision: "allow" });
    expect(lines[0]?.hint).toMatch(/^token carries no roles .* give client m2m the roles client scope/);
  });

  test("without role requirements in the table, a token without roles is nothing to say", async () => {
    const handle = authorizer({}, false);
    await handle(
      authorizerEvent("http-v2", `Bearer ${accessToken(key, idp.issuer, { claims: { realm_access: undefined, resource_access: undefined } })}`),
      context,
    );
    expect(output.records().filter((record) => !("_aws" in record))).toEqual([]);
  });

  test("authorizerHandler() wires hints from its configuration (functions/authorizer.ts's path)", async () => {
    const handle = authorizerHandler(API_ROUTES, { KEYCLOAK_ISSUER: idp.issuer, KEYCLOAK_AUDIENCE: "secured-api", KEYCLOAK_ALGORITHMS: "ES256" });
    await expect(handle(authorizerEvent("rest-token", `Bearer ${accessToken(key, idp.issuer)}`), context as Context)).rejects.toThrow(/^Unauthorized$/);
    expect(refusals()[0]).toMatchObject({
      reason: "algorithm_not_allowed",
      hint: expect.stringMatching(/^token alg RS256 is not in KEYCLOAK_ALGORITHMS \(ES256\)/),
    });
  });
});

describe("the protected handler's 403 line", () => {
  let output: CapturedOutput;
  beforeEach(() => {
    output = captureOutput();
  });
  afterEach(() => {
    jest.restoreAllMocks();
  });

  test("names the roles scope for a token without any role claim, once per interval; a token that only lacks the role gets no hint", async () => {
    const handler = protectedHandler(API_ROUTES, async () => ({ statusCode: 200, body: "{}" }), { KEYCLOAK_ISSUER: ISSUER });
    const lightweight = {
      exp: Math.floor(Date.now() / 1000) + 300,
      iat: Math.floor(Date.now() / 1000),
      iss: ISSUER,
      aud: "secured-api",
      sub: "s",
      typ: "Bearer",
      azp: "m2m",
    };
    for (let i = 0; i < 2; i += 1) {
      const response = await handler(protectedEvent("http", { route: "/admin", claims: lightweight }), lambdaContext());
      expect(response.statusCode).toBe(403);
    }
    const bob = keycloakAccessClaims(ISSUER, { realm_access: { roles: ["user"] } });
    expect((await handler(protectedEvent("rest", { route: "/admin", claims: bob }), lambdaContext())).statusCode).toBe(403);
    const lines = output.records().filter((record) => record.message === "request forbidden");
    expect(lines.map((line) => line.reason)).toEqual(["insufficient_rights", "insufficient_rights", "insufficient_rights"]);
    expect(lines[0]?.hint).toMatch(/^token carries no roles .*lightweight access token/);
    expect(lines.slice(1).map((line) => line.hint)).toEqual([undefined, undefined]);
  });
});
