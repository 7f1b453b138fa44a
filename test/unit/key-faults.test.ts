import { afterEach, describe, expect, test } from "@jest/globals";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createAccessTokenVerifier, type AccessTokenVerifier } from "../../lib/token/access-token-verifier.js";
import { JwksCache } from "../../lib/keys/jwks-cache.js";
import { createFetchJson } from "../../lib/keys/fetch-json.js";
import { AuthorizerError } from "../../lib/errors.js";
import { startIdpStub, type IdpStub } from "../helpers/idp-stub.js";
import { testConfig } from "../helpers/config.js";
import { accessToken, generateRsaKey, type TestKey } from "../helpers/tokens.js";

// A fault-injecting realm: each case breaks discovery or the certs endpoint one way and checks
// the outcome (a typed error code), how many fetches it cost, and that it ended promptly.

const TIMEOUT_MS = 400;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function realm(keys: Record<string, unknown>[]): Promise<IdpStub> {
  const idp = await startIdpStub(keys);
  cleanups.push(() => idp.close());
  return idp;
}

function verifierFor(idp: IdpStub, clock = { now: 1_000_000 }, failureBackoffMs = 5000, timeoutMs = TIMEOUT_MS): AccessTokenVerifier {
  const cache = new JwksCache({
    issuer: idp.issuer,
    fetchJson: createFetchJson({ timeoutMs, allowHttp: false }),
    maxAgeMs: 600_000,
    cooldownMs: 30_000,
    failureBackoffMs,
    now: () => clock.now,
  });
  return createAccessTokenVerifier(testConfig(idp.issuer), { jwksCache: cache });
}

async function outcome(verifier: AccessTokenVerifier, token: string): Promise<{ code: string; ms: number }> {
  const started = performance.now();
  try {
    await verifier.verify(token);
    return { code: "accepted", ms: performance.now() - started };
  } catch (error) {
    expect(error).toBeInstanceOf(AuthorizerError);
    return { code: (error as AuthorizerError).code, ms: performance.now() - started };
  }
}

const key: TestKey = generateRsaKey();

type Fault = (url: string) => { status?: number; headers?: Record<string, string>; body?: string | Buffer; hang?: boolean } | undefined;
const onCerts =
  (answer: ReturnType<Fault>): Fault =>
  (url) =>
    url.endsWith("/certs") ? answer : undefined;
const onDiscovery =
  (answer: ReturnType<Fault>): Fault =>
  (url) =>
    url.endsWith("openid-configuration") ? answer : undefined;

describe.each<[string, Fault, string]>([
  ["discovery answers 500", onDiscovery({ status: 500, body: "{}" }), "keys_unavailable"],
  ["discovery answers 404", onDiscovery({ status: 404, body: "" }), "keys_unavailable"],
  ["discovery is an HTML page", onDiscovery({ body: "<!doctype html><h1>Welcome to Keycloak</h1>" }), "keys_unavailable"],
  ["discovery never answers", onDiscovery({ hang: true }), "keys_unavailable"],
  ["certs answers 500", onCerts({ status: 500, body: "{}" }), "keys_unavailable"],
  ["certs answers 404", onCerts({ status: 404, body: "" }), "keys_unavailable"],
  ["certs answers 503", onCerts({ status: 503, body: "" }), "keys_unavailable"],
  ["certs is invalid JSON", onCerts({ body: '{"keys": [' }), "keys_unavailable"],
  ["certs is an HTML page", onCerts({ body: "<html>maintenance</html>" }), "keys_unavailable"],
  ["certs has no keys member", onCerts({ body: "{}" }), "keys_unavailable"],
  ["certs keys is not an array", onCerts({ body: '{"keys": {"kid": "x"}}' }), "keys_unavailable"],
  ["certs keys is empty", onCerts({ body: '{"keys": []}' }), "unknown_kid"],
  ["certs is a 10 MiB body", onCerts({ body: Buffer.alloc(10 * 1024 * 1024, 0x20) }), "keys_unavailable"],
  ["certs never answers", onCerts({ hang: true }), "keys_unavailable"],
  ["certs redirects to another host", onCerts({ status: 302, headers: { location: "https://evil.example/certs" } }), "keys_unavailable"],
  ["certs has only an enc key", onCerts({ body: JSON.stringify({ keys: [{ ...key.jwk, use: "enc", alg: "RSA-OAEP" }] }) }), "key_not_usable"],
  [
    "certs has an oct key under the signing kid",
    onCerts({ body: JSON.stringify({ keys: [{ kty: "oct", kid: key.kid, k: "c2VjcmV0", alg: "HS256" }] }) }),
    "key_not_usable",
  ],
  ["certs key says use enc with alg RS256", onCerts({ body: JSON.stringify({ keys: [{ ...key.jwk, use: "enc" }] }) }), "key_not_usable"],
  [
    "certs key is bound to RS512 but the token says RS256",
    onCerts({ body: JSON.stringify({ keys: [{ ...key.jwk, alg: "RS512" }] }) }),
    "key_algorithm_mismatch",
  ],
  ["certs key has a numeric kty (dropped as malformed)", onCerts({ body: JSON.stringify({ keys: [{ ...key.jwk, kty: 1 }] }) }), "unknown_kid"],
])("%s", (_name, fault, expected) => {
  test(`ends in ${expected}, promptly, with one attempt per endpoint`, async () => {
    const idp = await realm([key.jwk]);
    let served = 0;
    idp.override((request, response) => {
      const answer = fault(request.url ?? "");
      if (answer === undefined) return false;
      served += 1;
      if (answer.hang) return true;
      response.writeHead(answer.status ?? 200, { "content-type": "application/json", ...answer.headers }).end(answer.body);
      return true;
    });
    const verifier = verifierFor(idp);
    const first = await outcome(verifier, accessToken(key, idp.issuer));
    expect(first.code).toBe(expected);
    expect(first.ms).toBeLessThan(TIMEOUT_MS * 3);
    // A second caller does not reach the broken endpoint again (inside the failure backoff), or
    // at most once more for an unknown kid (the one refetch its cooldown allows).
    const second = await outcome(verifier, accessToken(key, idp.issuer));
    expect(second.code).toBe(expected);
    expect(served).toBe(expected === "unknown_kid" ? 2 : 1);
    const third = await outcome(verifier, accessToken(key, idp.issuer));
    expect(third.code).toBe(expected);
    expect(served).toBe(expected === "unknown_kid" ? 2 : 1);
  });
});

test("a redirect is never followed to the other host", async () => {
  let contacted = 0;
  const other: Server = createServer((_request, response) => {
    contacted += 1;
    response.end("{}");
  });
  await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
  cleanups.push(() => new Promise((resolve) => other.close(() => resolve())));
  const idp = await realm([key.jwk]);
  idp.override((request, response) => {
    if (!request.url?.endsWith("/certs")) return false;
    response.writeHead(301, { location: `http://127.0.0.1:${(other.address() as AddressInfo).port}/certs` }).end();
    return true;
  });
  expect((await outcome(verifierFor(idp), accessToken(key, idp.issuer))).code).toBe("keys_unavailable");
  expect(contacted).toBe(0);
});

test("connection refused ends promptly in keys_unavailable", async () => {
  const idp = await realm([key.jwk]);
  const issuer = idp.issuer;
  await idp.close();
  cleanups.splice(0);
  const verifier = createAccessTokenVerifier(testConfig(issuer, { KEYCLOAK_FETCH_TIMEOUT_MS: String(TIMEOUT_MS) }));
  const result = await outcome(verifier, accessToken(key, issuer));
  expect(result.code).toBe("keys_unavailable");
  expect(result.ms).toBeLessThan(TIMEOUT_MS * 3);
});

test("503 then 200: after the backoff the next request succeeds", async () => {
  const idp = await realm([key.jwk]);
  let failures = 1;
  idp.override((request, response) => {
    if (!request.url?.endsWith("/certs") || failures === 0) return false;
    failures -= 1;
    response.writeHead(503).end();
    return true;
  });
  const clock = { now: 1_000_000 };
  const verifier = verifierFor(idp, clock, 2000);
  expect((await outcome(verifier, accessToken(key, idp.issuer))).code).toBe("keys_unavailable");
  clock.now += 1000;
  expect((await outcome(verifier, accessToken(key, idp.issuer))).code).toBe("keys_unavailable");
  clock.now += 1000;
  expect((await outcome(verifier, accessToken(key, idp.issuer))).code).toBe("accepted");
  expect(idp.counts.jwks).toBe(1);
});

describe("rotation", () => {
  test("forward, back and forward again: each switch costs one refetch", async () => {
    const a = generateRsaKey();
    const b = generateRsaKey();
    const idp = await realm([a.jwk]);
    const clock = { now: 1_000_000 };
    const verifier = verifierFor(idp, clock);
    expect((await outcome(verifier, accessToken(a, idp.issuer))).code).toBe("accepted");
    idp.setKeys([b.jwk]); // Keycloak rotated to b and dropped a at once
    expect((await outcome(verifier, accessToken(b, idp.issuer))).code).toBe("accepted");
    expect((await outcome(verifier, accessToken(a, idp.issuer))).code).toBe("unknown_kid"); // a is gone
    clock.now += 30_000;
    idp.setKeys([a.jwk]); // rolled back
    expect((await outcome(verifier, accessToken(a, idp.issuer))).code).toBe("accepted");
    expect(idp.counts.jwks).toBe(3);
  });

  test("a flood of random kids costs at most one refetch per cooldown", async () => {
    const idp = await realm([key.jwk]);
    const clock = { now: 1_000_000 };
    // A generous fetch timeout: 2000 verifications in one tick can hold the event loop past a short
    // one on a loaded machine, and this test counts refetches, not timeouts.
    const verifier = verifierFor(idp, clock, 5000, 10_000);
    await verifier.verify(accessToken(key, idp.issuer));
    // Signed up front: signing in the loop would block the event loop past the fetch timeout.
    const forged = Array.from({ length: 2000 }, (_, i) => accessToken({ ...key, kid: `flood-${i}` }, idp.issuer));
    const started = performance.now();
    const results = await Promise.all(forged.map((token) => outcome(verifier, token)));
    expect(new Set(results.map((result) => result.code))).toEqual(new Set(["unknown_kid"]));
    expect(idp.counts.jwks).toBe(2);
    expect(performance.now() - started).toBeLessThan(20_000);
  });
});
