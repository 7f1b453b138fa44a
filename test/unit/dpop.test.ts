/**
 * DPoP (RFC 9449) at the authorizer: a token bound to a key (`cnf.jkt`) is accepted only as
 * `DPoP <token>` with one fresh proof by that key for this very request, on REST REQUEST and HTTP
 * API events; the binding rules (Bearer use of a bound token, a plain token as DPoP, other
 * bindings, DPoP off or required, per-route requirements); custom domains and stage prefixes; the
 * replay store, shared or not.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, jest, test } from "@jest/globals";
import type { APIGatewayAuthorizerResult } from "aws-lambda";
import { API_ROUTES } from "../../functions/routes.js";
import { createAuthorizerHandler, type AuthorizerHandler } from "../../lib/authorizer/authorizer-handler.js";
import type { EventKind } from "../../lib/apigateway/events.js";
import { CLAIMS_CONTEXT_KEY, type AuthorizerContext } from "../../lib/apigateway/context.js";
import { keyBindingCheck, type KeyBindingOptions } from "../../lib/dpop/key-binding-check.js";
import { MemoryReplayCache, type ReplayStore } from "../../lib/dpop/replay-cache.js";
import { ConfigError } from "../../lib/errors.js";
import { authorizerHandler } from "../../lib/lambda-handlers.js";
import type { LogFields } from "../../lib/operations/decision-log.js";
import { dpopBound, realmRole } from "../../lib/routes/requirements.js";
import { routeTable } from "../../lib/routes/route.js";
import { createAccessTokenVerifier, type AccessTokenVerifier } from "../../lib/token/access-token-verifier.js";
import { testConfig } from "../helpers/config.js";
import { dpopProof, generateDpopKey, type DpopKey, type ProofAlgorithm } from "../helpers/dpop.js";
import { captureOutput } from "../helpers/captured-output.js";
import { authorizerEvent, requestEvent, requestUrl } from "../helpers/events.js";
import { startIdpStub, type IdpStub } from "../helpers/idp-stub.js";
import { loggingObserver } from "../helpers/observer.js";
import { accessToken, generateRsaKey, payloadOf, type TestKey } from "../helpers/tokens.js";

const KINDS = ["rest-request", "http-v2"] as const;
const ALGORITHMS = ["ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "RS256", "RS384", "RS512", "EdDSA", "Ed25519", "Ed448"];

let idp: IdpStub;
let realmKey: TestKey;
let verifier: AccessTokenVerifier;
let client: DpopKey;

beforeAll(async () => {
  realmKey = generateRsaKey();
  idp = await startIdpStub([realmKey.jwk]);
  verifier = createAccessTokenVerifier(testConfig(idp.issuer));
  client = generateDpopKey("ES256");
});
afterAll(() => idp.close());

/** A handler with DPoP on; `reasons` collects every refusal's code, `failures` every 500's. */
function dpopHandler(overrides: Partial<KeyBindingOptions> = {}): { handler: AuthorizerHandler; reasons: unknown[]; failures: unknown[] } {
  const reasons: unknown[] = [];
  const failures: unknown[] = [];
  const keyBinding = keyBindingCheck({
    mode: "allowed",
    algorithms: ALGORITHMS,
    proofMaxAgeSeconds: 120,
    clockSkewSeconds: 30,
    replayStore: new MemoryReplayCache({ maxEntries: 1000 }),
    routes: API_ROUTES,
    offline: false,
    ...overrides,
  });
  const handler = createAuthorizerHandler({
    verifier,
    routes: overrides.routes ?? API_ROUTES,
    keyBinding,
    observer: loggingObserver((level, _message, fields: LogFields) => (level === "ERROR" ? failures : reasons).push(fields.reason)),
  });
  return { handler, reasons, failures };
}

/** A token bound to `key` (Keycloak 26.4's shape: `typ` DPoP, `cnf.jkt`). */
const boundToken = (key: DpopKey = client, claims: Record<string, unknown> = {}): string =>
  accessToken(realmKey, idp.issuer, { claims: { typ: "DPoP", cnf: { jkt: key.thumbprint }, ...claims } });

/** Refused with exactly Error("Unauthorized"); the reason logged. */
async function refusal(run: { handler: AuthorizerHandler; reasons: unknown[] }, event: ReturnType<typeof requestEvent>): Promise<unknown> {
  run.reasons.length = 0;
  await expect(run.handler(event)).rejects.toThrow(/^Unauthorized$/);
  expect(run.reasons).toHaveLength(1);
  return run.reasons[0];
}

describe.each(KINDS)("%s events", (kind) => {
  const url = requestUrl(kind);

  test("a DPoP-bound token with a fresh proof by its key is allowed, with its claims in the context", async () => {
    const { handler } = dpopHandler();
    const token = boundToken();
    const result = await handler(
      requestEvent(kind, { authorization: `DPoP ${token}`, headers: { DPoP: dpopProof(client, { htm: "GET", htu: url, accessToken: token }) } }),
    );
    const context = (result as { context: AuthorizerContext }).context;
    expect(JSON.parse(context[CLAIMS_CONTEXT_KEY] as string)).toEqual(payloadOf(token));
    if (kind === "http-v2") expect(result).toMatchObject({ isAuthorized: true });
    else expect((result as APIGatewayAuthorizerResult).policyDocument.Statement[0]).toMatchObject({ Effect: "Allow" });
  });

  test.each(ALGORITHMS as ProofAlgorithm[])("proofs signed with %s are verified", async (alg) => {
    const { handler } = dpopHandler();
    const key = generateDpopKey(alg);
    const token = boundToken(key);
    const proof = dpopProof(key, { htm: "GET", htu: url, accessToken: token });
    await expect(handler(requestEvent(kind, { authorization: `DPoP ${token}`, headers: { dpop: proof } }))).resolves.toBeDefined();
  });

  test("RFC 9864: an Ed25519 key labelled EdDSA (the older name) signs a proof as Ed25519; labelled for ES256 it does not", async () => {
    const { handler } = dpopHandler();
    const key = generateDpopKey("Ed25519");
    const token = boundToken(key);
    const labelled = (alg: string) => dpopProof(key, { htm: "GET", htu: url, accessToken: token, header: { jwk: { ...key.jwk, alg } } });
    await expect(handler(requestEvent(kind, { authorization: `DPoP ${token}`, headers: { dpop: labelled("EdDSA") } }))).resolves.toBeDefined();
    await expect(handler(requestEvent(kind, { authorization: `DPoP ${token}`, headers: { dpop: labelled("ES256") } }))).rejects.toThrow(/^Unauthorized$/);
  });

  test("every later use of the same token needs a new proof: each proof works once", async () => {
    const run = dpopHandler();
    const token = boundToken();
    for (let i = 0; i < 3; i++) {
      const proof = dpopProof(client, { htm: "GET", htu: url, accessToken: token });
      const event = () => requestEvent(kind, { authorization: `DPoP ${token}`, headers: { DPoP: proof } });
      await expect(run.handler(event())).resolves.toBeDefined();
      expect(await refusal(run, event())).toBe("dpop_proof_replayed");
    }
  });

  const now = (): number => Math.floor(Date.now() / 1000);
  const refusals: Array<
    [string, (token: string) => { authorization?: string; headers?: Record<string, string>; repeated?: Record<string, string[]> }, string]
  > = [
    ["no DPoP header", (token) => ({ authorization: `DPoP ${token}` }), "dpop_proof_missing"],
    ["an empty DPoP header", (token) => ({ authorization: `DPoP ${token}`, headers: { DPoP: "" } }), "dpop_proof_missing"],
    [
      "two DPoP headers",
      (token) => {
        const proof = () => dpopProof(client, { htm: "GET", htu: url, accessToken: token });
        return { authorization: `DPoP ${token}`, headers: { DPoP: proof() }, repeated: { DPoP: [proof(), proof()] } };
      },
      "dpop_proof_duplicated",
    ],
    [
      "a proof signed by another key",
      (token) => ({ authorization: `DPoP ${token}`, headers: { DPoP: dpopProof(generateDpopKey(), { htm: "GET", htu: url, accessToken: token }) } }),
      "dpop_proof_key_mismatch",
    ],
    [
      "a proof whose header names the bound key but which another key signed",
      (token) => ({
        authorization: `DPoP ${token}`,
        headers: { DPoP: dpopProof(client, { htm: "GET", htu: url, accessToken: token, signWith: generateDpopKey().privateKey }) },
      }),
      "dpop_proof_invalid_signature",
    ],
    [
      "a proof for another method",
      (token) => ({ authorization: `DPoP ${token}`, headers: { DPoP: dpopProof(client, { htm: "POST", htu: url, accessToken: token }) } }),
      "dpop_proof_method_mismatch",
    ],
    [
      "a proof for another path",
      (token) => ({
        authorization: `DPoP ${token}`,
        headers: { DPoP: dpopProof(client, { htm: "GET", htu: url.replace("/secured", "/admin"), accessToken: token }) },
      }),
      "dpop_proof_url_mismatch",
    ],
    [
      "a proof for another host",
      (token) => ({
        authorization: `DPoP ${token}`,
        headers: { DPoP: dpopProof(client, { htm: "GET", htu: url.replace("abcdef1234", "zyxwvu9876"), accessToken: token }) },
      }),
      "dpop_proof_url_mismatch",
    ],
    [
      "a proof for plain http",
      (token) => ({
        authorization: `DPoP ${token}`,
        headers: { DPoP: dpopProof(client, { htm: "GET", htu: url.replace("https:", "http:"), accessToken: token }) },
      }),
      "dpop_proof_url_mismatch",
    ],
    [
      "a proof for another access token",
      (token) => ({ authorization: `DPoP ${token}`, headers: { DPoP: dpopProof(client, { htm: "GET", htu: url, accessToken: boundToken() }) } }),
      "dpop_proof_token_mismatch",
    ],
    [
      "a proof without ath",
      (token) => ({ authorization: `DPoP ${token}`, headers: { DPoP: dpopProof(client, { htm: "GET", htu: url }) } }),
      "dpop_proof_missing_claim",
    ],
    [
      "a proof made 10 minutes ago",
      (token) => ({ authorization: `DPoP ${token}`, headers: { DPoP: dpopProof(client, { htm: "GET", htu: url, accessToken: token, iat: now() - 600 }) } }),
      "dpop_proof_expired",
    ],
    [
      "a proof dated 2 minutes ahead",
      (token) => ({ authorization: `DPoP ${token}`, headers: { DPoP: dpopProof(client, { htm: "GET", htu: url, accessToken: token, iat: now() + 120 }) } }),
      "dpop_proof_in_future",
    ],
    [
      "the token sent as a bearer token, with a valid proof",
      (token) => ({ authorization: `Bearer ${token}`, headers: { DPoP: dpopProof(client, { htm: "GET", htu: url, accessToken: token }) } }),
      "dpop_token_as_bearer",
    ],
    ["the token sent as a bearer token, without a proof", (token) => ({ authorization: `Bearer ${token}` }), "dpop_token_as_bearer"],
  ];
  test.each(refusals)("refused: %s", async (_name, request, reason) => {
    const run = dpopHandler();
    expect(await refusal(run, requestEvent(kind, request(boundToken())))).toBe(reason);
  });

  test("a plain token sent as DPoP is refused, even with a proof", async () => {
    const run = dpopHandler();
    const plain = accessToken(realmKey, idp.issuer);
    const proof = dpopProof(client, { htm: "GET", htu: url, accessToken: plain });
    expect(await refusal(run, requestEvent(kind, { authorization: `DPoP ${plain}`, headers: { DPoP: proof } }))).toBe("dpop_token_not_bound");
    // ... and is a bearer token as ever, with or without a (then ignored) DPoP header.
    await expect(run.handler(requestEvent(kind, { authorization: `Bearer ${plain}`, headers: { DPoP: proof } }))).resolves.toBeDefined();
  });

  test.each([
    ["mTLS (cnf.x5t#S256)", { "x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2" }],
    ["jkt and x5t#S256 together", { jkt: "(replaced)", "x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2" }],
    ["an empty cnf", {}],
    ["a jkt that is not a string", { jkt: 7 }],
    ["cnf as a string", "jkt"],
  ])("a token bound otherwise (%s) is refused as sender_constrained_token, as DPoP too", async (_name, cnf) => {
    const run = dpopHandler();
    const shaped = typeof cnf === "object" && "jkt" in cnf && cnf.jkt === "(replaced)" ? { ...cnf, jkt: client.thumbprint } : cnf;
    const token = accessToken(realmKey, idp.issuer, { claims: { cnf: shaped } });
    const proof = dpopProof(client, { htm: "GET", htu: url, accessToken: token });
    expect(await refusal(run, requestEvent(kind, { authorization: `DPoP ${token}`, headers: { DPoP: proof } }))).toBe("sender_constrained_token");
    expect(await refusal(run, requestEvent(kind, { authorization: `Bearer ${token}` }))).toBe("sender_constrained_token");
  });

  test("htu is compared without query and fragment, after RFC 3986 normalisation", async () => {
    const { handler } = dpopHandler();
    const token = boundToken();
    const spelled = `${url.replace("https://", "HTTPS://").replace("abcdef1234.execute-api", "ABCDEF1234.Execute-Api").replace(".com/", ".com:443/./")}?x=1#top`;
    const proof = dpopProof(client, { htm: "GET", htu: spelled.replace("secured", "%73ecured"), accessToken: token });
    await expect(handler(requestEvent(kind, { authorization: `DPoP ${token}`, headers: { DPoP: proof } }))).resolves.toBeDefined();
  });

  test("the path the client called is the proof's: declared route /reports/{id}, called /reports/7", async () => {
    const { handler, reasons } = dpopHandler();
    const token = boundToken();
    const options = { route: "/reports/{id}", path: "/reports/7" };
    const proof = (path: string) => dpopProof(client, { htm: "GET", htu: requestUrl(kind, { path }), accessToken: token });
    await expect(handler(requestEvent(kind, { ...options, authorization: `DPoP ${token}`, headers: { DPoP: proof("/reports/7") } }))).resolves.toBeDefined();
    await expect(handler(requestEvent(kind, { ...options, authorization: `DPoP ${token}`, headers: { DPoP: proof("/reports/8") } }))).rejects.toThrow(
      /^Unauthorized$/,
    );
    await expect(handler(requestEvent(kind, { ...options, authorization: `DPoP ${token}`, headers: { DPoP: proof("/reports/{id}") } }))).rejects.toThrow(
      /^Unauthorized$/,
    );
    expect(reasons).toEqual(["dpop_proof_url_mismatch", "dpop_proof_url_mismatch"]);
  });

  test("custom domains: the proof names the custom host and its base path, as the client called it", async () => {
    const { handler } = dpopHandler();
    const token = boundToken();
    const custom = { host: "api.example.com", basePath: "/v1" };
    const proof = dpopProof(client, { htm: "GET", htu: "https://api.example.com/v1/secured", accessToken: token });
    await expect(handler(requestEvent(kind, { ...custom, authorization: `DPoP ${token}`, headers: { DPoP: proof } }))).resolves.toBeDefined();
    const rootMapping = dpopProof(client, { htm: "GET", htu: "https://api.example.com/secured", accessToken: token });
    await expect(
      handler(requestEvent(kind, { host: "api.example.com", basePath: "", authorization: `DPoP ${token}`, headers: { DPoP: rootMapping } })),
    ).resolves.toBeDefined();
  });
});

describe("the proof window", () => {
  test("iat is accepted from max age + skew in the past to skew in the future, not a second beyond", async () => {
    const start = Math.floor(Date.now() / 1000);
    jest.useFakeTimers({ now: start * 1000, doNotFake: ["setTimeout", "setImmediate", "nextTick", "queueMicrotask"] });
    try {
      const run = dpopHandler({ proofMaxAgeSeconds: 120, clockSkewSeconds: 30 });
      const token = boundToken();
      const call = (iat: number) =>
        run.handler(
          requestEvent("http-v2", {
            authorization: `DPoP ${token}`,
            headers: { DPoP: dpopProof(client, { htm: "GET", htu: requestUrl("http-v2"), accessToken: token, iat }) },
          }),
        );
      await expect(call(start - 150)).resolves.toBeDefined();
      await expect(call(start + 30)).resolves.toBeDefined();
      await expect(call(start - 151)).rejects.toThrow(/^Unauthorized$/);
      await expect(call(start + 31)).rejects.toThrow(/^Unauthorized$/);
      expect(run.reasons).toEqual(["dpop_proof_expired", "dpop_proof_in_future"]);
    } finally {
      jest.useRealTimers();
    }
  });

  test("a proof id is remembered as long as its proof could be accepted, then forgotten", async () => {
    const start = Math.floor(Date.now() / 1000);
    jest.useFakeTimers({ now: start * 1000, doNotFake: ["setTimeout", "setImmediate", "nextTick", "queueMicrotask"] });
    try {
      const cache = new MemoryReplayCache({ maxEntries: 10 });
      const run = dpopHandler({ replayStore: cache, proofMaxAgeSeconds: 60, clockSkewSeconds: 10 });
      const token = accessToken(realmKey, idp.issuer, { claims: { typ: "DPoP", cnf: { jkt: client.thumbprint }, exp: start + 3600 } });
      const proof = dpopProof(client, { htm: "GET", htu: requestUrl("http-v2"), accessToken: token, iat: start });
      const call = () => run.handler(requestEvent("http-v2", { authorization: `DPoP ${token}`, headers: { DPoP: proof } }));
      await expect(call()).resolves.toBeDefined();
      jest.setSystemTime((start + 70) * 1000);
      await expect(call()).rejects.toThrow(/^Unauthorized$/);
      expect(run.reasons).toEqual(["dpop_proof_replayed"]);
      // Past iat + max age + skew the proof is too old anyway, and its id is dropped.
      jest.setSystemTime((start + 71) * 1000);
      await expect(call()).rejects.toThrow(/^Unauthorized$/);
      expect(run.reasons).toEqual(["dpop_proof_replayed", "dpop_proof_expired"]);
      const next = dpopProof(client, { htm: "GET", htu: requestUrl("http-v2"), accessToken: token, iat: start + 71 });
      await expect(run.handler(requestEvent("http-v2", { authorization: `DPoP ${token}`, headers: { DPoP: next } }))).resolves.toBeDefined();
      expect(cache.size).toBe(1);
    } finally {
      jest.useRealTimers();
    }
  });
});

describe("modes", () => {
  test("off (the default): every bound token and the DPoP scheme are refused", async () => {
    const reasons: unknown[] = [];
    const handler = createAuthorizerHandler({ verifier, routes: API_ROUTES, observer: loggingObserver((_l, _m, fields) => reasons.push(fields.reason)) });
    const token = boundToken();
    const proof = dpopProof(client, { htm: "GET", htu: requestUrl("http-v2"), accessToken: token });
    const plain = accessToken(realmKey, idp.issuer);
    for (const authorization of [`DPoP ${token}`, `Bearer ${token}`, `DPoP ${plain}`]) {
      await expect(handler(requestEvent("http-v2", { authorization, headers: { DPoP: proof } }))).rejects.toThrow(/^Unauthorized$/);
    }
    const mtls = accessToken(realmKey, idp.issuer, { claims: { cnf: { "x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2" } } });
    await expect(handler(requestEvent("http-v2", { authorization: `Bearer ${mtls}` }))).rejects.toThrow(/^Unauthorized$/);
    expect(reasons).toEqual(["sender_constrained_token", "sender_constrained_token", "dpop_not_enabled", "sender_constrained_token"]);
    await expect(handler(requestEvent("http-v2", { authorization: `Bearer ${plain}` }))).resolves.toBeDefined();
  });

  test("required: a plain bearer token is refused, a DPoP-bound one with its proof is allowed", async () => {
    const run = dpopHandler({ mode: "required" });
    const plain = accessToken(realmKey, idp.issuer);
    expect(await refusal(run, requestEvent("rest-request", { authorization: `Bearer ${plain}` }))).toBe("dpop_required");
    const token = boundToken();
    const proof = dpopProof(client, { htm: "GET", htu: requestUrl("rest-request"), accessToken: token });
    await expect(run.handler(requestEvent("rest-request", { authorization: `DPoP ${token}`, headers: { DPoP: proof } }))).resolves.toBeDefined();
  });

  test("a TOKEN authorizer event carries no proof: a bound token is refused there", async () => {
    const run = dpopHandler();
    run.reasons.length = 0;
    await expect(run.handler(authorizerEvent("rest-token", `DPoP ${boundToken()}`))).rejects.toThrow(/^Unauthorized$/);
    expect(run.reasons).toEqual(["dpop_proof_missing"]);
  });
});

describe("per route: dpopBound()", () => {
  const routes = routeTable([
    { method: "GET", path: "/secured", summary: "any token" },
    { method: "POST", path: "/payments", summary: "DPoP only", requires: dpopBound() },
    { method: "GET", path: "/admin", summary: "admin", requires: realmRole("admin") },
  ]);

  test.each(KINDS)("%s: a bearer token is refused (401 dpop_required) on the DPoP route only; a bound one passes", async (kind) => {
    const run = dpopHandler({ routes });
    const plain = accessToken(realmKey, idp.issuer);
    expect(await refusal(run, requestEvent(kind, { method: "POST", route: "/payments", authorization: `Bearer ${plain}` }))).toBe("dpop_required");
    const allowed = await run.handler(requestEvent(kind, { route: "/secured", authorization: `Bearer ${plain}` }));
    if (kind === "rest-request") {
      // The policy, cached or replayed, never opens the DPoP route to this bearer token.
      const [allow] = (allowed as APIGatewayAuthorizerResult).policyDocument.Statement as Array<{ Effect: string; Resource: string[] }>;
      expect(allow?.Resource).toEqual([
        "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/dev/GET/secured",
        "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/dev/GET/admin",
      ]);
    }
    const token = boundToken();
    const proof = dpopProof(client, { htm: "POST", htu: requestUrl(kind, { path: "/payments" }), accessToken: token });
    const bound = await run.handler(requestEvent(kind, { method: "POST", route: "/payments", authorization: `DPoP ${token}`, headers: { DPoP: proof } }));
    if (kind === "rest-request") expect(JSON.stringify(bound)).toContain("/dev/POST/payments");
  });

  test("a route that requires DPoP with DPoP off is a configuration error at cold start", () => {
    expect(() =>
      keyBindingCheck({
        mode: "off",
        algorithms: ALGORITHMS,
        proofMaxAgeSeconds: 120,
        clockSkewSeconds: 30,
        replayStore: new MemoryReplayCache({ maxEntries: 10 }),
        routes,
        offline: false,
      }),
    ).toThrow(new ConfigError("KEYCLOAK_DPOP is off, but POST /payments requires a DPoP-bound token: set KEYCLOAK_DPOP=allowed"));
  });
});

describe("replay stores", () => {
  // The deployed handler logs to stdout (Powertools): kept out of the test output.
  beforeEach(() => {
    captureOutput();
  });
  afterEach(() => {
    jest.restoreAllMocks();
  });
  const env = (issuer: string): Record<string, string> => ({ KEYCLOAK_ISSUER: issuer, KEYCLOAK_AUDIENCE: "secured-api", KEYCLOAK_DPOP: "allowed" });
  const lambda = { awsRequestId: "r" } as never;

  test("each instance remembers its own proofs: a proof replayed to another instance passes there (the window is then the bound)", async () => {
    const first = authorizerHandler(API_ROUTES, env(idp.issuer));
    const second = authorizerHandler(API_ROUTES, env(idp.issuer));
    const token = boundToken();
    const event = () => requestEvent("http-v2", { authorization: `DPoP ${token}`, headers: { DPoP: proof } });
    const proof = dpopProof(client, { htm: "GET", htu: requestUrl("http-v2"), accessToken: token });
    await expect(first(event(), lambda)).resolves.toMatchObject({ isAuthorized: true });
    await expect(first(event(), lambda)).rejects.toThrow(/^Unauthorized$/);
    await expect(second(event(), lambda)).resolves.toMatchObject({ isAuthorized: true });
  });

  test("a store shared by every instance catches the replay on another instance", async () => {
    const used = new Map<string, number>();
    const shared: ReplayStore = {
      // As a DynamoDB conditional put or Redis SET NX would: asynchronous, first writer wins.
      claim: async (jti, expiresAt) => {
        await new Promise((resolve) => setImmediate(resolve));
        if (used.has(jti)) return false;
        used.set(jti, expiresAt);
        return true;
      },
    };
    const first = authorizerHandler(API_ROUTES, env(idp.issuer), { dpopReplayStore: shared });
    const second = authorizerHandler(API_ROUTES, env(idp.issuer), { dpopReplayStore: shared });
    const token = boundToken();
    const proof = dpopProof(client, { htm: "GET", htu: requestUrl("http-v2"), accessToken: token, jti: "one-proof" });
    const event = () => requestEvent("http-v2", { authorization: `DPoP ${token}`, headers: { DPoP: proof } });
    await expect(first(event(), lambda)).resolves.toMatchObject({ isAuthorized: true });
    await expect(second(event(), lambda)).rejects.toThrow(/^Unauthorized$/);
    expect([...used.keys()]).toEqual(["one-proof"]);
  });

  test("a store that cannot answer fails the request (500), never lets it through", async () => {
    const token = boundToken();
    const proof = () => dpopProof(client, { htm: "GET", htu: requestUrl("http-v2"), accessToken: token });
    const down = dpopHandler({ replayStore: { claim: () => Promise.reject(new Error("connection refused")) } });
    await expect(down.handler(requestEvent("http-v2", { authorization: `DPoP ${token}`, headers: { DPoP: proof() } }))).rejects.toThrow(
      /^Authorizer failure: dpop_replay_store_unavailable$/,
    );
    const full = dpopHandler({ replayStore: new MemoryReplayCache({ maxEntries: 2 }) });
    for (let i = 0; i < 2; i++) await full.handler(requestEvent("http-v2", { authorization: `DPoP ${token}`, headers: { DPoP: proof() } }));
    await expect(full.handler(requestEvent("http-v2", { authorization: `DPoP ${token}`, headers: { DPoP: proof() } }))).rejects.toThrow(
      /^Authorizer failure: dpop_replay_store_unavailable$/,
    );
    expect([...down.failures, ...full.failures]).toEqual(["dpop_replay_store_unavailable", "dpop_replay_store_unavailable"]);
  });
});

describe("serverless-offline", () => {
  test("offline, the proof names http and the Host header the client used (its events carry a made-up domainName)", async () => {
    const { handler } = dpopHandler({ offline: true });
    const token = boundToken();
    for (const kind of KINDS as readonly EventKind[]) {
      const path = kind === "rest-request" ? "/dev/secured" : "/secured";
      const proof = dpopProof(client, { htm: "GET", htu: `http://localhost:3000${path}`, accessToken: token });
      const event = requestEvent(kind as "rest-request" | "http-v2", {
        authorization: `DPoP ${token}`,
        headers: { DPoP: proof, host: "localhost:3000" },
      }) as unknown as {
        requestContext: Record<string, unknown>;
        headers: Record<string, string>;
      };
      event.requestContext.domainName = "random-api-id.execute-api.us-east-1.amazonaws.com";
      delete event.headers.Host;
      event.headers.host = "localhost:3000";
      await expect(handler(event as never)).resolves.toBeDefined();
    }
  });
});
