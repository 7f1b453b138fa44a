/**
 * The authorizer under load: 10,000 invocations, 200 in flight at once, 60 % valid and 40 % invalid
 * tokens of several kinds, on one handler from its cold start. Every answer must be the right one
 * for its own token, the realm must be asked for its keys once, and the heap must not keep growing.
 */
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import { randomBytes } from "node:crypto";
import type { APIGatewayAuthorizerResult, APIGatewaySimpleAuthorizerWithContextResult } from "aws-lambda";
import { createAuthorizerHandler } from "../../lib/authorizer/authorizer-handler.js";
import type { EventKind } from "../../lib/apigateway/events.js";
import { CLAIMS_CONTEXT_KEY, type AuthorizerContext } from "../../lib/apigateway/context.js";
import { loggingObserver, type LogCall as Logger } from "../helpers/observer.js";
import { createAccessTokenVerifier } from "../../lib/token/access-token-verifier.js";
import { testConfig } from "../helpers/config.js";
import { EVENT_KINDS, authorizerEvent } from "../helpers/events.js";
import { startIdpStub, type IdpStub } from "../helpers/idp-stub.js";
import { runPool, settledHeapUsed } from "../helpers/run-bounds.js";
import { accessClaims, accessToken, b64url, generateRsaKey, type TestKey } from "../helpers/tokens.js";
import { API_ROUTES } from "../../functions/routes.js";
import { gatewayChecked } from "../helpers/gateway.js";

const TOTAL = 10_000;
const CONCURRENCY = 200;
/** Generous: the point is "bounded", not a benchmark. Without a cap on what a run retains, 10,000 calls would exceed it. */
const MAX_HEAP_GROWTH = 64 * 1024 * 1024;
const MiB = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

let idp: IdpStub;
let key: TestKey;

beforeAll(async () => {
  key = generateRsaKey();
  idp = await startIdpStub([key.jwk]);
});
afterAll(() => idp.close());

interface Invocation {
  readonly kind: EventKind;
  readonly authorization: string | undefined;
  /** "allow", or the reason code the refusal must be logged with. */
  readonly expected: "allow" | string;
  /** For valid tokens: the answer must carry this very token's claims, not a neighbour's. */
  readonly jti?: string;
}

/** Deterministic shuffle (mulberry32), so a failing order can be replayed. */
function shuffle<T>(items: T[], seed: number): T[] {
  let state = seed >>> 0;
  const random = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = items.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

/** Signed up front: RSA signing blocks the event loop and would distort the concurrent part. */
function presign(issuer: string): Invocation[] {
  const now = Math.floor(Date.now() / 1000);
  const attacker = generateRsaKey({ kid: key.kid });
  const kindOf = (i: number): EventKind => EVENT_KINDS[i % EVENT_KINDS.length] as EventKind;
  const invocations: Invocation[] = [];
  // 6,000 valid: 3,000 distinct tokens, each used twice, as clients reuse their access token.
  for (let i = 0; i < 3000; i += 1) {
    const jti = `valid-${i}`;
    const token = accessToken(key, issuer, { claims: { jti, exp: now + 900 } });
    invocations.push({ kind: kindOf(i), authorization: `Bearer ${token}`, expected: "allow", jti });
    invocations.push({ kind: kindOf(i + 1), authorization: `Bearer ${token}`, expected: "allow", jti });
  }
  // 4,000 invalid, 1,000 of each kind.
  for (let i = 0; i < 1000; i += 1) {
    invocations.push({
      kind: kindOf(i),
      authorization: `Bearer ${accessToken(key, issuer, { claims: { exp: now - 3600, iat: now - 7200 } })}`,
      expected: "token_expired",
    });
    invocations.push({ kind: kindOf(i), authorization: `Bearer ${accessToken(key, issuer, { claims: { aud: "account" } })}`, expected: "invalid_audience" });
    invocations.push({ kind: kindOf(i), authorization: `Bearer ${accessToken(attacker, issuer)}`, expected: "invalid_signature" });
    const garbage: Array<[string | undefined, string]> = [
      ["Bearer not-a-jwt", "malformed_token"],
      ["Basic YWxpY2U6YWxpY2U=", "malformed_authorization_header"],
      [undefined, "missing_token"],
      [`Bearer ${b64url({ alg: "none", kid: key.kid })}.${b64url(accessClaims(issuer))}.x`, "algorithm_not_allowed"],
    ];
    const [authorization, expected] = garbage[i % garbage.length] as [string | undefined, string];
    invocations.push({ kind: kindOf(i), authorization, expected });
  }
  return shuffle(invocations, 0x10ad);
}

test(`${TOTAL} invocations, ${CONCURRENCY} in flight, from a cold start: right answers, one key fetch, bounded heap`, async () => {
  idp.setDelay(25); // keep the cold callers waiting on the first fetch together
  const invocations = presign(idp.issuer);
  const reasons = new Map<string, number>();
  const log: Logger = (level, _message, fields) => {
    const reason = `${level}:${String(fields.reason)}`;
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  };
  // Cold: a new verifier with an empty key cache, not hydrated; its first calls do the fetching.
  const handler = gatewayChecked(
    createAuthorizerHandler({ verifier: createAccessTokenVerifier(testConfig(idp.issuer)), routes: API_ROUTES, observer: loggingObserver(log) }),
  );
  const before = await settledHeapUsed();

  const failures: string[] = [];
  const latencies = new Float64Array(TOTAL);
  let coldCalls = 0;
  const started = performance.now();
  const peak = await runPool(TOTAL, CONCURRENCY, async (index) => {
    const invocation = invocations[index] as Invocation;
    if (idp.counts.jwks === 0) coldCalls += 1;
    const callStarted = performance.now();
    try {
      const result = await handler(authorizerEvent(invocation.kind, invocation.authorization));
      latencies[index] = performance.now() - callStarted;
      if (invocation.expected !== "allow") {
        failures.push(`#${index} ${invocation.expected} token was allowed`);
        return;
      }
      const context = (result as { context?: AuthorizerContext }).context;
      const claims = JSON.parse(String(context?.[CLAIMS_CONTEXT_KEY])) as { jti?: string };
      const granted =
        invocation.kind === "http-v2"
          ? (result as APIGatewaySimpleAuthorizerWithContextResult<AuthorizerContext>).isAuthorized === true
          : (result as APIGatewayAuthorizerResult).policyDocument.Statement.some((statement) => statement.Effect === "Allow");
      if (!granted || claims.jti !== invocation.jti) failures.push(`#${index} answered with ${claims.jti ?? "no"} claims, granted ${granted}`);
    } catch (error) {
      latencies[index] = performance.now() - callStarted;
      if (invocation.expected === "allow") failures.push(`#${index} valid token refused: ${String(error)}`);
      else if (!(error instanceof Error) || error.message !== "Unauthorized") failures.push(`#${index} refused with ${String(error)}`);
    }
  });
  const elapsed = performance.now() - started;
  const after = await settledHeapUsed();

  const growth = after.bytes - before.bytes;
  const sorted = Array.from(latencies).sort((a, b) => a - b);
  console.log(
    `load: ${TOTAL} invocations in ${(elapsed / 1000).toFixed(2)} s (${Math.round(TOTAL / (elapsed / 1000))}/s), ` +
      `${CONCURRENCY} in flight (peak ${peak}), ${coldCalls} cold; latency p50 ${sorted[TOTAL / 2]?.toFixed(1)} ms, ` +
      `p99 ${sorted[Math.floor(TOTAL * 0.99)]?.toFixed(1)} ms; heap ${MiB(before.bytes)} -> ${MiB(after.bytes)} ` +
      `(growth ${MiB(growth)}, ${after.forcedGc ? "after forced GC" : "after a settle, no GC available"})`,
  );

  expect(failures.slice(0, 10)).toEqual([]);
  expect(peak).toBe(CONCURRENCY);
  // Many calls arrived before the keys did, and they all shared one discovery and one JWKS fetch.
  expect(coldCalls).toBeGreaterThanOrEqual(CONCURRENCY / 2);
  expect(idp.counts).toEqual({ discovery: 1, jwks: 1 });
  // Each refusal logged once, at WARN, with its own reason; nothing logged for acceptances.
  const expectedReasons = new Map<string, number>();
  for (const { expected } of invocations) {
    if (expected !== "allow") expectedReasons.set(`WARN:${expected}`, (expectedReasons.get(`WARN:${expected}`) ?? 0) + 1);
  }
  expect(Object.fromEntries([...reasons].sort())).toEqual(Object.fromEntries([...expectedReasons].sort()));
  expect(growth).toBeLessThan(MAX_HEAP_GROWTH);
}, 120_000);

test("20,000 forged tokens, each with a distinct 10 KB issuer, leave nothing behind", async () => {
  // Regression test: aws-jwt-verify caches converted public keys by the token's unverified `iss`;
  // without the verifier's early issuer check this run kept about 200 MiB.
  idp.setDelay(0);
  const handler = gatewayChecked(createAuthorizerHandler({ verifier: createAccessTokenVerifier(testConfig(idp.issuer)), routes: API_ROUTES }));
  await handler(authorizerEvent("rest-token", `Bearer ${accessToken(key, idp.issuer)}`)); // warm
  const header = b64url({ alg: "RS256", typ: "JWT", kid: key.kid });
  const signature = randomBytes(256).toString("base64url");
  const filler = "x".repeat(10_000);
  const before = await settledHeapUsed();
  let refused = 0;
  await runPool(20_000, CONCURRENCY, async (index) => {
    // Built on the fly: 20,000 of them held at once would themselves weigh 270 MB.
    const token = `${header}.${b64url(accessClaims(idp.issuer, { iss: `https://attacker.example/${index}/${filler}` }))}.${signature}`;
    await handler(authorizerEvent(EVENT_KINDS[index % 3] as EventKind, `Bearer ${token}`)).catch((error: Error) => {
      if (error.message === "Unauthorized") refused += 1;
    });
  });
  const after = await settledHeapUsed();
  console.log(`issuer flood: heap ${MiB(before.bytes)} -> ${MiB(after.bytes)} (growth ${MiB(after.bytes - before.bytes)})`);
  expect(refused).toBe(20_000);
  expect(after.bytes - before.bytes).toBeLessThan(32 * 1024 * 1024);
}, 120_000);
