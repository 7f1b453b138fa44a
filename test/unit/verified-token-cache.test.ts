import { afterAll, afterEach, beforeAll, describe, expect, jest, test } from "@jest/globals";
import { loadAuthorizerConfig } from "../../lib/config/authorizer-config.js";
import { ConfigError, KeysUnavailableError } from "../../lib/errors.js";
import { createFetchJson } from "../../lib/keys/fetch-json.js";
import { JwksCache } from "../../lib/keys/jwks-cache.js";
import { VerifiedTokenCache } from "../../lib/token/verified-token-cache.js";
import { createAccessTokenVerifier } from "../../lib/token/access-token-verifier.js";
import { testConfig } from "../helpers/config.js";
import { payloadOf, rejectionCode } from "../helpers/verification.js";
import { startIdpStub, type IdpStub } from "../helpers/idp-stub.js";
import { accessToken, generateRsaKey, type TestKey } from "../helpers/tokens.js";

/** Fake Date only: the stub server and the verifier's fetches still need real timers and I/O. */
function freezeClock(ms: number): void {
  jest.useFakeTimers({ now: ms, doNotFake: ["setTimeout", "setImmediate", "nextTick", "queueMicrotask", "setInterval"] });
}
afterEach(() => {
  jest.useRealTimers();
});

/** Same header and payload, a different (so invalid) signature: what a forger can produce. */
function tamperSignature(token: string): string {
  const [header, payload, signature] = token.split(".") as [string, string, string];
  const bytes = Buffer.from(signature, "base64url");
  bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 0x01;
  return `${header}.${payload}.${bytes.toString("base64url")}`;
}

describe("VerifiedTokenCache on its own", () => {
  const T0 = Date.UTC(2030, 0, 1);
  const seconds = (ms: number): number => Math.floor(ms / 1000);
  const times = { exp: seconds(T0) + 300, iat: seconds(T0) };

  test("a stored acceptance is served for exactly the same token, while in its time window", () => {
    freezeClock(T0);
    const cache = new VerifiedTokenCache<string>({ maxEntries: 10, clockSkewSeconds: 30 });
    cache.set("a.b.c", "claims", times);
    expect(cache.get("a.b.c")).toBe("claims");
    expect(cache.get("a.b.d")).toBeUndefined();
    expect(cache.get("a.b.c ")).toBeUndefined();
  });

  test("a token sharing every character but the last never hits", () => {
    freezeClock(T0);
    const cache = new VerifiedTokenCache<string>({ maxEntries: 10, clockSkewSeconds: 0 });
    const token = `${"x".repeat(600)}.${"y".repeat(900)}.${"z".repeat(342)}`;
    cache.set(token, "claims", times);
    for (const forged of [`${token.slice(0, -1)}A`, token.slice(0, -1), `${token}z`, token.slice(0, 1200)]) {
      expect(cache.get(forged)).toBeUndefined();
    }
    expect(cache.get(token)).toBe("claims");
  });

  test("an entry is served until exp plus the skew, and not one millisecond later", () => {
    freezeClock(T0);
    const cache = new VerifiedTokenCache<string>({ maxEntries: 10, clockSkewSeconds: 30 });
    cache.set("t", "claims", times);
    jest.setSystemTime((times.exp + 30) * 1000);
    expect(cache.get("t")).toBe("claims");
    jest.setSystemTime((times.exp + 30) * 1000 + 1);
    expect(cache.get("t")).toBeUndefined();
    // Gone for good: turning the clock back does not resurrect it.
    jest.setSystemTime(T0);
    expect(cache.get("t")).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  test("without skew the entry ends at exp itself", () => {
    freezeClock(T0);
    const cache = new VerifiedTokenCache<string>({ maxEntries: 10, clockSkewSeconds: 0 });
    cache.set("t", "claims", times);
    jest.setSystemTime(times.exp * 1000 + 1);
    expect(cache.get("t")).toBeUndefined();
  });

  test("an entry is not served before nbf or iat minus the skew (a clock stepped back)", () => {
    freezeClock(T0);
    const cache = new VerifiedTokenCache<string>({ maxEntries: 10, clockSkewSeconds: 30 });
    cache.set("t", "claims", { ...times, nbf: seconds(T0) + 10 });
    expect(cache.get("t")).toBe("claims");
    jest.setSystemTime(T0 - 60_000);
    expect(cache.get("t")).toBeUndefined();
  });

  test("tokens already outside their window, or without exp, are not stored", () => {
    freezeClock(T0);
    const cache = new VerifiedTokenCache<string>({ maxEntries: 10, clockSkewSeconds: 0 });
    cache.set("expired", "claims", { exp: seconds(T0) - 1 });
    cache.set("no-exp", "claims", { iat: seconds(T0) });
    expect(cache.size).toBe(0);
  });

  test("holds at most maxEntries, dropping one not used since it was last passed over", () => {
    freezeClock(T0);
    const cache = new VerifiedTokenCache<string>({ maxEntries: 3, clockSkewSeconds: 0 });
    for (const token of ["t1", "t2", "t3"]) cache.set(token, token, times);
    expect(cache.get("t1")).toBe("t1"); // t1 is now used: t2 is the oldest unused
    cache.set("t4", "t4", times);
    expect(cache.size).toBe(3);
    expect(cache.get("t2")).toBeUndefined();
    expect([cache.get("t1"), cache.get("t3"), cache.get("t4")]).toEqual(["t1", "t3", "t4"]);
    for (let i = 0; i < 100; i += 1) cache.set(`bulk-${i}`, "x", times);
    expect(cache.size).toBe(3);
  });

  test("clear() (a new key set) drops every entry", () => {
    freezeClock(T0);
    const cache = new VerifiedTokenCache<string>({ maxEntries: 10, clockSkewSeconds: 0 });
    cache.set("t1", "t1", times);
    cache.set("t2", "t2", times);
    expect(cache.get("t1")).toBe("t1");
    cache.clear();
    expect(cache.get("t1")).toBeUndefined();
    expect(cache.size).toBe(0);
    expect(cache.get("t2")).toBeUndefined();
  });

  test("maxEntries 0 stores nothing", () => {
    freezeClock(T0);
    const cache = new VerifiedTokenCache<string>({ maxEntries: 0, clockSkewSeconds: 0 });
    cache.set("t", "t", times);
    expect(cache.get("t")).toBeUndefined();
    expect(() => new VerifiedTokenCache({ maxEntries: -1, clockSkewSeconds: 0 })).toThrow(RangeError);
  });
});

describe("KEYCLOAK_TOKEN_CACHE_SIZE", () => {
  const base = { KEYCLOAK_ISSUER: "http://localhost:8080/realms/demo", KEYCLOAK_AUDIENCE: "secured-api" };
  test("defaults to 1000, accepts 0, refuses junk", () => {
    expect(loadAuthorizerConfig(base).tokenCacheSize).toBe(1000);
    expect(loadAuthorizerConfig({ ...base, KEYCLOAK_TOKEN_CACHE_SIZE: "0" }).tokenCacheSize).toBe(0);
    expect(() => loadAuthorizerConfig({ ...base, KEYCLOAK_TOKEN_CACHE_SIZE: "-1" })).toThrow(ConfigError);
    expect(() => loadAuthorizerConfig({ ...base, KEYCLOAK_TOKEN_CACHE_SIZE: "lots" })).toThrow(/KEYCLOAK_TOKEN_CACHE_SIZE/);
  });
});

describe("the verifier with its token cache", () => {
  let idp: IdpStub;
  let key: TestKey;
  beforeAll(async () => {
    key = generateRsaKey();
    idp = await startIdpStub([key.jwk]);
  });
  afterAll(() => idp.close());

  test("a repeated token is answered from the cache (the very same result object)", async () => {
    const verifier = createAccessTokenVerifier(testConfig(idp.issuer));
    const token = accessToken(key, idp.issuer);
    const first = await verifier.verify(token); // cold: keys fetched, not cached
    const second = await verifier.verify(token); // warm, synchronous path: cached
    const third = await verifier.verify(token);
    expect(second).toEqual(first);
    expect(third).toBe(second);
  });

  test("KEYCLOAK_TOKEN_CACHE_SIZE=0 verifies every time", async () => {
    const verifier = createAccessTokenVerifier(testConfig(idp.issuer, { KEYCLOAK_TOKEN_CACHE_SIZE: "0" }));
    const token = accessToken(key, idp.issuer);
    await verifier.verify(token);
    const second = await verifier.verify(token);
    expect(await verifier.verify(token)).not.toBe(second);
  });

  test("a rejection is never cached, and a forged signature never hits the genuine token's entry", async () => {
    const verifier = createAccessTokenVerifier(testConfig(idp.issuer));
    const token = accessToken(key, idp.issuer);
    const forged = tamperSignature(token);
    await verifier.prefetch();
    expect(await rejectionCode(verifier, forged)).toBe("invalid_signature");
    await verifier.verify(token);
    await verifier.verify(token);
    expect(await rejectionCode(verifier, forged)).toBe("invalid_signature");
    // A longer signature segment is not canonical base64url of any signature: refused as such.
    expect(await rejectionCode(verifier, `${token}x`)).toBe("non_canonical_token");
    // Refused for its claims (wrong audience), asked twice: refused twice.
    const wrongAudience = accessToken(key, idp.issuer, { claims: { aud: "someone-else" } });
    expect(await rejectionCode(verifier, wrongAudience)).toBe("invalid_audience");
    expect(await rejectionCode(verifier, wrongAudience)).toBe("invalid_audience");
  });

  test("a cached token still expires at exp plus the skew", async () => {
    const verifier = createAccessTokenVerifier(testConfig(idp.issuer));
    await verifier.prefetch();
    const token = accessToken(key, idp.issuer);
    const { exp } = payloadOf<{ exp: number; iat: number; nbf?: number }>(token);
    freezeClock((exp + 29) * 1000);
    const cached = await verifier.verify(token);
    expect(await verifier.verify(token)).toBe(cached);
    jest.setSystemTime((exp + 31) * 1000);
    expect(await rejectionCode(verifier, token)).toBe("token_expired");
  });

  test("a key rotation empties the cache: a token of the withdrawn key is refused, not served", async () => {
    const old = generateRsaKey();
    const stub = await startIdpStub([old.jwk]);
    try {
      const verifier = createAccessTokenVerifier(testConfig(stub.issuer, { KEYCLOAK_JWKS_COOLDOWN_SECONDS: "0" }));
      await verifier.prefetch();
      const oldToken = accessToken(old, stub.issuer);
      const cached = await verifier.verify(oldToken);
      expect(await verifier.verify(oldToken)).toBe(cached);
      // The realm rotates: the old key is withdrawn, a token of the new key makes us refetch.
      const next = generateRsaKey();
      stub.setKeys([next.jwk]);
      await verifier.verify(accessToken(next, stub.issuer));
      expect(stub.counts.jwks).toBe(2);
      expect(await rejectionCode(verifier, oldToken)).toBe("unknown_kid");
    } finally {
      await stub.close();
    }
  });

  test("entries end with the key set's lifetime: past it, the keys are refetched before any acceptance", async () => {
    const stub = await startIdpStub([key.jwk]);
    let now = Date.now();
    try {
      const jwksCache = new JwksCache({
        issuer: stub.issuer,
        fetchJson: createFetchJson({ timeoutMs: 1000, allowHttp: false }),
        maxAgeMs: 60_000,
        cooldownMs: 0,
        now: () => now,
      });
      const verifier = createAccessTokenVerifier(testConfig(stub.issuer), { jwksCache });
      await verifier.prefetch();
      const token = accessToken(key, stub.issuer);
      const cached = await verifier.verify(token);
      expect(await verifier.verify(token)).toBe(cached);
      // The keys are now too old and the realm cannot be reached: no stale acceptance from the cache.
      now += 60_000;
      stub.override((_request, response) => {
        response.writeHead(503).end();
        return true;
      });
      const error = await verifier.verify(token).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(KeysUnavailableError);
    } finally {
      await stub.close();
    }
  });
});
