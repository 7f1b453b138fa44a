/**
 * The contract between this project and its issuer, held against real Keycloak (npm run
 * test:keycloak) and against the embedded provider (npm test) alike: what the realm file
 * promises, what tokens each grant yields (claim by claim, with JSON types), that the API takes
 * exactly those claims on both API kinds and refuses everything that is not an access token for
 * it, every route's requirement per caller, the token endpoint's and userinfo's errors, logout,
 * the docs page's login in a browser, and signing-key rotation done the operator's way.
 *
 * Expected values are Keycloak's (observed with Keycloak 26.4.2 and keycloak/realm-demo.json);
 * where the embedded provider cannot follow, the subject says so (`refreshTokenReason`) and
 * docs/keycloak.md lists it.
 */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { createHash } from "node:crypto";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { ROUTES } from "../../functions/routes.js";
import { routeKey } from "../../lib/routes/route.js";
import { ROOT } from "../../local/stack.js";
import { launchBrowser } from "../helpers/browser.js";
import { openDocs, screenshot, signIn, tryItOut } from "../helpers/docs-page.js";
import { dpopProof, generateDpopKey, type DpopKey } from "../helpers/dpop.js";
import { API_CLIENT, payloadOf } from "../helpers/oidc-client.js";
import {
  authorizationCodeFlow,
  callApi,
  callApiWith,
  certs,
  clientCredentialsGrant,
  headerOf,
  kidOf,
  logout,
  passwordGrant,
  sleep,
  tokenEndpoint,
  tokenRequest,
  userinfo,
  type Answer,
  type CodeFlowResult,
  type TokenResponse,
} from "./http.js";
import { logoutToken } from "../helpers/logout-tokens.js";
import { generateRsaKey } from "../helpers/tokens.js";
import {
  CONTRACT_INTROSPECTION_CACHE_SECONDS,
  CONTRACT_JWKS,
  CONTRACT_REVOCATION_CACHE_SECONDS,
  DPOP_CLIENT,
  LIGHTWEIGHT_CLIENT,
  NO_AUDIENCE_CLIENT,
  type ProviderUnderTest,
} from "./subject.js";

const OUTPUT = join(ROOT, "test-output");
const API_KINDS = [
  ["REST API", "/dev"],
  ["HTTP API", ""],
] as const;

interface RealmUser {
  id: string;
  username: string;
}
const realmUsers = async (): Promise<Record<string, string>> => {
  const realm = JSON.parse(await readFile(join(ROOT, "keycloak", "realm-demo.json"), "utf8")) as { users: RealmUser[] };
  return Object.fromEntries(realm.users.map((user) => [user.username, user.id]));
};

type JsonType = "string" | "number" | "boolean" | "object" | "array" | "null";
const jsonType = (value: unknown): JsonType => (value === null ? "null" : Array.isArray(value) ? "array" : (typeof value as JsonType));
/** Claim name -> JSON type, to compare token shapes exactly. */
const shapeOf = (claims: Record<string, unknown>): Record<string, JsonType> =>
  Object.fromEntries(
    Object.entries(claims)
      .map(([name, value]) => [name, jsonType(value)])
      .sort(([a], [b]) => String(a).localeCompare(String(b))),
  );
const sorted = (shape: Record<string, JsonType>): Record<string, JsonType> => Object.fromEntries(Object.entries(shape).sort(([a], [b]) => a.localeCompare(b)));

/** A user's access token (password grant or browser login): Keycloak's default client scopes of the realm's clients. */
const USER_ACCESS_TOKEN = sorted({
  exp: "number",
  iat: "number",
  jti: "string",
  iss: "string",
  aud: "string",
  sub: "string",
  typ: "string",
  azp: "string",
  sid: "string",
  acr: "string",
  realm_access: "object",
  resource_access: "object",
  scope: "string",
  email_verified: "boolean",
  name: "string",
  preferred_username: "string",
  given_name: "string",
  family_name: "string",
  email: "string",
});
/** A browser login: the session's login time, and api-docs' web origins (where browsers may call from). */
const BROWSER_ACCESS_TOKEN = sorted({ ...USER_ACCESS_TOKEN, auth_time: "number", "allowed-origins": "array" });
/** The service account: no session, no realm roles, no profile beyond its name; no client_id/clientHost (the realm's clients do not list the service_account scope). */
const SERVICE_ACCOUNT_ACCESS_TOKEN = sorted({
  exp: "number",
  iat: "number",
  jti: "string",
  iss: "string",
  aud: "string",
  sub: "string",
  typ: "string",
  azp: "string",
  acr: "string",
  resource_access: "object",
  scope: "string",
  email_verified: "boolean",
  preferred_username: "string",
});
/** Keycloak's ID token for a login: who, which session, the access token's hash. */
const ID_TOKEN = sorted({
  exp: "number",
  iat: "number",
  jti: "string",
  iss: "string",
  aud: "string",
  sub: "string",
  typ: "string",
  azp: "string",
  sid: "string",
  at_hash: "string",
  acr: "string",
  email_verified: "boolean",
  name: "string",
  preferred_username: "string",
  given_name: "string",
  family_name: "string",
  email: "string",
});
const USER_TOKEN_RESPONSE = [
  "access_token",
  "expires_in",
  "id_token",
  "not-before-policy",
  "refresh_expires_in",
  "refresh_token",
  "scope",
  "session_state",
  "token_type",
];
const CLIENT_TOKEN_RESPONSE = ["access_token", "expires_in", "not-before-policy", "refresh_expires_in", "scope", "token_type"];

/** Keycloak's expires_in is the time left, so a second may already be gone. */
const expectLifespan = (seconds: unknown, lifespan: number): void => {
  expect(typeof seconds).toBe("number");
  expect(seconds as number).toBeGreaterThanOrEqual(lifespan - 5);
  expect(seconds as number).toBeLessThanOrEqual(lifespan);
};
const scopes = (claims: Record<string, unknown>): string[] => String(claims.scope).split(" ").sort();
const rolesOf = (value: unknown): string[] => [...((value as { roles?: string[] } | undefined)?.roles ?? [])].sort();

/** [caller, method, path, status]: the decisions functions/routes.ts and the realm's role mappings imply. */
const DECISIONS: ReadonlyArray<readonly [caller: "alice" | "bob" | "service", method: string, path: string, status: number]> = [
  ["alice", "GET", "/secured", 200],
  ["bob", "GET", "/secured", 200],
  ["service", "GET", "/secured", 200],
  // The strict route asks the realm's token introspection as secured-api: every live token passes.
  ["alice", "GET", "/secured/strict", 200],
  ["bob", "GET", "/secured/strict", 200],
  ["service", "GET", "/secured/strict", 200],
  ["alice", "GET", "/admin", 200],
  ["bob", "GET", "/admin", 403],
  ["service", "GET", "/admin", 403],
  ["alice", "GET", "/reports", 200],
  ["bob", "GET", "/reports", 200],
  ["service", "GET", "/reports", 200],
  ["alice", "POST", "/reports", 200],
  ["bob", "POST", "/reports", 403],
  ["service", "POST", "/reports", 403],
  ["alice", "GET", "/reports/{id}", 200],
  ["bob", "GET", "/reports/{id}", 200],
  ["service", "GET", "/reports/{id}", 200],
  ["alice", "GET", "/reports/{id}/audit", 200],
  ["bob", "GET", "/reports/{id}/audit", 403],
  ["service", "GET", "/reports/{id}/audit", 403],
];

/** A concrete request path for a route: each path parameter set to a value. */
const concrete = (path: string): string => path.replace(/\{[^}]+\}/g, "r-1");

/** What a provider offers beyond the common contract (known when the tests are declared). */
export interface ContractOptions {
  /** An admin API to sign users out (real Keycloak). */
  readonly adminSignOut: boolean;
}

export function describeProviderContract(subjectOf: () => ProviderUnderTest, options: ContractOptions): void {
  let subject: ProviderUnderTest;
  let users: Record<string, string>;
  beforeAll(async () => {
    subject = subjectOf();
    users = await realmUsers();
  });

  /** Waits until the authorizer has logged a refusal with `reason` after line `from`. */
  const loggedReason = async (reason: string, from: number): Promise<boolean> => {
    const found = (): boolean => subject.output.slice(from).some((line) => line.includes('"request refused"') && line.includes(`"reason":"${reason}"`));
    for (let waited = 0; !found() && waited < 10_000; waited += 100) await sleep(100);
    return found();
  };
  const statuses = async (token: string, path = "/secured"): Promise<number[]> => {
    const results: number[] = [];
    for (const [, prefix] of API_KINDS) results.push((await callApi(subject.stack.baseUrl, "GET", `${prefix}${path}`, token)).status);
    return results;
  };

  describe("discovery and keys", () => {
    test("discovery names exactly the issuer and Keycloak's endpoints", async () => {
      const response = await fetch(`${subject.issuer}/.well-known/openid-configuration`);
      expect(response.status).toBe(200);
      const document = (await response.json()) as Record<string, unknown>;
      const base = `${subject.issuer}/protocol/openid-connect`;
      expect(document).toMatchObject({
        issuer: subject.issuer,
        authorization_endpoint: `${base}/auth`,
        token_endpoint: `${base}/token`,
        jwks_uri: `${base}/certs`,
        userinfo_endpoint: `${base}/userinfo`,
        end_session_endpoint: `${base}/logout`,
      });
      expect(document.code_challenge_methods_supported).toEqual(expect.arrayContaining(["S256"]));
      expect(document.grant_types_supported).toEqual(expect.arrayContaining(["authorization_code", "client_credentials", "password", "refresh_token"]));
    });

    test("the JWKS holds one RS256 signing key and an RSA-OAEP encryption key, public parts only", async () => {
      const keys = await certs(subject.issuer);
      expect(keys.filter((key) => key.use === "sig").map((key) => [key.kty, key.alg])).toEqual([["RSA", "RS256"]]);
      expect(keys.filter((key) => key.use === "enc").map((key) => [key.kty, key.alg])).toEqual([["RSA", "RSA-OAEP"]]);
      for (const key of keys) {
        expect(key).not.toHaveProperty("d");
        expect(typeof key.kid).toBe("string");
        expect(Buffer.from(String(key.n), "base64url").length * 8).toBe(2048);
      }
    });
  });

  describe("tokens from each grant", () => {
    let alice: TokenResponse;
    let service: TokenResponse;
    let browser: CodeFlowResult;
    let browserTokens: Answer<TokenResponse>;
    const browserLogin = (): Promise<CodeFlowResult> =>
      authorizationCodeFlow(subject.issuer, {
        clientId: "api-docs",
        redirectUri: `${subject.docsOrigin}/docs/oauth2-redirect.html`,
        username: "alice",
        origin: subject.docsOrigin,
      });
    beforeAll(async () => {
      alice = await passwordGrant(subject.issuer, "alice");
      service = await clientCredentialsGrant(subject.issuer);
      browser = await browserLogin();
      browserTokens = await browser.redeem();
    }, 60_000);

    test("password grant (api-client, alice): the token response's fields", () => {
      expect(Object.keys(alice).sort()).toEqual(USER_TOKEN_RESPONSE);
      expect(alice).toMatchObject({ token_type: "Bearer", refresh_expires_in: 1800, "not-before-policy": 0 });
      expectLifespan(alice.expires_in, 300);
      expect(alice.session_state).toBe(payloadOf(alice.access_token ?? "").sid);
      expect(String(alice.scope).split(" ").sort()).toEqual(["email", "openid", "profile"]);
    });

    test("password grant: alice's access token, claim by claim", () => {
      const token = alice.access_token ?? "";
      expect(headerOf(token)).toEqual({ alg: "RS256", typ: "JWT", kid: expect.any(String) });
      const claims = payloadOf(token);
      expect(shapeOf(claims)).toEqual(USER_ACCESS_TOKEN);
      expect(claims).toMatchObject({
        iss: subject.issuer,
        aud: "secured-api",
        sub: users.alice,
        typ: "Bearer",
        azp: "api-client",
        acr: "1",
        resource_access: { "secured-api": { roles: ["writer"] } },
        email_verified: true,
        name: "Alice Liddell",
        preferred_username: "alice",
        given_name: "Alice",
        family_name: "Liddell",
        email: "alice@example.com",
      });
      expect(rolesOf(claims.realm_access)).toEqual(["admin", "user"]);
      expect(scopes(claims)).toEqual(["email", "openid", "profile"]);
      expect(Number(claims.exp) - Number(claims.iat)).toBe(300);
      expect(Math.abs(Number(claims.iat) - Date.now() / 1000)).toBeLessThan(60);
    });

    test("password grant: the ID token is typ ID for api-client, same subject and session", () => {
      const id = payloadOf(alice.id_token ?? "");
      const access = payloadOf(alice.access_token ?? "");
      expect(headerOf(alice.id_token ?? "")).toEqual({ alg: "RS256", typ: "JWT", kid: kidOf(alice.access_token ?? "") });
      expect(shapeOf(id)).toEqual(ID_TOKEN);
      expect(id).toMatchObject({
        iss: subject.issuer,
        typ: "ID",
        aud: "api-client",
        azp: "api-client",
        sub: access.sub,
        sid: access.sid,
        acr: "1",
        preferred_username: "alice",
      });
      // at_hash: the left half of the access token's SHA-256 (OpenID Connect Core 3.1.3.6).
      expect(id.at_hash).toBe(
        createHash("sha256")
          .update(alice.access_token ?? "")
          .digest()
          .subarray(0, 16)
          .toString("base64url"),
      );
    });

    test("client credentials (api-client): the service account's token, claim by claim", () => {
      expect(Object.keys(service).sort()).toEqual(CLIENT_TOKEN_RESPONSE);
      expect(service).toMatchObject({ token_type: "Bearer", refresh_expires_in: 0, "not-before-policy": 0 });
      expectLifespan(service.expires_in, 300);
      const token = service.access_token ?? "";
      expect(headerOf(token)).toEqual({ alg: "RS256", typ: "JWT", kid: expect.any(String) });
      const claims = payloadOf(token);
      expect(shapeOf(claims)).toEqual(SERVICE_ACCOUNT_ACCESS_TOKEN);
      expect(claims).toMatchObject({
        iss: subject.issuer,
        aud: "secured-api",
        sub: users["service-account-api-client"],
        typ: "Bearer",
        azp: "api-client",
        acr: "1",
        resource_access: { "secured-api": { roles: ["reader"] } },
        email_verified: false,
        preferred_username: "service-account-api-client",
      });
      expect(scopes(claims)).toEqual(["email", "profile"]);
    });

    test("authorization code + PKCE (api-docs, alice at the realm's login form): her tokens", () => {
      expect(browser.loginPage).toMatch(/<input[^>]+name="username"/);
      expect(browser.loginPage).toMatch(/<input[^>]+name="password"/);
      expect(browser.loginPageUrl.startsWith(`${subject.issuer}/`)).toBe(true);
      expect(browser.callback.searchParams.get("iss")).toBe(subject.issuer);
      expect(browserTokens.status).toBe(200);
      // The docs page redeems the code cross-origin: CORS for the api-docs client's web origin.
      expect(browserTokens.headers.get("access-control-allow-origin")).toBe(subject.docsOrigin);
      expect(Object.keys(browserTokens.body).sort()).toEqual(USER_TOKEN_RESPONSE);
      const claims = payloadOf(browserTokens.body.access_token ?? "");
      expect(shapeOf(claims)).toEqual(BROWSER_ACCESS_TOKEN);
      expect(claims).toMatchObject({ iss: subject.issuer, aud: "secured-api", sub: users.alice, typ: "Bearer", azp: "api-docs", preferred_username: "alice" });
      expect(claims["allowed-origins"]).toContain(subject.docsOrigin);
      expect(Number(claims.auth_time)).toBeLessThanOrEqual(Number(claims.iat));
      expect(Number(claims.iat) - Number(claims.auth_time)).toBeLessThan(60);
      expect(scopes(claims)).toEqual(["email", "openid", "profile"]);
      expect(browserTokens.body.session_state).toBe(claims.sid);
      const id = payloadOf(browserTokens.body.id_token ?? "");
      expect(headerOf(browserTokens.body.id_token ?? "")).toEqual({ alg: "RS256", typ: "JWT", kid: kidOf(browserTokens.body.access_token ?? "") });
      expect(shapeOf(id)).toEqual(sorted({ ...ID_TOKEN, auth_time: "number" }));
      expect(id).toMatchObject({ typ: "ID", aud: "api-docs", azp: "api-docs", sub: users.alice, sid: claims.sid, auth_time: claims.auth_time });
    });

    test("authorization code + PKCE: a wrong verifier is refused, and spends the code", async () => {
      const login = await browserLogin();
      const wrong = await login.redeem("wrong");
      expect({ status: wrong.status, error: wrong.body.error }).toEqual({ status: 400, error: "invalid_grant" });
      const right = await login.redeem("right");
      expect({ status: right.status, error: right.body.error }).toEqual({ status: 400, error: "invalid_grant" });
      // Codes are single-use: the one redeemed before all this is spent too.
      const again = await browser.redeem("right");
      expect({ status: again.status, error: again.body.error }).toEqual({ status: 400, error: "invalid_grant" });
    });

    describe.each(API_KINDS)("%s", (_kind, prefix) => {
      test.each([
        ["password grant", () => alice.access_token],
        ["client credentials", () => service.access_token],
        ["authorization code + PKCE", () => browserTokens.body.access_token],
      ])("the %s token reaches /secured: 200 with exactly its claims", async (_grant, tokenOf) => {
        const token = tokenOf() ?? "";
        const { status, body } = await callApi(subject.stack.baseUrl, "GET", `${prefix}/secured`, token);
        expect(status).toBe(200);
        expect(body.claims).toStrictEqual(payloadOf(token));
      });

      test("an ID token is refused with 401 (its aud is the client, not secured-api)", async () => {
        const from = subject.output.length;
        expect((await callApi(subject.stack.baseUrl, "GET", `${prefix}/secured`, alice.id_token)).status).toBe(401);
        expect(await loggedReason("invalid_audience", from)).toBe(true);
      });

      test("a refresh token is refused with 401", async () => {
        const from = subject.output.length;
        expect((await callApi(subject.stack.baseUrl, "GET", `${prefix}/secured`, alice.refresh_token)).status).toBe(401);
        expect(await loggedReason(subject.refreshTokenReason, from)).toBe(true);
      });

      test("a token of a client without the audience mapper is refused with 401 (aud lacks secured-api)", async () => {
        const foreign = await clientCredentialsGrant(subject.issuer, NO_AUDIENCE_CLIENT);
        expect([payloadOf(foreign.access_token ?? "").aud ?? []].flat()).not.toContain("secured-api");
        const from = subject.output.length;
        expect((await callApi(subject.stack.baseUrl, "GET", `${prefix}/secured`, foreign.access_token)).status).toBe(401);
        expect(await loggedReason("invalid_audience", from)).toBe(true);
      });
    });
  });

  describe("DPoP-bound tokens (RFC 9449): dpop-client requires them", () => {
    let key: DpopKey;
    let service: TokenResponse;
    let alice: TokenResponse;
    /** A token request of dpop-client with a fresh proof by `key` (or `headers` as given). */
    const dpopGrant = (
      params: Record<string, string>,
      headers: Record<string, string> = { DPoP: dpopProof(key, { htm: "POST", htu: tokenEndpoint(subject.issuer) }) },
    ) => tokenRequest(subject.issuer, params, DPOP_CLIENT, headers);
    beforeAll(async () => {
      key = generateDpopKey("ES256");
      const [byService, byAlice] = [
        await dpopGrant({ grant_type: "client_credentials" }),
        await dpopGrant({ grant_type: "password", username: "alice", password: "alice", scope: "openid" }),
      ];
      if (byService.status !== 200 || byAlice.status !== 200)
        throw new Error(`DPoP token requests: ${byService.status} ${JSON.stringify(byService.body)}, ${byAlice.status} ${JSON.stringify(byAlice.body)}`);
      service = byService.body;
      alice = byAlice.body;
    }, 60_000);

    test("with a proof, each grant answers token_type DPoP, and the token says typ DPoP and cnf.jkt: the key's RFC 7638 thumbprint", () => {
      for (const [response, shape] of [
        [service, SERVICE_ACCOUNT_ACCESS_TOKEN],
        [alice, USER_ACCESS_TOKEN],
      ] as const) {
        expect(response.token_type).toBe("DPoP");
        const claims = payloadOf(response.access_token ?? "");
        expect(shapeOf(claims)).toEqual(sorted({ ...shape, cnf: "object" }));
        // Keycloak 26.4 labels the token DPoP; what binds it is cnf.jkt.
        expect(claims).toMatchObject({ typ: "DPoP", azp: "dpop-client", cnf: { jkt: key.thumbprint } });
      }
      expect(payloadOf(alice.access_token ?? "").sub).toBe(users.alice);
    });

    test("a token request without a proof is refused, as is a replayed proof: 400 invalid_request", async () => {
      const missing = await dpopGrant({ grant_type: "client_credentials" }, {});
      expect({ status: missing.status, body: missing.body }).toEqual({
        status: 400,
        body: { error: "invalid_request", error_description: "DPoP proof is missing" },
      });
      const proof = dpopProof(key, { htm: "POST", htu: tokenEndpoint(subject.issuer) });
      expect((await dpopGrant({ grant_type: "client_credentials" }, { DPoP: proof })).status).toBe(200);
      const replayed = await dpopGrant({ grant_type: "client_credentials" }, { DPoP: proof });
      expect({ status: replayed.status, body: replayed.body }).toEqual({
        status: 400,
        body: { error: "invalid_request", error_description: "DPoP proof has already been used" },
      });
    });

    describe.each(API_KINDS)("%s", (_kind, prefix) => {
      const url = (): string => `${subject.stack.baseUrl}${prefix}/secured`;
      const call = (token: string, headers: Record<string, string>, scheme = "DPoP", method = "GET") =>
        callApiWith(subject.stack.baseUrl, method, `${prefix}/secured`, { authorization: `${scheme} ${token}`, ...headers });
      const fresh = (token: string, overrides: Partial<Parameters<typeof dpopProof>[1]> = {}, by: DpopKey = key): Record<string, string> => ({
        DPoP: dpopProof(by, { htm: "GET", htu: url(), accessToken: token, ...overrides }),
      });

      test.each([
        ["client credentials", () => service.access_token],
        ["password grant", () => alice.access_token],
      ])("the %s token with a fresh proof reaches /secured: 200 with exactly its claims, every time with a new proof", async (_grant, tokenOf) => {
        const token = tokenOf() ?? "";
        for (let i = 0; i < 2; i++) {
          const { status, body } = await call(token, fresh(token));
          expect(status).toBe(200);
          expect(body.claims).toStrictEqual(payloadOf(token));
        }
      });

      test.each<[string, (token: string) => Promise<{ status: number }>, string]>([
        [
          "the proof replayed",
          async (token) => {
            const headers = fresh(token);
            expect((await call(token, headers)).status).toBe(200);
            return call(token, headers);
          },
          "dpop_proof_replayed",
        ],
        ["a proof signed by another key", (token) => call(token, fresh(token, {}, generateDpopKey("ES256"))), "dpop_proof_key_mismatch"],
        ["a proof for another method", (token) => call(token, fresh(token, { htm: "POST" })), "dpop_proof_method_mismatch"],
        ["a proof for another URL", (token) => call(token, fresh(token, { htu: url().replace("/secured", "/admin") })), "dpop_proof_url_mismatch"],
        ["a proof made 10 minutes ago", (token) => call(token, fresh(token, { iat: Math.floor(Date.now() / 1000) - 600 })), "dpop_proof_expired"],
        [
          "a proof for another token",
          (token) => call(token, fresh(alice.access_token === token ? (service.access_token ?? "") : (alice.access_token ?? ""))),
          "dpop_proof_token_mismatch",
        ],
        ["no proof", (token) => call(token, {}), "dpop_proof_missing"],
        ["the token sent as Bearer, with a valid proof", (token) => call(token, fresh(token), "Bearer"), "dpop_token_as_bearer"],
        ["the token sent as Bearer, without one", (token) => call(token, {}, "Bearer"), "dpop_token_as_bearer"],
      ])("refused with 401: %s", async (_name, request, reason) => {
        const from = subject.output.length;
        expect((await request(alice.access_token ?? "")).status).toBe(401);
        expect(await loggedReason(reason, from)).toBe(true);
      });

      test("a plain bearer token of the realm is refused as DPoP, and still works as Bearer", async () => {
        const plain = (await passwordGrant(subject.issuer, "alice")).access_token ?? "";
        const from = subject.output.length;
        expect((await call(plain, fresh(plain))).status).toBe(401);
        expect(await loggedReason("dpop_token_not_bound", from)).toBe(true);
        expect((await call(plain, {}, "Bearer")).status).toBe(200);
      });
    });
  });

  describe("lightweight access tokens (lightweight-client: Always use lightweight access token)", () => {
    let token: string;
    beforeAll(async () => {
      const answer = await tokenRequest(subject.issuer, { grant_type: "password", username: "alice", password: "alice", scope: "openid" }, LIGHTWEIGHT_CLIENT);
      if (answer.status !== 200) throw new Error(`lightweight-client password grant: ${answer.status} ${JSON.stringify(answer.body)}`);
      token = answer.body.access_token ?? "";
    });

    test("the token carries no aud, no sub and no roles: only exp, iat, jti, iss, typ, azp, sid and scope", () => {
      expect(Object.keys(payloadOf(token)).sort()).toEqual(["azp", "exp", "iat", "iss", "jti", "scope", "sid", "typ"]);
    });

    test("routes that do not introspect refuse it: REST by the authorizer's policy (403), HTTP API in the handler (401)", async () => {
      const from = subject.output.length;
      expect(await statuses(token)).toEqual([403, 401]);
      expect(await statuses(token, "/reports")).toEqual([403, 401]);
      expect(await loggedReason("lightweight_token_not_allowed", from)).toBe(true);
    });

    test("the strict route accepts it on both API kinds, with Keycloak's claims from introspection: aud, alice's sub, her roles", async () => {
      for (const [, prefix] of API_KINDS) {
        const { status, body } = await callApi(subject.stack.baseUrl, "GET", `${prefix}/secured/strict`, token);
        expect(status).toBe(200);
        const claims = body.claims as Record<string, unknown>;
        expect([claims.aud].flat()).toContain("secured-api");
        expect(claims.sub).toBe(users.alice);
        expect((claims.realm_access as { roles?: string[] } | undefined)?.roles).toContain("admin");
        expect(claims.sid).toBe(payloadOf(token).sid);
      }
    });
  });

  describe("every route's requirement, per caller of the realm", () => {
    const tokens: Record<string, string> = {};
    beforeAll(async () => {
      tokens.alice = (await passwordGrant(subject.issuer, "alice")).access_token ?? "";
      tokens.bob = (await passwordGrant(subject.issuer, "bob")).access_token ?? "";
      tokens.service = (await clientCredentialsGrant(subject.issuer)).access_token ?? "";
    });

    test("the table covers every route of functions/routes.ts for every caller", () => {
      for (const caller of ["alice", "bob", "service"]) {
        const covered = DECISIONS.filter(([who]) => who === caller)
          .map(([, method, path]) => `${method} ${path}`)
          .sort();
        expect(covered).toEqual(ROUTES.map(routeKey).sort());
      }
    });

    describe.each(API_KINDS)("%s", (_kind, prefix) => {
      test.each(DECISIONS)("%s: %s %s -> %d", async (caller, method, path, status) => {
        expect((await callApi(subject.stack.baseUrl, method, `${prefix}${concrete(path)}`, tokens[caller])).status).toBe(status);
      });
    });
  });

  describe("the token endpoint's errors", () => {
    test.each<[string, () => Promise<{ status: number; body: unknown }>, number, Record<string, string>]>([
      [
        "a wrong password",
        () => tokenRequest(subject.issuer, { grant_type: "password", username: "alice", password: "not-alice", scope: "openid" }),
        401,
        { error: "invalid_grant", error_description: "Invalid user credentials" },
      ],
      [
        "an unknown user",
        () => tokenRequest(subject.issuer, { grant_type: "password", username: "mallory", password: "mallory" }),
        401,
        { error: "invalid_grant", error_description: "Invalid user credentials" },
      ],
      [
        "a wrong client secret",
        () => tokenRequest(subject.issuer, { grant_type: "client_credentials" }, { id: API_CLIENT.id, secret: "wrong" }),
        401,
        { error: "unauthorized_client", error_description: "Invalid client or Invalid client credentials" },
      ],
      [
        "the public client asking for a password grant",
        () => tokenRequest(subject.issuer, { grant_type: "password", username: "alice", password: "alice", client_id: "api-docs" }, null),
        400,
        { error: "unauthorized_client", error_description: "Client not allowed for direct access grants" },
      ],
      [
        "a refresh token it never issued",
        () => tokenRequest(subject.issuer, { grant_type: "refresh_token", refresh_token: "not-a-refresh-token" }),
        400,
        { error: "invalid_grant", error_description: "Invalid refresh token" },
      ],
      [
        "an unsupported grant type",
        () => tokenRequest(subject.issuer, { grant_type: "urn:example:nothing" }),
        400,
        { error: "unsupported_grant_type", error_description: "Unsupported grant_type" },
      ],
    ])("%s", async (_case, request, status, body) => {
      const answer = await request();
      expect({ status: answer.status, body: answer.body }).toEqual({ status, body });
    });
  });

  describe("userinfo", () => {
    test("answers a user's access token with the profile and email claims", async () => {
      const { access_token: token = "" } = await passwordGrant(subject.issuer, "bob");
      const { status, body } = await userinfo(subject.issuer, token);
      expect(status).toBe(200);
      expect(body).toEqual({
        sub: users.bob,
        email_verified: true,
        name: "Bob Builder",
        preferred_username: "bob",
        given_name: "Bob",
        family_name: "Builder",
        email: "bob@example.com",
      });
    });

    test("refuses a bad token with 401 and an RFC 6750 challenge", async () => {
      const { status, headers, body } = await userinfo(subject.issuer, "abc.def.ghi");
      expect(status).toBe(401);
      expect(body).toEqual({}); // the challenge says it all: an empty body
      expect(headers.get("www-authenticate")).toBe('Bearer realm="demo", error="invalid_token", error_description="Token verification failed"');
    });
  });

  describe("logout, and the back-channel logout it sends (revocation)", () => {
    /** Polls both API kinds until `token` gets `expected` on both; the milliseconds it took. */
    const until = async (token: string, expected: number, boundMs: number): Promise<{ seen: number[]; ms: number }> => {
      const started = Date.now();
      let seen = await statuses(token);
      while (seen.some((status) => status !== expected) && Date.now() - started < boundMs + 5000) {
        await sleep(200);
        seen = await statuses(token);
      }
      return { seen, ms: Date.now() - started };
    };
    /** The window of the contract's stack: the lookup cache (serverless-offline adds no result cache), plus slack for a loaded machine. */
    const windowMs = CONTRACT_REVOCATION_CACHE_SECONDS * 1000 + 2000;

    test(`alice logs out: the session ends at the realm (refresh and userinfo refused), and her access token is refused on both API kinds within the window (${CONTRACT_REVOCATION_CACHE_SECONDS} s here) while bob's keeps working`, async () => {
      const alice = await passwordGrant(subject.issuer, "alice");
      const bob = await passwordGrant(subject.issuer, "bob");
      const token = alice.access_token ?? "";
      expect(await statuses(token)).toEqual([200, 200]);
      expect(await statuses(bob.access_token ?? "")).toEqual([200, 200]);

      const from = subject.output.length;
      const answer = await logout(subject.issuer, alice.refresh_token ?? "");
      expect(answer.status).toBe(204);
      const refreshed = await tokenRequest(subject.issuer, { grant_type: "refresh_token", refresh_token: alice.refresh_token ?? "" });
      expect(refreshed.status).toBe(400);
      expect(refreshed.body.error).toBe("invalid_grant");
      const info = await userinfo(subject.issuer, token);
      expect(info.status).toBe(401);
      expect(info.headers.get("www-authenticate")).toContain('error="invalid_token"');

      // Still a valid JWT for minutes: only the back-channel logout tells the authorizer.
      expect(Number(payloadOf(token).exp) * 1000).toBeGreaterThan(Date.now() + 60_000);
      const refused = await until(token, 401, windowMs);
      expect(refused.seen).toEqual([401, 401]);
      expect(refused.ms).toBeLessThanOrEqual(windowMs);
      expect(await statuses(token, "/reports")).toEqual([401, 401]);
      expect(await loggedReason("session_revoked", from)).toBe(true);
      expect(subject.output.slice(from).some((line) => line.includes('"logout recorded"'))).toBe(true);
      expect(await statuses(bob.access_token ?? "")).toEqual([200, 200]);
    }, 60_000);

    test("a forged logout request (a logout token for alice's session signed by another key under the realm's kid) changes nothing", async () => {
      // A login in a later second than alice's logout of the test before: with
      // KEYCLOAK_LOGOUT_ENDS_ALL_SESSIONS, tokens issued at or before it (iat has whole seconds) are ended.
      await sleep(1100);
      const alice = await passwordGrant(subject.issuer, "alice");
      const token = alice.access_token ?? "";
      const { sid, sub } = payloadOf(token) as { sid: string; sub: string };
      const forged = logoutToken({ ...generateRsaKey(), kid: kidOf(token) }, subject.issuer, { claims: { sid, sub, aud: "api-client" } });
      const from = subject.output.length;
      for (const prefix of ["", "/dev"]) {
        const response = await fetch(`${subject.stack.baseUrl}${prefix}/backchannel-logout`, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ logout_token: forged }),
        });
        expect(response.status).toBe(400);
        expect(((await response.json()) as { error: string }).error).toBe("invalid_request");
      }
      expect(subject.output.slice(from).some((line) => line.includes('"logout refused"') && line.includes('"reason":"invalid_signature"'))).toBe(true);
      await sleep(windowMs);
      expect(await statuses(token)).toEqual([200, 200]);
    }, 60_000);

    test(`a strict route (token introspection) refuses alice's token once her session ends, with no polling: within its cache (${CONTRACT_INTROSPECTION_CACHE_SECONDS} s here), on both API kinds; bob's keeps working there`, async () => {
      // A login in a later second than the logouts before (see above).
      await sleep(1100);
      const alice = await passwordGrant(subject.issuer, "alice");
      const bob = await passwordGrant(subject.issuer, "bob");
      const token = alice.access_token ?? "";
      expect(await statuses(token, "/secured/strict")).toEqual([200, 200]);
      const from = subject.output.length;
      expect((await logout(subject.issuer, alice.refresh_token ?? "")).status).toBe(204);
      await sleep(CONTRACT_INTROSPECTION_CACHE_SECONDS * 1000 + 100);
      expect(await statuses(token, "/secured/strict")).toEqual([401, 401]);
      // Refused by the realm's answer, or by the revocation check if its lookup cache ran out first.
      const reasons = await Promise.all([loggedReason("token_inactive", from), loggedReason("session_revoked", from)]);
      expect(reasons.some(Boolean)).toBe(true);
      expect(await statuses(bob.access_token ?? "", "/secured/strict")).toEqual([200, 200]);
    }, 60_000);

    if (options.adminSignOut) {
      test("an administrator disables bob: Keycloak sends no logout, so plain routes keep accepting his token, but the strict route refuses it at once (introspection); enabled again, it passes", async () => {
        await sleep(1100);
        const bob = await passwordGrant(subject.issuer, "bob");
        const token = bob.access_token ?? "";
        const from = subject.output.length;
        await subject.setUserEnabled?.(users.bob as string, false);
        try {
          await sleep(CONTRACT_INTROSPECTION_CACHE_SECONDS * 1000 + 100);
          expect(await statuses(token, "/secured/strict")).toEqual([401, 401]);
          expect(await loggedReason("token_inactive", from)).toBe(true);
          // Not a logout: the JWT still verifies and no revocation was recorded.
          expect(await statuses(token)).toEqual([200, 200]);
        } finally {
          await subject.setUserEnabled?.(users.bob as string, true);
        }
        await sleep(CONTRACT_INTROSPECTION_CACHE_SECONDS * 1000 + 100);
        expect(await statuses(token, "/secured/strict")).toEqual([200, 200]);
      }, 60_000);

      test("an administrator signs bob out (Admin REST API, as the console's Sign out): the tokens of both his sessions are refused on both API kinds within the window, alice's keeps working", async () => {
        // Two sessions: Keycloak 26 then sends one logout token naming one of them
        // (keycloak/keycloak#22914), which KEYCLOAK_LOGOUT_ENDS_ALL_SESSIONS turns into "all of bob's".
        const bobElsewhere = await passwordGrant(subject.issuer, "bob");
        const bob = await passwordGrant(subject.issuer, "bob");
        const alice = await passwordGrant(subject.issuer, "alice");
        expect(await statuses(bob.access_token ?? "")).toEqual([200, 200]);
        await subject.signOutUser?.(users.bob as string);
        const refused = await until(bob.access_token ?? "", 401, windowMs);
        expect(refused.seen).toEqual([401, 401]);
        expect(refused.ms).toBeLessThanOrEqual(windowMs);
        expect(await statuses(bobElsewhere.access_token ?? "")).toEqual([401, 401]);
        expect(await statuses(alice.access_token ?? "")).toEqual([200, 200]);
      }, 60_000);
    }
  });

  describe("the docs page in a browser", () => {
    let browser: Browser;
    beforeAll(async () => {
      await mkdir(OUTPUT, { recursive: true });
      browser = await launchBrowser();
    }, 60_000);
    afterAll(async () => {
      await browser?.close();
    });

    test.each(API_KINDS)(
      "%s: Authorize, the realm's own login form, back with a token, and Try it out on /secured answers 200",
      async (_kind, prefix) => {
        const name = `contract-${subject.kind}${prefix === "" ? "" : "-rest"}`;
        const { context, page, requested, problems } = await openDocs(browser, subject.docsOrigin, prefix);
        try {
          await signIn(page, {
            username: "alice",
            loginUrlPrefix: `${subject.issuer}/`,
            onLoginPage: async (popup) => {
              await expect(popup.locator("#kc-form-login").count()).resolves.toBe(1);
              await popup.screenshot({ path: join(OUTPUT, `${name}-login.png`) });
            },
          });
          const result = await tryItOut(page, "getSecured");
          await screenshot(page, OUTPUT, `${name}-secured-alice.png`);
          expect(result.requestUrl).toBe(`${subject.docsOrigin}${prefix}/secured`);
          expect(result.status).toBe("200");
          const claims = JSON.parse(result.body) as { claims: Record<string, unknown> };
          expect(claims.claims).toMatchObject({ iss: subject.issuer, azp: "api-docs", preferred_username: "alice", typ: "Bearer" });
          const origins = new Set(requested.filter((url) => !url.startsWith("data:")).map((url) => new URL(url).origin));
          expect([...origins].sort()).toEqual([subject.docsOrigin, new URL(subject.issuer).origin].sort());
          expect(problems).toEqual([]);
        } finally {
          await context.close();
        }
      },
      90_000,
    );
  });

  // Last: it changes the realm's keys.
  describe("signing key rotation, the operator's way", () => {
    let oldKid: string;
    let newKid: string;
    let before: string;
    let after: string;

    test("a new key with a higher priority signs new tokens, which pass at once without a restart; older tokens keep passing", async () => {
      before = (await passwordGrant(subject.issuer, "alice")).access_token ?? "";
      oldKid = kidOf(before);
      expect(await subject.keys.active()).toBe(oldKid);
      expect(await statuses(before)).toEqual([200, 200]);

      newKid = await subject.keys.add();
      expect(newKid).not.toBe(oldKid);
      expect(await subject.keys.active()).toBe(newKid);
      after = (await passwordGrant(subject.issuer, "alice")).access_token ?? "";
      expect(kidOf(after)).toBe(newKid);
      expect((await certs(subject.issuer)).map((key) => key.kid)).toEqual(expect.arrayContaining([oldKid, newKid]));

      // The authorizer meets an unknown kid and refetches the JWKS (at most once per cooldown).
      const deadline = Date.now() + (CONTRACT_JWKS.cooldownSeconds + 3) * 1000;
      let seen = await statuses(after);
      while (seen.join() !== "200,200" && Date.now() < deadline) {
        await sleep(250);
        seen = await statuses(after);
      }
      expect(seen).toEqual([200, 200]);
      expect(await statuses(before)).toEqual([200, 200]);
    }, 60_000);

    test("the old key made passive: it signs nothing new, stays published, and its tokens still pass", async () => {
      await subject.keys.makePassive(oldKid);
      expect(await subject.keys.active()).toBe(newKid);
      expect(kidOf((await passwordGrant(subject.issuer, "alice")).access_token ?? "")).toBe(newKid);
      expect((await certs(subject.issuer)).map((key) => key.kid)).toEqual(expect.arrayContaining([oldKid, newKid]));
      await sleep(CONTRACT_JWKS.maxAgeSeconds * 1000 + 500); // across a key-set refresh
      expect(await statuses(before)).toEqual([200, 200]);
      expect(await statuses(after)).toEqual([200, 200]);
    }, 60_000);

    test(`the old key deleted: its tokens are refused once the authorizer refreshes its key set, within KEYCLOAK_JWKS_MAX_AGE_SECONDS (${CONTRACT_JWKS.maxAgeSeconds} s here)`, async () => {
      const from = subject.output.length;
      await subject.keys.remove(oldKid);
      const removedAt = Date.now();
      expect((await certs(subject.issuer)).map((key) => key.kid)).not.toContain(oldKid);
      const bound = CONTRACT_JWKS.maxAgeSeconds * 1000 + 2000;
      let seen = await statuses(before);
      while (seen.join() !== "401,401" && Date.now() - removedAt < bound + 5000) {
        await sleep(250);
        seen = await statuses(before);
      }
      const refusedAfter = Date.now() - removedAt;
      expect(seen).toEqual([401, 401]);
      expect(refusedAfter).toBeLessThanOrEqual(bound);
      expect(await loggedReason("unknown_kid", from)).toBe(true);
      // Tokens of the surviving key are unaffected.
      expect(await statuses(after)).toEqual([200, 200]);
      expect(await statuses((await passwordGrant(subject.issuer, "alice")).access_token ?? "")).toEqual([200, 200]);
    }, 60_000);
  });
}
