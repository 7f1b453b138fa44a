/**
 * The parts of DPoP verification on their own: the `htu` normalisation (RFC 3986 6.2.2, 6.2.3),
 * the replay cache's bounds and expiry, and the request facts read from API Gateway events.
 */
import { describe, expect, test } from "@jest/globals";
import { credentials, dpopHeader } from "../../lib/apigateway/authorization-header.js";
import { declaredRouteOf, dpopProofOf, requestTargetOf } from "../../lib/apigateway/events.js";
import { normalizedRequestUrl } from "../../lib/dpop/request-url.js";
import { MemoryReplayCache } from "../../lib/dpop/replay-cache.js";
import { DpopReplayStoreUnavailableError, TokenRejectedError } from "../../lib/errors.js";
import { authorizerEvent, requestEvent } from "../helpers/events.js";

describe("htu normalisation", () => {
  test.each([
    ["https://api.example.com/secured", "https://api.example.com/secured"],
    ["HTTPS://API.EXAMPLE.COM/secured", "https://api.example.com/secured"],
    ["https://api.example.com:443/secured", "https://api.example.com/secured"],
    ["http://localhost:80/dev/secured", "http://localhost/dev/secured"],
    ["http://localhost:3000/dev/secured", "http://localhost:3000/dev/secured"],
    ["https://api.example.com/secured?x=1&y=2#frag", "https://api.example.com/secured"],
    ["https://api.example.com", "https://api.example.com/"],
    ["https://api.example.com/a/./b/../secured", "https://api.example.com/a/secured"],
    ["https://api.example.com/a/%2e%2E/secured", "https://api.example.com/secured"],
    ["https://api.example.com/%7Euser/%73ecured", "https://api.example.com/~user/secured"],
    ["https://api.example.com/a%2fb", "https://api.example.com/a%2Fb"],
    ["https://api.example.com/a%20b", "https://api.example.com/a%20b"],
    ["https://api.example.com/a b", "https://api.example.com/a%20b"],
    ["https://bücher.example/secured", "https://xn--bcher-kva.example/secured"],
    // A path segment's own characters, escaped by the client or decoded by the gateway: one spelling.
    ["https://api.example.com/reports/a%3Ab%40c", "https://api.example.com/reports/a:b@c"],
    ["https://api.example.com/reports/a%21%24%26%27%28%29%2A%2B%2C%3B%3Db", "https://api.example.com/reports/a!$&'()*+,;=b"],
    ["https://api.example.com/reports/a:b@c", "https://api.example.com/reports/a:b@c"],
    // Never a new segment, query, fragment or escape.
    ["https://api.example.com/a%3fb%23c%25d%5Be%5d", "https://api.example.com/a%3Fb%23c%25d%5Be%5D"],
  ])("%s -> %s", (value, normalised) => {
    expect(normalizedRequestUrl(value)).toBe(normalised);
  });

  test.each([
    ["a relative URL", "/secured"],
    ["another scheme", "ftp://api.example.com/secured"],
    ["user info", "https://user:pass@api.example.com/secured"],
    ["a user name alone", "https://evil@api.example.com/secured"],
    ["not a URL", "https://"],
    ["javascript", "javascript:alert(1)"],
    ["an overlong URL", `https://api.example.com/${"a".repeat(5000)}`],
  ])("%s is no request URL", (_name, value) => {
    expect(normalizedRequestUrl(value)).toBeUndefined();
  });

  test("different URLs never normalise alike: path case, an encoded slash, a trailing slash, a port", () => {
    const base = normalizedRequestUrl("https://api.example.com/reports/a");
    for (const other of [
      "https://api.example.com/Reports/a",
      "https://api.example.com/reports%2Fa",
      "https://api.example.com/reports%3Fa",
      "https://api.example.com/reports%23a",
      "https://api.example.com/reports/a/",
      "https://api.example.com:8443/reports/a",
    ]) {
      expect(normalizedRequestUrl(other)).not.toBe(base);
    }
  });
});

describe("the replay cache", () => {
  test("an id is fresh once; replays are seen until its expiry, inclusive; then it is forgotten", () => {
    let now = 1_000_000;
    const cache = new MemoryReplayCache({ maxEntries: 10, now: () => now });
    expect(cache.claim("a", 1_000 + 60)).toBe(true);
    expect(cache.claim("a", 1_000 + 60)).toBe(false);
    now = 1_060_000;
    expect(cache.claim("a", 1_000 + 60)).toBe(false);
    now = 1_060_001;
    expect(cache.claim("b", 1_100)).toBe(true);
    expect(cache.size).toBe(1);
    expect(cache.claim("a", 1_100)).toBe(true);
  });

  test("bounded: when every remembered id is still live, a new proof fails closed instead of evicting one", () => {
    let now = 1_000_000;
    const cache = new MemoryReplayCache({ maxEntries: 3, now: () => now });
    for (const id of ["a", "b", "c"]) expect(cache.claim(id, 1_100)).toBe(true);
    expect(() => cache.claim("d", 1_100)).toThrow(DpopReplayStoreUnavailableError);
    // The old ones are still refused: nothing was dropped to make room.
    expect(cache.claim("a", 1_100)).toBe(false);
    now = 1_100_001;
    expect(cache.claim("d", 1_200)).toBe(true);
    expect(cache.size).toBe(1);
  });

  test("ids added out of expiry order are kept at least until their own expiry", () => {
    let now = 1_000_000;
    const cache = new MemoryReplayCache({ maxEntries: 10, now: () => now });
    expect(cache.claim("late", 1_200)).toBe(true);
    expect(cache.claim("early", 1_050)).toBe(true);
    now = 1_100_000;
    expect(cache.claim("early", 1_050)).toBe(false);
    expect(cache.claim("late", 1_200)).toBe(false);
  });

  test("a flood costs constant work per claim: 200,000 claims over a moving window stay within the bound", () => {
    let now = 1_000_000;
    const cache = new MemoryReplayCache({ maxEntries: 5000, now: () => now });
    // Counted, then asserted once: 200,000 calls to expect() would cost more than the claims.
    let refused = 0;
    let largest = 0;
    for (let i = 0; i < 200_000; i++) {
      now += 1; // 1,000 claims a second, each remembered for 4 s
      if (!cache.claim(`id-${i}`, now / 1000 + 4)) refused++;
      largest = Math.max(largest, cache.size);
    }
    expect(refused).toBe(0);
    expect(largest).toBeLessThanOrEqual(4001);
  });
});

describe("request facts from API Gateway events", () => {
  test("credentials: Bearer and DPoP, in any case; nothing else", () => {
    expect(credentials("Bearer abc")).toEqual({ scheme: "Bearer", token: "abc" });
    expect(credentials("dpop   abc")).toEqual({ scheme: "DPoP", token: "abc" });
    expect(credentials("DPOP abc")).toEqual({ scheme: "DPoP", token: "abc" });
    for (const value of ["DPoPabc", "DPoP", "DPoP ", "DPoP a b", "DPoP\tabc", "DPoP-abc", "Basic abc", "MAC abc"]) {
      expect(() => credentials(value)).toThrow(TokenRejectedError);
    }
  });

  test("the DPoP header: any case, one only; a comma-joined value is two", () => {
    expect(dpopHeader({ DPoP: "a.b.c" })).toBe("a.b.c");
    expect(dpopHeader({ dpop: "a.b.c" })).toBe("a.b.c");
    expect(dpopHeader({})).toBeUndefined();
    expect(() => dpopHeader({ DPoP: "a.b.c", dpop: "d.e.f" })).toThrow(expect.objectContaining({ code: "dpop_proof_duplicated" }));
    expect(() => dpopHeader({ DPoP: "a.b.c,d.e.f" })).toThrow(expect.objectContaining({ code: "dpop_proof_duplicated" }));
    expect(() => dpopHeader({ DPoP: "a.b.c" }, { DPoP: ["a.b.c", "d.e.f"] })).toThrow(expect.objectContaining({ code: "dpop_proof_duplicated" }));
    expect(dpopProofOf(authorizerEvent("rest-token", "DPoP x"), "rest-token")).toBeUndefined();
  });

  test("REST: the stage-prefixed path, the custom domain and its base path; HTTP API: rawPath as called", () => {
    expect(requestTargetOf(requestEvent("rest-request", { method: "POST", path: "/reports" }), "rest-request", false)).toEqual({
      method: "POST",
      url: "https://abcdef1234.execute-api.eu-west-1.amazonaws.com/dev/reports",
    });
    expect(requestTargetOf(requestEvent("rest-request", { host: "api.example.com", basePath: "/v1" }), "rest-request", false)?.url).toBe(
      "https://api.example.com/v1/secured",
    );
    expect(requestTargetOf(requestEvent("http-v2", {}), "http-v2", false)?.url).toBe("https://abcdef1234.execute-api.eu-west-1.amazonaws.com/secured");
    expect(requestTargetOf(requestEvent("http-v2", { basePath: "/prod" }), "http-v2", false)?.url).toBe(
      "https://abcdef1234.execute-api.eu-west-1.amazonaws.com/prod/secured",
    );
    expect(requestTargetOf(authorizerEvent("rest-token", "DPoP x"), "rest-token", false)).toBeUndefined();
    expect(declaredRouteOf(requestEvent("http-v2", { method: "GET", route: "/reports/{id}", path: "/reports/1" }), "http-v2")).toEqual({
      method: "GET",
      path: "/reports/{id}",
    });
    expect(declaredRouteOf(requestEvent("rest-request", { method: "GET", route: "/reports/{id}", path: "/reports/1" }), "rest-request")).toEqual({
      method: "GET",
      path: "/reports/{id}",
    });
  });

  test("an event without a method or path names no request a proof could be bound to", () => {
    const event = requestEvent("http-v2", {}) as unknown as { rawPath?: string };
    delete event.rawPath;
    expect(requestTargetOf(event as never, "http-v2", false)).toBeUndefined();
  });
});
