/**
 * Issue 17: one authorizer for many realms of one Keycloak (`KEYCLOAK_ISSUER` with a `{realm}`
 * pattern, or a list), with the issuer matched before anything is fetched, keys per realm, a
 * bounded number of realms held, a bounded rate of new-realm discoveries, and realms Keycloak does
 * not know remembered for a while.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "@jest/globals";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { loadAuthorizerConfig } from "../../lib/config/authorizer-config.js";
import { parseTrustedIssuers } from "../../lib/config/trusted-issuers.js";
import { ConfigError, RealmDiscoveryThrottledError } from "../../lib/errors.js";
import { checkRealmScopes } from "../../lib/authorizer/realm-scope-check.js";
import { allOf, isSatisfied, organization, realm, realmRole, type Requirement } from "../../lib/routes/requirements.js";
import { routeTable } from "../../lib/routes/route.js";
import { createAccessTokenVerifier } from "../../lib/token/access-token-verifier.js";
import { RealmVerifiers } from "../../lib/token/realm-verifiers.js";
import { testConfig } from "../helpers/config.js";
import { startRealmsStub, type RealmsStub } from "../helpers/realms-stub.js";
import { accessToken } from "../helpers/tokens.js";
import { rejectionCode } from "../helpers/verification.js";

let stub: RealmsStub;
beforeAll(async () => {
  stub = await startRealmsStub();
});
afterAll(() => stub.close());
afterEach(() => {
  stub.requests.length = 0;
});

describe("trusted issuers: matched before anything is fetched", () => {
  // A server that answers anything, to catch a fetch aimed anywhere by a hostile iss.
  let trap: Server;
  let trapped: string[];
  let trapOrigin: string;
  beforeAll(async () => {
    trapped = [];
    trap = createServer((request, response) => {
      trapped.push(`${request.headers.host ?? ""}${request.url ?? ""}`);
      response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => trap.listen(0, "127.0.0.1", resolve));
    trapOrigin = `http://127.0.0.1:${(trap.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => trap.close(() => resolve())));

  const hostile = (): Array<[string, string]> => [
    ["a parent-directory realm", `${stub.origin}/realms/..`],
    ["a realm and a path", `${stub.origin}/realms/acme/../../admin`],
    ["an encoded slash", `${stub.origin}/realms/acme%2F..%2Fadmin`],
    ["an @ (credentials or another host)", `${stub.origin}/realms/acme@${trapOrigin.slice(7)}`],
    ["another port", `${trapOrigin}/realms/acme`],
    ["another scheme", `${stub.origin.replace("http:", "https:")}/realms/acme`],
    ["unicode", `${stub.origin}/realms/acmé`],
    ["an upper-case scheme and host", `${stub.origin.toUpperCase()}/realms/acme`],
    ["a trailing slash", `${stub.origin}/realms/acme/`],
    ["a query string", `${stub.origin}/realms/acme?x=1`],
    ["a fragment", `${stub.origin}/realms/acme#x`],
    ["an over-long name", `${stub.origin}/realms/${"a".repeat(65)}`],
    ["an empty name", `${stub.origin}/realms/`],
    ["a name starting with a dot", `${stub.origin}/realms/.acme`],
    ["a backslash", `${stub.origin}/realms/acme\\x`],
    ["a space", `${stub.origin}/realms/ac me`],
    ["a pattern prefix without the realms path", `${stub.origin}/acme`],
  ];

  test("hostile issuers are refused as invalid_issuer, with no request to any server", async () => {
    const key = stub.create("acme");
    const verifier = createAccessTokenVerifier(testConfig(stub.pattern));
    for (const [label, iss] of hostile()) {
      expect([label, await rejectionCode(verifier, accessToken(key, iss))]).toEqual([label, "invalid_issuer"]);
    }
    expect(stub.requests).toEqual([]);
    expect(trapped).toEqual([]);
  });

  test("a realm of the pattern is matched exactly, and the fetch goes to its own paths only", async () => {
    const key = stub.create("acme");
    const verifier = createAccessTokenVerifier(testConfig(stub.pattern));
    await expect(verifier.verify(accessToken(key, stub.issuer("acme")))).resolves.toMatchObject({ realm: "acme", issuer: stub.issuer("acme") });
    expect(stub.requests).toEqual(["/realms/acme/.well-known/openid-configuration", "/realms/acme/protocol/openid-connect/certs"]);
  });

  test("the parser keeps names to letters, digits, _ - . (1 to 64), and patterns to a plain URL", () => {
    const issuers = parseTrustedIssuers(`${stub.pattern},https://kc.example.com/realms/demo`, [], []);
    expect(issuers.match(stub.issuer("tenant-1.eu_west"))).toEqual({ issuer: stub.issuer("tenant-1.eu_west"), name: "tenant-1.eu_west", fromPattern: true });
    expect(issuers.match("https://kc.example.com/realms/demo")).toEqual({ issuer: "https://kc.example.com/realms/demo", name: "demo", fromPattern: false });
    for (const [, iss] of hostile()) expect([iss, issuers.match(iss)]).toEqual([iss, undefined]);
    expect(issuers.match(42)).toBeUndefined();
    for (const bad of [
      "https://kc.example.com/realms/{realm}/x",
      "https://kc.example.com/{realm}/realms/{realm}",
      "https://kc.example.com/realms/{realm}?x",
      "https://KC.example.com/realms/{realm}",
      "https://user@kc.example.com/realms/{realm}",
      "ftp://kc.example.com/realms/{realm}",
      "https://kc.example.com/realms/x?y=1",
      "https://kc.example.com/realms/a,,https://kc.example.com/realms/b",
    ]) {
      expect(() => parseTrustedIssuers(bad, [], [])).toThrow(ConfigError);
    }
  });

  test("allow- and deny-lists narrow the realms of a pattern (and apply to exact issuers)", async () => {
    const acme = stub.create("acme");
    const beta = stub.create("beta");
    const onlyAcme = createAccessTokenVerifier(testConfig(stub.pattern, { KEYCLOAK_REALMS_ALLOW: "acme" }));
    await expect(onlyAcme.verify(accessToken(acme, stub.issuer("acme")))).resolves.toMatchObject({ realm: "acme" });
    expect(await rejectionCode(onlyAcme, accessToken(beta, stub.issuer("beta")))).toBe("invalid_issuer");
    const notBeta = createAccessTokenVerifier(testConfig(stub.pattern, { KEYCLOAK_REALMS_DENY: "beta,master" }));
    expect(await rejectionCode(notBeta, accessToken(beta, stub.issuer("beta")))).toBe("invalid_issuer");
    await expect(notBeta.verify(accessToken(acme, stub.issuer("acme")))).resolves.toMatchObject({ realm: "acme" });
    expect(() => testConfig(stub.issuer("beta"), { KEYCLOAK_REALMS_DENY: "beta" })).toThrow(ConfigError);
  });

  test("a single exact issuer works exactly as before", async () => {
    const key = stub.create("solo");
    const verifier = createAccessTokenVerifier(testConfig(stub.issuer("solo")));
    await expect(verifier.verify(accessToken(key, stub.issuer("solo")))).resolves.toMatchObject({ realm: "solo" });
    expect(await rejectionCode(verifier, accessToken(key, stub.issuer("other")))).toBe("invalid_issuer");
  });
});

describe("keys per realm", () => {
  test("each realm's tokens verify with its own keys only", async () => {
    const acme = stub.create("acme");
    const beta = stub.create("beta");
    const verifier = createAccessTokenVerifier(testConfig(stub.pattern));
    await expect(verifier.verify(accessToken(acme, stub.issuer("acme")))).resolves.toMatchObject({ realm: "acme" });
    await expect(verifier.verify(accessToken(beta, stub.issuer("beta")))).resolves.toMatchObject({ realm: "beta" });
    // acme's key, beta's issuer: beta's key set has no such kid.
    expect(await rejectionCode(verifier, accessToken(acme, stub.issuer("beta")))).toBe("unknown_kid");
  });

  test("a list of exact issuers and patterns, with per-realm audiences and clients", async () => {
    const acme = stub.create("acme");
    const demo = stub.create("demo");
    const verifier = createAccessTokenVerifier(
      testConfig(`${stub.issuer("demo")},${stub.pattern}`, {
        KEYCLOAK_REALM_RULES: JSON.stringify({ acme: { audience: "acme-api", allowedClients: ["acme-web"] } }),
      }),
    );
    const acmeToken = (claims: Record<string, unknown>): string =>
      accessToken(acme, stub.issuer("acme"), { claims: { aud: "acme-api", azp: "acme-web", ...claims } });
    await expect(verifier.verify(acmeToken({}))).resolves.toMatchObject({ realm: "acme" });
    expect(await rejectionCode(verifier, acmeToken({ aud: "secured-api" }))).toBe("invalid_audience");
    expect(await rejectionCode(verifier, acmeToken({ azp: "api-client" }))).toBe("client_not_allowed");
    // demo keeps the defaults.
    await expect(verifier.verify(accessToken(demo, stub.issuer("demo")))).resolves.toMatchObject({ realm: "demo" });
  });

  test("KEYCLOAK_REALM_RULES is validated at cold start", () => {
    for (const rules of ["not json", "[]", '{"acme":"x"}', '{"acme":{"aud":["x"]}}', '{"../x":{}}', '{"acme":{"audience":[]}}']) {
      expect(() => testConfig(stub.pattern, { KEYCLOAK_REALM_RULES: rules })).toThrow(ConfigError);
    }
    expect(() => loadAuthorizerConfig({ KEYCLOAK_ISSUER: stub.pattern, KEYCLOAK_AUDIENCE: "a", KEYCLOAK_JWKS_URI: `${stub.origin}/certs` })).toThrow(
      ConfigError,
    );
  });

  test("a realm deleted in Keycloak stops verifying at its next key refresh: 404 is unknown_realm, no stale keys", async () => {
    const gone = stub.create("gone");
    const verifier = createAccessTokenVerifier(testConfig(stub.pattern, { KEYCLOAK_JWKS_MAX_AGE_SECONDS: "1" }));
    const token = accessToken(gone, stub.issuer("gone"));
    await expect(verifier.verify(token)).resolves.toMatchObject({ realm: "gone" });
    stub.remove("gone");
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await rejectionCode(verifier, accessToken(gone, stub.issuer("gone")))).toBe("unknown_realm");
    // Remembered: refused again without asking Keycloak.
    const asked = stub.requests.length;
    expect(await rejectionCode(verifier, token)).toBe("unknown_realm");
    expect(stub.requests.length).toBe(asked);
  });
});

describe("bounded: realms held, discoveries per second, absent realms", () => {
  test("no more realms held than KEYCLOAK_MAX_REALMS; an evicted one is fetched again when used", async () => {
    const keys = ["r1", "r2", "r3", "r4", "r5"].map((name) => [name, stub.create(name)] as const);
    const verifier = createAccessTokenVerifier(testConfig(stub.pattern, { KEYCLOAK_MAX_REALMS: "3" }));
    for (const [name, key] of keys) await verifier.verify(accessToken(key, stub.issuer(name)));
    const fetchesOfR1 = (): number => stub.requests.filter((path) => path.startsWith("/realms/r1/")).length;
    expect(fetchesOfR1()).toBe(2);
    await verifier.verify(accessToken(keys[0]?.[1] as never, stub.issuer("r1")));
    expect(fetchesOfR1()).toBe(4);
  });

  test("tokens refused by their claims (expired, another audience) spend no discovery budget: a real new realm right after is served", async () => {
    const key = stub.create("fresh-tenant");
    const verifier = createAccessTokenVerifier(testConfig(stub.pattern, { KEYCLOAK_REALM_DISCOVERIES_PER_SECOND: "2" }));
    const past = Math.floor(Date.now() / 1000) - 3600;
    for (let i = 0; i < 10; i += 1) {
      const expired = accessToken(key, stub.issuer(`invented-${i}`), { claims: { iat: past, exp: past + 300 } });
      expect(await rejectionCode(verifier, expired)).toBe("token_expired");
      expect(await rejectionCode(verifier, accessToken(key, stub.issuer(`other-aud-${i}`), { claims: { aud: "another-api" } }))).toBe("invalid_audience");
    }
    expect(stub.requests).toEqual([]);
    await expect(verifier.verify(accessToken(key, stub.issuer("fresh-tenant")))).resolves.toMatchObject({ realm: "fresh-tenant" });
  });

  test("the registry itself: a burst of discoveries, then the rate; absent realms remembered; LRU among the used", () => {
    let now = 0;
    const created: string[] = [];
    const registry = new RealmVerifiers<string>({
      create: (trusted) => {
        created.push(trusted.name);
        return trusted.name;
      },
      maxRealms: 2,
      discoveriesPerSecond: 2,
      unknownRealmMs: 60_000,
      now: () => now,
    });
    const pattern = (name: string) => ({ issuer: `https://kc/realms/${name}`, name, fromPattern: true });
    expect(registry.get(pattern("a"))).toBe("a");
    expect(registry.get(pattern("b"))).toBe("b");
    expect(() => registry.get(pattern("c"))).toThrow(RealmDiscoveryThrottledError);
    now += 500;
    registry.get(pattern("a")); // a used: b is evicted first
    expect(registry.get(pattern("c"))).toBe("c");
    expect(registry.size).toBe(2);
    registry.forgetAbsent(pattern("c"));
    expect(() => registry.get(pattern("c"))).toThrow(expect.objectContaining({ code: "unknown_realm" }));
    now += 61_000;
    expect(registry.get(pattern("c"))).toBe("c");
    expect(created).toEqual(["a", "b", "c", "c"]);
  });

  test("forged tokens naming invented realms cannot starve a realm that proved itself: it is discovered again from a budget of its own", async () => {
    const key = stub.create("proven-tenant");
    const verifier = createAccessTokenVerifier(testConfig(stub.pattern, { KEYCLOAK_REALM_DISCOVERIES_PER_SECOND: "2", KEYCLOAK_MAX_REALMS: "1" }));
    await expect(verifier.verify(accessToken(key, stub.issuer("proven-tenant")))).resolves.toMatchObject({ realm: "proven-tenant" });
    // Anyone can write such tokens: claims that pass, a signature never checked. Each takes the
    // held place (dropping proven-tenant) or finds the new realms' budget spent.
    const forged = (name: string): string => {
      const token = accessToken(key, stub.issuer(name));
      return `${token.slice(0, token.lastIndexOf(".") + 1)}${"A".repeat(342)}`;
    };
    const codeOf = (token: string): Promise<unknown> =>
      verifier.verify(token).then(
        () => "allowed",
        (error: { code?: unknown }) => error.code,
      );
    const codes = new Set<unknown>();
    for (let i = 0; i < 6; i += 1) codes.add(await codeOf(forged(`invented-${i}-${Date.now()}`)));
    expect([...codes].sort()).toEqual(["realm_discovery_throttled", "unknown_realm"]);
    expect(await codeOf(forged(`invented-late-${Date.now()}`))).toBe("realm_discovery_throttled");
    // The proven realm, dropped from the held set, comes back at once.
    await expect(verifier.verify(accessToken(key, stub.issuer("proven-tenant")))).resolves.toMatchObject({ realm: "proven-tenant" });
    // A real realm this instance has not verified a token of yet still waits for the new realms' budget.
    const unseen = stub.create("unseen-tenant");
    expect(await codeOf(accessToken(unseen, stub.issuer("unseen-tenant")))).toBe("realm_discovery_throttled");
  });

  test("the registry: a confirmed realm spends the proven budget, which new names cannot reach; exact issuers are never counted", () => {
    let now = 0;
    const registry = new RealmVerifiers<string>({
      create: (trusted) => trusted.name,
      maxRealms: 1,
      discoveriesPerSecond: 1,
      unknownRealmMs: 0,
      now: () => now,
    });
    const pattern = (name: string) => ({ issuer: `https://kc/realms/${name}`, name, fromPattern: true });
    registry.get(pattern("a"));
    registry.confirm(pattern("a"));
    expect(() => registry.get(pattern("b"))).toThrow(RealmDiscoveryThrottledError);
    now += 1000;
    registry.get(pattern("b")); // a dropped
    expect(registry.peek(pattern("a"))).toBeUndefined();
    expect(() => registry.get(pattern("c"))).toThrow(RealmDiscoveryThrottledError);
    expect(registry.get(pattern("a"))).toBe("a");
    // The proven budget is a budget too: a second proven realm in the same second waits.
    registry.confirm(pattern("b"));
    expect(() => registry.get(pattern("b"))).toThrow(RealmDiscoveryThrottledError);
    // A realm Keycloak no longer has is proven no more: its name is back on the new realms' budget.
    now += 1000;
    registry.forgetAbsent(pattern("a"));
    registry.get(pattern("d")); // spends the new realms' budget
    expect(() => registry.get(pattern("a"))).toThrow(RealmDiscoveryThrottledError);
    registry.confirm({ issuer: "https://kc/realms/exact", name: "exact", fromPattern: false });
    expect(registry.get({ issuer: "https://kc/realms/exact", name: "exact", fromPattern: false })).toBe("exact");
  });

  test("when every realm held was used, the one just added is not the one evicted", () => {
    const registry = new RealmVerifiers<string>({ create: (trusted) => trusted.name, maxRealms: 2, discoveriesPerSecond: 100, unknownRealmMs: 0 });
    const pattern = (name: string) => ({ issuer: `https://kc/realms/${name}`, name, fromPattern: true });
    registry.get(pattern("a"));
    registry.get(pattern("b"));
    registry.get(pattern("a"));
    registry.get(pattern("b"));
    registry.get(pattern("c"));
    expect(registry.peek(pattern("c"))).toBe("c");
    expect(registry.size).toBe(2);
  });
});

describe("route requirements: the realm and Keycloak Organizations", () => {
  const claims = (extra: Record<string, unknown>) => ({ iss: "https://kc.example.com/realms/acme", ...extra });
  test("realm() is the verified issuer's realm", () => {
    expect(isSatisfied(realm("acme"), claims({}))).toBe(true);
    expect(isSatisfied(realm("acm"), claims({}))).toBe(false);
    expect(isSatisfied(realm("demo"), claims({}))).toBe(false);
    expect(isSatisfied(realm("acme"), { iss: 1 })).toBe(false);
  });
  test("organization() reads the organization claim in its list and map forms", () => {
    expect(isSatisfied(organization("acme-corp"), claims({ organization: ["acme-corp", "beta"] }))).toBe(true);
    expect(isSatisfied(organization("acme-corp"), claims({ organization: { "acme-corp": { id: "42" } } }))).toBe(true);
    expect(isSatisfied(organization("acme-corp"), claims({ organization: ["beta"] }))).toBe(false);
    expect(isSatisfied(organization("acme-corp"), claims({ organization: "acme-corp" }))).toBe(false);
    expect(isSatisfied(organization("acme-corp"), claims({}))).toBe(false);
  });
});

describe("route requirements against several trusted realms, at cold start", () => {
  const routesWith = (requires: Requirement) => routeTable([{ method: "GET", path: "/r", summary: "r", requires }]);
  const warnings = () => {
    const lines: Array<Record<string, unknown>> = [];
    return { logger: { warn: (message: string, fields: Record<string, unknown>) => lines.push({ message, ...fields }) } as never, lines };
  };
  const issuers = parseTrustedIssuers("https://id.example.com/realms/{realm},https://partner.example.org/realms/acme", [], []);

  test("realm(name) that issuers on two hosts could both be is refused; the whole issuer is taken, and matched exactly", () => {
    const { logger } = warnings();
    expect(() => checkRealmScopes(routesWith(realm("acme")), issuers, logger)).toThrow(/realm\("acme"\), which several trusted issuers could be/);
    expect(() => checkRealmScopes(routesWith(realm("https://partner.example.org/realms/acme")), issuers, logger)).not.toThrow();
    expect(isSatisfied(realm("https://partner.example.org/realms/acme"), { iss: "https://id.example.com/realms/acme" })).toBe(false);
    expect(isSatisfied(realm("https://partner.example.org/realms/acme"), { iss: "https://partner.example.org/realms/acme" })).toBe(true);
    // A name only one of them can have is fine.
    expect(() => checkRealmScopes(routesWith(realm("globex")), issuers, logger)).not.toThrow();
  });

  test("requirements that any realm's tokens can meet (roles, organizations) are named in one WARN line; realm-scoped ones are not", () => {
    const { logger, lines } = warnings();
    checkRealmScopes(
      routeTable([
        { method: "GET", path: "/org", summary: "o", requires: organization("acme-corp") },
        { method: "GET", path: "/admin", summary: "a", requires: realmRole("admin") },
        { method: "GET", path: "/scoped", summary: "s", requires: allOf(realm("globex"), realmRole("admin")) },
        { method: "GET", path: "/open", summary: "any valid token" },
      ]),
      issuers,
      logger,
    );
    expect(lines).toEqual([expect.objectContaining({ reason: "realm_unscoped_requirements", routes: "GET /org, GET /admin" })]);
    const single = warnings();
    checkRealmScopes(routesWith(realmRole("admin")), parseTrustedIssuers("https://id.example.com/realms/demo", [], []), single.logger);
    expect(single.lines).toEqual([]);
  });
});
