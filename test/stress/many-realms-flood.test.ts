/**
 * Issue 17, under load: a flood of tokens naming 10,000 random realms of a `{realm}` pattern. The
 * registry's rules are unit-tested in test/unit/many-realms.test.ts; this shows them holding when
 * an attacker mints a new realm name per request (10,000 signed tokens take seconds to make).
 */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { createAccessTokenVerifier } from "../../lib/token/access-token-verifier.js";
import { testConfig } from "../helpers/config.js";
import { startRealmsStub, type RealmsStub } from "../helpers/realms-stub.js";
import { accessToken, generateRsaKey } from "../helpers/tokens.js";

let stub: RealmsStub;
beforeAll(async () => {
  stub = await startRealmsStub();
});
afterAll(() => stub.close());

describe("bounded: discoveries per second, absent realms", () => {
  test("a flood of tokens naming 10,000 random realms fetches at most the discovery rate, and holds bounded memory", async () => {
    const key = generateRsaKey();
    const verifier = createAccessTokenVerifier(testConfig(stub.pattern, { KEYCLOAK_REALM_DISCOVERIES_PER_SECOND: "10", KEYCLOAK_MAX_REALMS: "50" }));
    const tokens = Array.from({ length: 10_000 }, (_, i) => accessToken(key, stub.issuer(`random-${i}`)));
    const started = Date.now();
    const codes = new Map<string, number>();
    for (const token of tokens) {
      const error = await verifier.verify(token).then(
        () => undefined,
        (caught: { code?: string }) => caught,
      );
      const code = error?.code ?? "accepted";
      codes.set(code, (codes.get(code) ?? 0) + 1);
    }
    const seconds = (Date.now() - started) / 1000;
    const discoveries = stub.requests.filter((path) => path.endsWith("openid-configuration")).length;
    // A burst of 10, then 10 a second.
    expect(discoveries).toBeLessThanOrEqual(10 + Math.ceil(seconds * 10));
    expect(codes.get("accepted")).toBeUndefined();
    expect([...codes.keys()].sort()).toEqual(["realm_discovery_throttled", "unknown_realm"]);
    expect((codes.get("unknown_realm") ?? 0) + (codes.get("realm_discovery_throttled") ?? 0)).toBe(10_000);
    // Asked again, the realms already found absent cost no fetch.
    const before = stub.requests.length;
    for (const token of tokens.slice(0, 5)) await verifier.verify(token).catch(() => undefined);
    expect(stub.requests.length).toBe(before);
  });
});
