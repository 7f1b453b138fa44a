/**
 * The back-channel logout receiver, rule by rule (OpenID Connect Back-Channel Logout 1.0, 2.6):
 * each request goes through the deployed handler (backchannelLogoutHandler) with the real AWS SDK
 * against the local DynamoDB-compatible store, keys from a local realm stub. A refusal is a 400
 * with an error body, a reason code in the log, and nothing recorded.
 */
import { afterAll, afterEach, beforeAll, describe, expect, jest, test } from "@jest/globals";
import type { APIGatewayProxyResult } from "aws-lambda";
import { backchannelLogoutHandler } from "../../lib/revocation/lambda-handler.js";
import { LOCAL_AWS_ENV, startRevocationStore, type LocalRevocationStore } from "../../local/revocation-store.js";
import { captureOutput, type CapturedOutput } from "../helpers/captured-output.js";
import { startIdpStub, type IdpStub } from "../helpers/idp-stub.js";
import { form, LOGOUT_EVENT, logoutRequest, logoutToken, type ApiKind } from "../helpers/logout-tokens.js";
import { accessToken, generateRsaKey, signJwt, type TestKey } from "../helpers/tokens.js";

let idp: IdpStub;
let key: TestKey;
let store: LocalRevocationStore;
let handler: ReturnType<typeof backchannelLogoutHandler>;
let output: CapturedOutput;

beforeAll(async () => {
  Object.assign(process.env, LOCAL_AWS_ENV);
  key = generateRsaKey();
  idp = await startIdpStub([key.jwk]);
  store = await startRevocationStore();
  handler = backchannelLogoutHandler({
    KEYCLOAK_ISSUER: idp.issuer,
    KEYCLOAK_LOGOUT_CLIENTS: "api-client,api-docs",
    KEYCLOAK_REVOCATION_TABLE: store.table,
    KEYCLOAK_REVOCATION_ENDPOINT: store.endpoint,
    KEYCLOAK_MAX_TOKEN_LIFETIME_SECONDS: "300",
  });
});
afterAll(async () => {
  await store.close();
  await idp.close();
});
afterEach(() => {
  jest.restoreAllMocks();
});

const now = (): number => Math.floor(Date.now() / 1000);

async function post(kind: ApiKind, body: string, options?: Parameters<typeof logoutRequest>[2]): Promise<{ result: APIGatewayProxyResult; reason: unknown }> {
  output = captureOutput();
  const result = await handler(logoutRequest(kind, body, options));
  jest.restoreAllMocks();
  const record = output
    .records()
    .find((line) => line.message === "logout refused" || line.message === "logout recorded" || line.message === "logout not recorded");
  return { result, reason: record?.reason };
}

describe.each<ApiKind>(["http", "rest"])("%s API events", (kind) => {
  test("a logout token of one of our clients is recorded: 200, the session revoked as of its iat, kept past the longest token lifetime", async () => {
    const token = logoutToken(key, idp.issuer);
    const { sid, iat } = JSON.parse(Buffer.from(token.split(".")[1] as string, "base64url").toString()) as { sid: string; iat: number };
    const { result } = await post(kind, form(token));
    expect(result).toMatchObject({ statusCode: 200, body: "", headers: { "Cache-Control": "no-store" } });
    const items = await store.items();
    // 300 s lifetime + 30 s skew + 60 s margin.
    expect(items.get(`sid#${idp.issuer}#${sid}`)).toEqual({ pk: `sid#${idp.issuer}#${sid}`, revokedAt: iat, expiresAt: iat + 390 });
    expect(output.text()).not.toContain(token.split(".")[2]);
  });

  test("a body API Gateway base64-encoded is read as the form it carries", async () => {
    const { result } = await post(kind, form(logoutToken(key, idp.issuer)), { base64: true });
    expect(result.statusCode).toBe(200);
  });

  test("KEYCLOAK_LOGOUT_ENDS_ALL_SESSIONS=true: a logout token with sid and sub ends the session and every token of the subject issued before it (Keycloak #22914)", async () => {
    const endsAll = backchannelLogoutHandler({
      KEYCLOAK_ISSUER: idp.issuer,
      KEYCLOAK_LOGOUT_CLIENTS: "api-client",
      KEYCLOAK_REVOCATION_TABLE: store.table,
      KEYCLOAK_REVOCATION_ENDPOINT: store.endpoint,
      KEYCLOAK_LOGOUT_ENDS_ALL_SESSIONS: "true",
    });
    const [sid, sub, iat] = [`session-${Math.random()}`, `subject-${Math.random()}`, now()];
    output = captureOutput();
    const result = await endsAll(logoutRequest(kind, form(logoutToken(key, idp.issuer, { claims: { sid, sub, iat } }))));
    const recorded = output.records().find((line) => line.message === "logout recorded");
    jest.restoreAllMocks();
    expect(result.statusCode).toBe(200);
    expect(recorded?.revoked).toBe("session and subject");
    const items = await store.items();
    expect(items.get(`sid#${idp.issuer}#${sid}`)?.revokedAt).toBe(iat);
    expect(items.get(`sub#${idp.issuer}#${sub}`)?.revokedAt).toBe(iat);
  });

  test("by default a logout token with sid ends that session only, its subject's other sessions keep working", async () => {
    const [sid, sub] = [`session-${Math.random()}`, `subject-${Math.random()}`];
    const { result } = await post(kind, form(logoutToken(key, idp.issuer, { claims: { sid, sub } })));
    expect(result.statusCode).toBe(200);
    const items = await store.items();
    expect(items.has(`sid#${idp.issuer}#${sid}`)).toBe(true);
    expect(items.has(`sub#${idp.issuer}#${sub}`)).toBe(false);
  });

  test("a logout token without sid revokes its subject: every token issued at or before its iat", async () => {
    const sub = `subject-${Math.random()}`;
    const iat = now();
    const token = logoutToken(key, idp.issuer, { claims: { sid: undefined, sub, iat } });
    const { result } = await post(kind, form(token));
    expect(result.statusCode).toBe(200);
    expect((await store.items()).get(`sub#${idp.issuer}#${sub}`)?.revokedAt).toBe(iat);
  });

  const refusals: Array<[string, () => string, Parameters<typeof logoutRequest>[2] | undefined, string]> = [
    ["a forged signature", () => form(logoutToken({ ...generateRsaKey(), kid: key.kid }, idp.issuer)), undefined, "invalid_signature"],
    ["another client's aud", () => form(logoutToken(key, idp.issuer, { claims: { aud: "secured-api" } })), undefined, "invalid_audience"],
    ["no back-channel logout event", () => form(logoutToken(key, idp.issuer, { claims: { events: {} } })), undefined, "missing_logout_event"],
    [
      "an event that is not an object",
      () => form(logoutToken(key, idp.issuer, { claims: { events: { [LOGOUT_EVENT]: "yes" } } })),
      undefined,
      "missing_logout_event",
    ],
    ["no events claim", () => form(logoutToken(key, idp.issuer, { claims: { events: undefined } })), undefined, "missing_logout_event"],
    ["a nonce", () => form(logoutToken(key, idp.issuer, { claims: { nonce: "n-0S6_WzA2Mj" } })), undefined, "nonce_in_logout_token"],
    ["a stale iat", () => form(logoutToken(key, idp.issuer, { claims: { iat: now() - 600, exp: now() + 60 } })), undefined, "stale_logout_token"],
    ["an iat in the future", () => form(logoutToken(key, idp.issuer, { claims: { iat: now() + 600, exp: now() + 700 } })), undefined, "iat_in_future"],
    ["no iat", () => form(logoutToken(key, idp.issuer, { claims: { iat: undefined } })), undefined, "missing_iat"],
    ["an expired token", () => form(logoutToken(key, idp.issuer, { claims: { exp: now() - 120 } })), undefined, "token_expired"],
    ["neither sid nor sub", () => form(logoutToken(key, idp.issuer, { claims: { sid: undefined, sub: undefined } })), undefined, "missing_logout_subject"],
    ["an empty sid", () => form(logoutToken(key, idp.issuer, { claims: { sid: "" } })), undefined, "missing_logout_subject"],
    ["no jti", () => form(logoutToken(key, idp.issuer, { claims: { jti: undefined } })), undefined, "missing_jti"],
    ["another issuer", () => form(logoutToken(key, idp.issuer, { claims: { iss: "https://elsewhere.example/realms/demo" } })), undefined, "invalid_issuer"],
    ["header typ JWT (not logout+jwt)", () => form(logoutToken(key, idp.issuer, { header: { typ: "JWT" } })), undefined, "invalid_logout_token_type"],
    ["payload typ Bearer (not Logout)", () => form(logoutToken(key, idp.issuer, { claims: { typ: "Bearer" } })), undefined, "invalid_logout_token_type"],
    ["an access token of the realm", () => form(accessToken(key, idp.issuer, { claims: { aud: "api-client" } })), undefined, "invalid_logout_token_type"],
    [
      "alg none",
      () => form(`${signJwt({ alg: "none", typ: "logout+jwt", kid: key.kid }, {}, key.privateKey).split(".").slice(0, 2).join(".")}.`),
      undefined,
      "malformed_token",
    ],
    ["an HMAC algorithm", () => form(logoutToken(key, idp.issuer, { header: { alg: "HS256" } })), undefined, "algorithm_not_allowed"],
    ["an unknown kid", () => form(logoutToken({ ...key, kid: "unknown" }, idp.issuer)), undefined, "unknown_kid"],
    ["a token that is not a JWT", () => form("not-a-jwt"), undefined, "malformed_token"],
    ["no logout_token parameter", () => "token=abc", undefined, "missing_logout_token"],
    ["two logout_token parameters", () => `${form(logoutToken(key, idp.issuer))}&${form(logoutToken(key, idp.issuer))}`, undefined, "missing_logout_token"],
    ["an oversized body", () => `logout_token=${"a".repeat(20_000)}`, undefined, "request_too_large"],
    ["a JSON body", () => JSON.stringify({ logout_token: logoutToken(key, idp.issuer) }), { contentType: "application/json" }, "unsupported_media_type"],
    ["no content type", () => form(logoutToken(key, idp.issuer)), { contentType: undefined }, "unsupported_media_type"],
  ];

  test.each(refusals)("%s: 400 with an error body, its reason logged, nothing recorded", async (_name, body, options, reason) => {
    const before = (await store.items()).size;
    const outcome = await post(kind, body(), options);
    expect(outcome.result.statusCode).toBe(400);
    expect(JSON.parse(outcome.result.body)).toMatchObject({ error: "invalid_request" });
    expect(outcome.reason).toBe(reason);
    expect((await store.items()).size).toBe(before);
  });

  test("a replayed jti: 400 logout_token_replayed, and the replay changes nothing", async () => {
    const token = logoutToken(key, idp.issuer);
    expect((await post(kind, form(token))).result.statusCode).toBe(200);
    const before = await store.items();
    const replay = await post(kind, form(token));
    expect(replay.result.statusCode).toBe(400);
    expect(replay.reason).toBe("logout_token_replayed");
    expect(await store.items()).toEqual(before);
  });
});

describe("failures that are not the caller's", () => {
  test("the store down: 503 with Retry-After, logged as revocation_unavailable; recorded once it is back", async () => {
    const token = logoutToken(key, idp.issuer);
    store.setAvailable(false);
    try {
      const down = await post("http", form(token));
      expect(down.result.statusCode).toBe(503);
      expect(down.result.headers).toMatchObject({ "Retry-After": "5" });
      expect(JSON.parse(down.result.body)).toMatchObject({ error: "temporarily_unavailable" });
      expect(down.reason).toBe("revocation_unavailable");
    } finally {
      store.setAvailable(true);
    }
    // Keycloak's retry (or a second send) is not taken for a replay: the jti was never claimed.
    expect((await post("http", form(token))).result.statusCode).toBe(200);
  });

  test("the realm's keys unreachable: 503 keys_unavailable, never a 400 or a 200", async () => {
    const dead = await startIdpStub([key.jwk]);
    await dead.close();
    const orphan = backchannelLogoutHandler({
      KEYCLOAK_ISSUER: dead.issuer,
      KEYCLOAK_LOGOUT_CLIENTS: "api-client",
      KEYCLOAK_REVOCATION_TABLE: store.table,
      KEYCLOAK_REVOCATION_ENDPOINT: store.endpoint,
    });
    output = captureOutput();
    const result = await orphan(logoutRequest("http", form(logoutToken(key, dead.issuer))));
    jest.restoreAllMocks();
    expect(result.statusCode).toBe(503);
    expect(output.records().find((line) => line.message === "logout not recorded")?.reason).toBe("keys_unavailable");
  });
});
