import { afterEach, describe, expect, test } from "@jest/globals";
import { createAccessTokenVerifier } from "../../lib/token/access-token-verifier.js";
import { JwksCache } from "../../lib/keys/jwks-cache.js";
import { createFetchJson } from "../../lib/keys/fetch-json.js";
import { KeysUnavailableError, UnknownKidError } from "../../lib/errors.js";
import { startIdpStub, type IdpStub } from "../helpers/idp-stub.js";
import { testConfig } from "../helpers/config.js";
import { accessToken, generateRsaKey } from "../helpers/tokens.js";

const stubs: IdpStub[] = [];
afterEach(async () => {
  await Promise.all(stubs.splice(0).map((stub) => stub.close()));
});
async function stub(keys: Record<string, string>[]): Promise<IdpStub> {
  const started = await startIdpStub(keys);
  stubs.push(started);
  return started;
}

/** A cache on a hand-driven clock, so time-based policy is tested without waiting. */
function cacheFor(idp: IdpStub, clock: { now: number }, extra: Partial<ConstructorParameters<typeof JwksCache>[0]> = {}) {
  return new JwksCache({
    issuer: idp.issuer,
    fetchJson: createFetchJson({ timeoutMs: 1000, allowHttp: false }),
    maxAgeMs: 600_000,
    cooldownMs: 30_000,
    now: () => clock.now,
    ...extra,
  });
}

describe("fetching keys", () => {
  test("50 concurrent cold verifications cause one discovery and one JWKS fetch", async () => {
    const key = generateRsaKey();
    const idp = await stub([key.jwk]);
    idp.setDelay(50); // hold every caller in flight together
    const verifier = createAccessTokenVerifier(testConfig(idp.issuer));
    const tokens = Array.from({ length: 50 }, () => accessToken(key, idp.issuer));
    const results = await Promise.all(tokens.map((token) => verifier.verify(token)));
    expect(results).toHaveLength(50);
    expect(results.every((result) => result.kid === key.kid)).toBe(true);
    expect(idp.counts).toEqual({ discovery: 1, jwks: 1 });
  });

  test("warm verifications never refetch", async () => {
    const key = generateRsaKey();
    const idp = await stub([key.jwk]);
    const verifier = createAccessTokenVerifier(testConfig(idp.issuer));
    for (let i = 0; i < 20; i += 1) await verifier.verify(accessToken(key, idp.issuer));
    expect(idp.counts).toEqual({ discovery: 1, jwks: 1 });
  });

  test("KEYCLOAK_JWKS_URI skips discovery", async () => {
    const key = generateRsaKey();
    const idp = await stub([key.jwk]);
    const verifier = createAccessTokenVerifier(testConfig(idp.issuer, { KEYCLOAK_JWKS_URI: idp.jwksUri }));
    await verifier.verify(accessToken(key, idp.issuer));
    expect(idp.counts).toEqual({ discovery: 0, jwks: 1 });
  });
});

describe("rotation and unknown kids", () => {
  test("a token signed by a newly published key is accepted after one refetch", async () => {
    const oldKey = generateRsaKey();
    const newKey = generateRsaKey();
    const idp = await stub([oldKey.jwk]);
    const verifier = createAccessTokenVerifier(testConfig(idp.issuer));
    await verifier.verify(accessToken(oldKey, idp.issuer));
    idp.setKeys([oldKey.jwk, newKey.jwk]);
    await expect(verifier.verify(accessToken(newKey, idp.issuer))).resolves.toMatchObject({ kid: newKey.kid });
    expect(idp.counts.jwks).toBe(2);
    expect(idp.counts.discovery).toBe(1);
  });

  test("unknown kids cause at most one refetch per cooldown, then one more after it", async () => {
    const key = generateRsaKey();
    const idp = await stub([key.jwk]);
    const clock = { now: 1_000_000 };
    const cache = cacheFor(idp, clock);
    const verifier = createAccessTokenVerifier(testConfig(idp.issuer), { jwksCache: cache });
    await verifier.verify(accessToken(key, idp.issuer));
    const attacker = generateRsaKey();
    for (let i = 0; i < 25; i += 1) {
      const forged = accessToken({ ...attacker, kid: `random-${i}` }, idp.issuer);
      await expect(verifier.verify(forged)).rejects.toBeInstanceOf(UnknownKidError);
    }
    expect(idp.counts.jwks).toBe(2);
    clock.now += 30_000;
    await expect(verifier.verify(accessToken({ ...key, kid: "after-cooldown" }, idp.issuer))).rejects.toBeInstanceOf(UnknownKidError);
    expect(idp.counts.jwks).toBe(3);
  });

  test("keys past their max age are refreshed, and removed keys stop verifying", async () => {
    const oldKey = generateRsaKey();
    const newKey = generateRsaKey();
    const idp = await stub([oldKey.jwk]);
    const clock = { now: 1_000_000 };
    const verifier = createAccessTokenVerifier(testConfig(idp.issuer), { jwksCache: cacheFor(idp, clock) });
    await verifier.verify(accessToken(oldKey, idp.issuer));
    idp.setKeys([newKey.jwk]);
    await expect(verifier.verify(accessToken(oldKey, idp.issuer))).resolves.toBeDefined();
    clock.now += 600_000;
    await expect(verifier.verify(accessToken(oldKey, idp.issuer))).rejects.toBeInstanceOf(UnknownKidError);
    expect(idp.counts.jwks).toBe(2);
  });
});

describe("enc keys", () => {
  test("a Keycloak certs document with an RSA-OAEP enc key still serves its signing key", async () => {
    const sig = generateRsaKey();
    const enc = generateRsaKey({ use: "enc" });
    const idp = await stub([enc.jwk, sig.jwk]);
    const verifier = createAccessTokenVerifier(testConfig(idp.issuer));
    await expect(verifier.verify(accessToken(sig, idp.issuer))).resolves.toMatchObject({ kid: sig.kid });
    await expect(verifier.verify(accessToken(enc, idp.issuer))).rejects.toMatchObject({ code: "key_not_usable" });
  });
});

test("every fetch is reported with its kind and outcome (for metrics)", async () => {
  const key = generateRsaKey();
  const idp = await stub([key.jwk]);
  const fetches: string[] = [];
  const verifier = createAccessTokenVerifier(testConfig(idp.issuer), { onKeyFetch: ({ kind, ok }) => fetches.push(`${kind}:${ok}`) });
  await verifier.verify(accessToken(key, idp.issuer));
  idp.override((request, response) => {
    response.writeHead(500).end();
    return request.url !== undefined;
  });
  await expect(verifier.verify(accessToken({ ...key, kid: "rotated" }, idp.issuer))).rejects.toBeInstanceOf(KeysUnavailableError);
  expect(fetches).toEqual(["discovery:true", "jwks:true", "jwks:false"]);
});

describe("failures", () => {
  test("a failed fetch is not retried on every request (backoff)", async () => {
    const key = generateRsaKey();
    const idp = await stub([key.jwk]);
    let served = 0;
    idp.override((request, response) => {
      served += 1;
      response.writeHead(503).end();
      return request.url !== undefined;
    });
    const clock = { now: 1_000_000 };
    const verifier = createAccessTokenVerifier(testConfig(idp.issuer), { jwksCache: cacheFor(idp, clock, { failureBackoffMs: 5000 }) });
    for (let i = 0; i < 10; i += 1) {
      await expect(verifier.verify(accessToken(key, idp.issuer))).rejects.toBeInstanceOf(KeysUnavailableError);
    }
    expect(served).toBe(1);
    idp.override(undefined);
    clock.now += 5000;
    await expect(verifier.verify(accessToken(key, idp.issuer))).resolves.toBeDefined();
  });

  test("known keys stay usable for the stale period when a refresh fails, then fail closed", async () => {
    const key = generateRsaKey();
    const idp = await stub([key.jwk]);
    const clock = { now: 1_000_000 };
    const verifier = createAccessTokenVerifier(testConfig(idp.issuer), {
      jwksCache: cacheFor(idp, clock, { maxStaleMs: 60_000, failureBackoffMs: 0 }),
    });
    await verifier.verify(accessToken(key, idp.issuer));
    idp.override((_request, response) => {
      response.writeHead(500).end();
      return true;
    });
    clock.now += 600_000 + 30_000;
    await expect(verifier.verify(accessToken(key, idp.issuer))).resolves.toBeDefined();
    clock.now += 31_000;
    await expect(verifier.verify(accessToken(key, idp.issuer))).rejects.toBeInstanceOf(KeysUnavailableError);
  });
});
