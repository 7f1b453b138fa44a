/**
 * The authorizer with revocation on (authorizerHandler with KEYCLOAK_REVOCATION_TABLE), against the
 * local DynamoDB-compatible store through the real AWS SDK: a revoked session or subject is
 * refused (session_revoked) on all three event kinds, lookups are cached per instance (one read
 * per sid per period), and a store outage is a 500 by default or an allow with fail-open, each
 * with its metric and log line. With revocation off, the store is never asked.
 */
import { afterAll, afterEach, beforeAll, describe, expect, jest, test } from "@jest/globals";
import { API_ROUTES } from "../../functions/routes.js";
import { authorizerHandler } from "../../lib/lambda-handlers.js";
import { createRevocationStore } from "../../lib/revocation/revocation-store.js";
import { LOCAL_AWS_ENV, startRevocationStore, type LocalRevocationStore } from "../../local/revocation-store.js";
import { captureOutput } from "../helpers/captured-output.js";
import { authorizerEvent, EVENT_KINDS } from "../helpers/events.js";
import { startIdpStub, type IdpStub } from "../helpers/idp-stub.js";
import { accessToken, generateRsaKey, TEST_AUDIENCE, type TestKey } from "../helpers/tokens.js";

let idp: IdpStub;
let key: TestKey;
let store: LocalRevocationStore;
const context = { awsRequestId: "test", functionName: "authorizer" } as never;

beforeAll(async () => {
  Object.assign(process.env, LOCAL_AWS_ENV);
  key = generateRsaKey();
  idp = await startIdpStub([key.jwk]);
  store = await startRevocationStore();
});
afterAll(async () => {
  await store.close();
  await idp.close();
});
afterEach(() => {
  jest.restoreAllMocks();
  store.setAvailable(true);
});

const now = (): number => Math.floor(Date.now() / 1000);
const env = (extra: Record<string, string> = {}): Record<string, string> => ({
  KEYCLOAK_ISSUER: idp.issuer,
  KEYCLOAK_AUDIENCE: TEST_AUDIENCE,
  KEYCLOAK_REVOCATION_TABLE: store.table,
  KEYCLOAK_REVOCATION_ENDPOINT: store.endpoint,
  ...extra,
});
const writer = () => createRevocationStore({ table: store.table, endpoint: store.endpoint, timeoutMs: 1000 });

/** The handler's outcome and the reason its log line gives. */
async function decide(handler: ReturnType<typeof authorizerHandler>, kind: (typeof EVENT_KINDS)[number], token: string) {
  const output = captureOutput();
  const outcome = await handler(authorizerEvent(kind, `Bearer ${token}`), context).then(
    () => "allowed",
    (error: Error) => error.message,
  );
  jest.restoreAllMocks();
  const records = output.records();
  const line = records.find((record) => typeof record.reason === "string");
  return { outcome, reason: line?.reason, records };
}

describe.each(EVENT_KINDS)("%s events", (kind) => {
  test("a token whose session Keycloak ended is refused as session_revoked; another session of the same user passes", async () => {
    const handler = authorizerHandler(API_ROUTES, env());
    const [ended, other] = [crypto.randomUUID(), crypto.randomUUID()];
    await writer().revokeSession(idp.issuer, ended, now(), now() + 600);
    expect(await decide(handler, kind, accessToken(key, idp.issuer, { claims: { sid: ended } }))).toMatchObject({
      outcome: "Unauthorized",
      reason: "session_revoked",
    });
    expect((await decide(handler, kind, accessToken(key, idp.issuer, { claims: { sid: other } }))).outcome).toBe("allowed");
  });

  test("a subject logged out without sid: its tokens issued before the logout are refused, later ones pass", async () => {
    const handler = authorizerHandler(API_ROUTES, env());
    const sub = `user-${crypto.randomUUID()}`;
    await writer().revokeSubject(idp.issuer, sub, now() - 10, now() + 600);
    expect((await decide(handler, kind, accessToken(key, idp.issuer, { claims: { sub, iat: now() - 20 } }))).reason).toBe("session_revoked");
    expect((await decide(handler, kind, accessToken(key, idp.issuer, { claims: { sub, iat: now() } }))).outcome).toBe("allowed");
  });
});

describe("tokens that would outlive their revocation", () => {
  test("with revocation on, exp - iat over KEYCLOAK_MAX_TOKEN_LIFETIME_SECONDS is refused (token_outlives_revocation); at it, allowed", async () => {
    const handler = authorizerHandler(API_ROUTES, env({ KEYCLOAK_MAX_TOKEN_LIFETIME_SECONDS: "600" }));
    const iat = now();
    const long = await decide(handler, "http-v2", accessToken(key, idp.issuer, { claims: { iat, exp: iat + 601 } }));
    expect([long.outcome, long.reason]).toEqual(["Unauthorized", "token_outlives_revocation"]);
    expect((await decide(handler, "http-v2", accessToken(key, idp.issuer, { claims: { iat, exp: iat + 600 } }))).outcome).toBe("allowed");
    // Revocation off: no such rule (nothing would be forgotten).
    const off = authorizerHandler(API_ROUTES, { KEYCLOAK_ISSUER: idp.issuer, KEYCLOAK_AUDIENCE: TEST_AUDIENCE, KEYCLOAK_MAX_TOKEN_LIFETIME_SECONDS: "600" });
    expect((await decide(off, "http-v2", accessToken(key, idp.issuer, { claims: { iat, exp: iat + 601 } }))).outcome).toBe("allowed");
  });
});

describe("session claims no store can key", () => {
  test("an over-long or not well-formed sid or sub is refused on its own (malformed_token), reads nothing, and costs other tokens nothing", async () => {
    const handler = authorizerHandler(API_ROUTES, env());
    const reads = store.count("BatchGetItem");
    for (const claims of [{ sid: "s".repeat(3000) }, { sub: "u".repeat(256) }, { sid: "\ud800" }, { sub: "a\udc00b" }]) {
      const { outcome, reason } = await decide(handler, "http-v2", accessToken(key, idp.issuer, { claims }));
      expect([claims, outcome, reason]).toEqual([claims, "Unauthorized", "malformed_token"]);
    }
    expect(store.count("BatchGetItem")).toBe(reads);
    // The next ordinary token is read and decided at once: no failure backoff was set off.
    expect((await decide(handler, "http-v2", accessToken(key, idp.issuer, { claims: { sid: crypto.randomUUID(), sub: "😀-user" } }))).outcome).toBe("allowed");
    expect(store.count("BatchGetItem")).toBe(reads + 1);
  });
});

describe("the lookup cache", () => {
  test("one store read per sid per cache period per instance, however many requests and tokens; a revocation shows after the period", async () => {
    const handler = authorizerHandler(API_ROUTES, env({ KEYCLOAK_REVOCATION_CACHE_SECONDS: "1" }));
    const sid = crypto.randomUUID();
    const sub = `user-${crypto.randomUUID()}`;
    const tokens = Array.from({ length: 5 }, () => accessToken(key, idp.issuer, { claims: { sid, sub } }));
    // Warm up once (the first read), then count.
    expect((await decide(handler, "http-v2", tokens[0] as string)).outcome).toBe("allowed");
    const reads = store.count("BatchGetItem");
    const concurrent = await Promise.all(Array.from({ length: 200 }, (_, i) => handler(authorizerEvent("http-v2", `Bearer ${tokens[i % 5]}`), context)));
    expect(concurrent).toHaveLength(200);
    expect(store.count("BatchGetItem")).toBe(reads);

    await writer().revokeSession(idp.issuer, sid, now(), now() + 600);
    // Inside the period the cached "not revoked" answer stands: the known, bounded delay.
    expect((await decide(handler, "http-v2", tokens[1] as string)).outcome).toBe("allowed");
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await decide(handler, "http-v2", tokens[2] as string)).reason).toBe("session_revoked");
    expect(store.count("BatchGetItem")).toBe(reads + 1);
  });

  test("a cold burst for one session shares a single read", async () => {
    const handler = authorizerHandler(API_ROUTES, env());
    const sid = crypto.randomUUID();
    const before = store.count("BatchGetItem");
    const token = accessToken(key, idp.issuer, { claims: { sid } });
    await Promise.all(Array.from({ length: 50 }, () => handler(authorizerEvent("http-v2", `Bearer ${token}`), context)));
    expect(store.count("BatchGetItem") - before).toBe(1);
  });
});

describe("the store down", () => {
  test("fail closed by default: a 500-class failure (revocation_unavailable), ERROR line and AuthorizerFailures metric; never Unauthorized nor Allow", async () => {
    const handler = authorizerHandler(API_ROUTES, env());
    store.setAvailable(false);
    const { outcome, records } = await decide(handler, "rest-token", accessToken(key, idp.issuer));
    expect(outcome).toBe("Authorizer failure: revocation_unavailable");
    expect(records).toContainEqual(expect.objectContaining({ level: "ERROR", message: "authorizer failure", reason: "revocation_unavailable" }));
    expect(JSON.stringify(records)).toContain('"AuthorizerFailures"');
  });

  test("KEYCLOAK_REVOCATION_FAIL_OPEN=true: allowed, with the RevocationFailOpen metric and an ERROR line", async () => {
    const handler = authorizerHandler(API_ROUTES, env({ KEYCLOAK_REVOCATION_FAIL_OPEN: "true" }));
    store.setAvailable(false);
    const { outcome, records } = await decide(handler, "http-v2", accessToken(key, idp.issuer));
    expect(outcome).toBe("allowed");
    expect(records).toContainEqual(expect.objectContaining({ level: "ERROR", reason: "revocation_unavailable", decision: "allow" }));
    expect(JSON.stringify(records)).toContain('"RevocationFailOpen"');
  });
});

test("revocation off (no KEYCLOAK_REVOCATION_TABLE): the store is never asked, and a revoked session passes as before", async () => {
  const sid = crypto.randomUUID();
  await writer().revokeSession(idp.issuer, sid, now(), now() + 600);
  const before = store.count("BatchGetItem");
  const handler = authorizerHandler(API_ROUTES, { KEYCLOAK_ISSUER: idp.issuer, KEYCLOAK_AUDIENCE: TEST_AUDIENCE });
  expect((await decide(handler, "http-v2", accessToken(key, idp.issuer, { claims: { sid } }))).outcome).toBe("allowed");
  expect(store.count("BatchGetItem")).toBe(before);
});

test("an expired revocation record (past its TTL, not yet deleted) no longer refuses", async () => {
  const handler = authorizerHandler(API_ROUTES, env());
  const sid = crypto.randomUUID();
  await writer().revokeSession(idp.issuer, sid, now() - 100, now() - 1);
  expect((await decide(handler, "http-v2", accessToken(key, idp.issuer, { claims: { sid } }))).outcome).toBe("allowed");
});
