/**
 * Revocation with many realms (KEYCLOAK_ISSUER as a `{realm}` pattern): the receiver takes logout
 * tokens from every trusted realm, each on its own keys, and a logout ends sessions of its own
 * realm only, even when another realm has the same `sid` or `sub` (a realm's admin can import
 * users with chosen ids). Realms the authorizer does not trust, or that Keycloak does not have,
 * are refused as the sender's fault (400), without a key fetch for untrusted ones.
 */
import { afterAll, beforeAll, expect, jest, test } from "@jest/globals";
import type { APIGatewayProxyResult } from "aws-lambda";
import { API_ROUTES } from "../../functions/routes.js";
import { authorizerHandler } from "../../lib/lambda-handlers.js";
import { backchannelLogoutHandler } from "../../lib/revocation/lambda-handler.js";
import { LOCAL_AWS_ENV, startRevocationStore, type LocalRevocationStore } from "../../local/revocation-store.js";
import { captureOutput } from "../helpers/captured-output.js";
import { authorizerEvent } from "../helpers/events.js";
import { form, logoutRequest, logoutToken } from "../helpers/logout-tokens.js";
import { startRealmsStub, type RealmsStub } from "../helpers/realms-stub.js";
import { accessToken, TEST_AUDIENCE, type TestKey } from "../helpers/tokens.js";

let realms: RealmsStub;
let store: LocalRevocationStore;
let keyA: TestKey;
let keyB: TestKey;
const context = { awsRequestId: "test", functionName: "authorizer" } as never;

beforeAll(async () => {
  Object.assign(process.env, LOCAL_AWS_ENV);
  realms = await startRealmsStub();
  keyA = realms.create("tenant-a");
  keyB = realms.create("tenant-b");
  store = await startRevocationStore();
});
afterAll(async () => {
  await store.close();
  await realms.close();
});

const env = (extra: Record<string, string> = {}): Record<string, string> => ({
  KEYCLOAK_ISSUER: realms.pattern,
  AUTH_REALM: "tenants",
  KEYCLOAK_REVOCATION_TABLE: store.table,
  KEYCLOAK_REVOCATION_ENDPOINT: store.endpoint,
  ...extra,
});
const receiver = (extra: Record<string, string> = {}) =>
  backchannelLogoutHandler(env({ KEYCLOAK_LOGOUT_CLIENTS: "api-client", KEYCLOAK_MAX_TOKEN_LIFETIME_SECONDS: "300", ...extra }));

async function post(handler: ReturnType<typeof receiver>, token: string): Promise<{ result: APIGatewayProxyResult; reason: unknown }> {
  const output = captureOutput();
  const result = await handler(logoutRequest("http", form(token)));
  jest.restoreAllMocks();
  const record = output.records().find((line) => typeof line.reason === "string" || line.message === "logout recorded");
  return { result, reason: record?.reason };
}

async function outcome(handler: ReturnType<typeof authorizerHandler>, token: string): Promise<unknown> {
  const output = captureOutput();
  const result = await handler(authorizerEvent("http-v2", `Bearer ${token}`), context).then(
    () => "allowed",
    (error: Error) => error.message,
  );
  const reason = output.records().find((line) => typeof line.reason === "string")?.reason;
  jest.restoreAllMocks();
  return result === "allowed" ? result : reason;
}

test("a logout of one realm ends that realm's session and subject only, though another realm has the same sid and sub", async () => {
  const sid = crypto.randomUUID();
  const sub = crypto.randomUUID();
  const iat = Math.floor(Date.now() / 1000) - 5;
  const tokenOf = (key: TestKey, realm: string, claims: Record<string, unknown>) =>
    accessToken(key, realms.issuer(realm), { claims: { aud: TEST_AUDIENCE, sub, iat, ...claims } });
  const authorizer = authorizerHandler(API_ROUTES, env({ KEYCLOAK_AUDIENCE: TEST_AUDIENCE }));
  const handler = receiver();

  const sessionLogout = await post(handler, logoutToken(keyB, realms.issuer("tenant-b"), { claims: { sid, sub } }));
  expect(sessionLogout.result.statusCode).toBe(200);
  expect(await outcome(authorizer, tokenOf(keyB, "tenant-b", { sid }))).toBe("session_revoked");
  expect(await outcome(authorizer, tokenOf(keyA, "tenant-a", { sid }))).toBe("allowed");

  // A subject-wide logout (no sid) of tenant-b: tenant-a's user of the same id keeps access.
  const subjectLogout = await post(handler, logoutToken(keyB, realms.issuer("tenant-b"), { claims: { sid: undefined, sub } }));
  expect(subjectLogout.result.statusCode).toBe(200);
  const later = authorizerHandler(API_ROUTES, env({ KEYCLOAK_AUDIENCE: TEST_AUDIENCE }));
  expect(await outcome(later, tokenOf(keyB, "tenant-b", { sid: crypto.randomUUID() }))).toBe("session_revoked");
  expect(await outcome(later, tokenOf(keyA, "tenant-a", { sid: crypto.randomUUID() }))).toBe("allowed");
});

test("a logout token signed by another realm's key is refused: each realm verifies on its own keys", async () => {
  // tenant-a's issuer, tenant-b's key (whose kid tenant-a's JWKS does not have).
  const { result, reason } = await post(receiver(), logoutToken(keyB, realms.issuer("tenant-a")));
  expect(result.statusCode).toBe(400);
  expect(reason).toBe("unknown_kid");
});

test("an untrusted realm is refused before any fetch; a realm Keycloak does not have is the sender's fault (400), not an outage", async () => {
  const handler = receiver({ KEYCLOAK_REALMS_DENY: "tenant-b" });
  const before = realms.requests.length;
  const denied = await post(handler, logoutToken(keyB, realms.issuer("tenant-b")));
  expect(denied).toMatchObject({ result: { statusCode: 400 }, reason: "invalid_issuer" });
  const foreign = await post(handler, logoutToken(keyB, "https://elsewhere.example/realms/tenant-a"));
  expect(foreign).toMatchObject({ result: { statusCode: 400 }, reason: "invalid_issuer" });
  expect(realms.requests.length).toBe(before);

  const absent = await post(handler, logoutToken(keyA, realms.issuer("no-such-realm")));
  expect(absent).toMatchObject({ result: { statusCode: 400 }, reason: "unknown_realm" });
  // Remembered as absent: a second token of it costs no fetch.
  const fetches = realms.requests.length;
  expect((await post(handler, logoutToken(keyA, realms.issuer("no-such-realm")))).reason).toBe("unknown_realm");
  expect(realms.requests.length).toBe(fetches);
});

test("a flood of forged logout tokens naming invented realms cannot make the receiver drop a known realm's logout", async () => {
  const handler = receiver({ KEYCLOAK_REALM_DISCOVERIES_PER_SECOND: "2", KEYCLOAK_MAX_REALMS: "1" });
  expect((await post(handler, logoutToken(keyA, realms.issuer("tenant-a")))).result.statusCode).toBe(200);
  // Claims that pass, a signature never checked: each names a realm of its own.
  const forged = (name: string): string => {
    const token = logoutToken(keyA, realms.issuer(name));
    return `${token.slice(0, token.lastIndexOf(".") + 1)}${"A".repeat(342)}`;
  };
  const statuses = new Set<number>();
  for (let i = 0; i < 4; i += 1) statuses.add((await post(handler, forged(`invented-${i}-${Date.now()}`))).result.statusCode);
  expect([...statuses].sort()).toEqual([400, 503]);
  // tenant-a, dropped from the held set by the first invented realm, is discovered again from the proven realms' budget.
  const genuine = await post(handler, logoutToken(keyA, realms.issuer("tenant-a")));
  expect(genuine.result.statusCode).toBe(200);
});
