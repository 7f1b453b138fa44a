import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import { createHmac, createPublicKey, createVerify } from "node:crypto";
import { createAccessTokenVerifier, type AccessTokenVerifier } from "../../lib/token/access-token-verifier.js";
import type { ErrorCode } from "../../lib/errors.js";
import { KeysUnavailableError } from "../../lib/errors.js";
import { startIdpStub, type IdpStub } from "../helpers/idp-stub.js";
import { testConfig } from "../helpers/config.js";
import { payloadOf, rejectionCode } from "../helpers/verification.js";
import { accessClaims, accessToken, b64url, generateRsaKey, signJwt, type TestKey } from "../helpers/tokens.js";

let idp: IdpStub;
let key: TestKey;
let encKey: TestKey;
let verifier: AccessTokenVerifier;

beforeAll(async () => {
  key = generateRsaKey();
  encKey = generateRsaKey({ use: "enc" });
  idp = await startIdpStub([key.jwk, encKey.jwk]);
  verifier = createAccessTokenVerifier(testConfig(idp.issuer, { KEYCLOAK_ALLOWED_CLIENTS: "api-client,api-docs" }));
});
afterAll(() => idp.close());

describe("a valid Keycloak access token", () => {
  test("is accepted with every claim as signed", async () => {
    const token = accessToken(key, idp.issuer, { claims: { nested: { list: [1, "two", null], flag: false } } });
    const { claims, kid } = await verifier.verify(token);
    expect(kid).toBe(key.kid);
    expect(claims).toEqual(payloadOf(token));
  });

  test("is accepted with aud as a plain string and within the clock skew", async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = accessToken(key, idp.issuer, { claims: { aud: "secured-api", exp: now - 10, iat: now + 10, nbf: now + 10 } });
    await expect(verifier.verify(token)).resolves.toMatchObject({ claims: { aud: "secured-api" } });
  });
});

describe("every rejection has its own code", () => {
  const now = (): number => Math.floor(Date.now() / 1000);
  const cases: Array<[string, () => string, ErrorCode]> = [
    ["three segments of garbage", () => "abc.def.ghi", "malformed_token"],
    ["two segments", () => accessToken(key, idp.issuer).split(".").slice(0, 2).join("."), "malformed_token"],
    ["JWE (five segments)", () => `${b64url({ alg: "RSA-OAEP", enc: "A256GCM", kid: encKey.kid })}.a.b.c.d`, "malformed_token"],
    ["a payload that is not JSON", () => `${b64url({ alg: "RS256", kid: key.kid })}.${b64url("not json")}.sig`, "malformed_token"],
    ["a header that is an array", () => `${b64url([1])}.${b64url({})}.sig`, "malformed_token"],
    ["a string exp", () => accessToken(key, idp.issuer, { claims: { exp: String(now() + 300) } }), "malformed_token"],
    ["an array iss", () => accessToken(key, idp.issuer, { claims: { iss: [idp.issuer] } }), "malformed_token"],
    ["alg none", () => `${b64url({ alg: "none", kid: key.kid })}.${b64url(accessClaims(idp.issuer))}.`, "malformed_token"],
    ["alg None with a signature", () => signJwt({ alg: "None", kid: key.kid }, accessClaims(idp.issuer), key.privateKey), "algorithm_not_allowed"],
    ["alg HS256 keyed with the realm's public key", () => hs256WithPublicKey(), "algorithm_not_allowed"],
    [
      "alg RS512 outside the allow-list",
      () => signJwt({ alg: "RS512", kid: key.kid }, accessClaims(idp.issuer), key.privateKey, "sha512"),
      "algorithm_not_allowed",
    ],
    ["no kid", () => signJwt({ alg: "RS256" }, accessClaims(idp.issuer), key.privateKey), "missing_kid"],
    ["a crit header", () => accessToken(key, idp.issuer, { header: { crit: ["exp"], exp: 1 } }), "unsupported_crit"],
    ["a jku header", () => accessToken(key, idp.issuer, { header: { jku: "https://evil.example/jwks" } }), "embedded_key_header"],
    ["an embedded jwk", () => accessToken(key, idp.issuer, { header: { jwk: key.jwk } }), "embedded_key_header"],
    ["an x5u header", () => accessToken(key, idp.issuer, { header: { x5u: "https://evil.example/cert" } }), "embedded_key_header"],
    ["an x5c header", () => accessToken(key, idp.issuer, { header: { x5c: ["MIIB"] } }), "embedded_key_header"],
    ["the kid of the enc key", () => accessToken(encKey, idp.issuer), "key_not_usable"],
    ["a signature by another key under our kid", () => accessToken({ ...generateRsaKey(), kid: key.kid }, idp.issuer), "invalid_signature"],
    ["a tampered payload", () => tamper(accessToken(key, idp.issuer)), "invalid_signature"],
    ["another issuer", () => accessToken(key, idp.issuer, { claims: { iss: "http://localhost:8080/realms/other" } }), "invalid_issuer"],
    ["an issuer with a trailing slash", () => accessToken(key, idp.issuer, { claims: { iss: `${idp.issuer}/` } }), "invalid_issuer"],
    ["no accepted audience", () => accessToken(key, idp.issuer, { claims: { aud: ["account"] } }), "invalid_audience"],
    ["no aud at all", () => accessToken(key, idp.issuer, { claims: { aud: undefined } }), "invalid_audience"],
    ["no exp", () => accessToken(key, idp.issuer, { claims: { exp: undefined } }), "missing_exp"],
    ["exp past the skew", () => accessToken(key, idp.issuer, { claims: { exp: now() - 31, iat: now() - 400 } }), "token_expired"],
    ["no iat", () => accessToken(key, idp.issuer, { claims: { iat: undefined } }), "missing_iat"],
    ["iat beyond the skew", () => accessToken(key, idp.issuer, { claims: { iat: now() + 120 } }), "iat_in_future"],
    ["nbf beyond the skew", () => accessToken(key, idp.issuer, { claims: { nbf: now() + 120 } }), "token_not_yet_valid"],
    ["an ID token", () => accessToken(key, idp.issuer, { claims: { typ: "ID" } }), "invalid_token_type"],
    ["a Refresh token", () => accessToken(key, idp.issuer, { claims: { typ: "Refresh" } }), "invalid_token_type"],
    ["an Offline token", () => accessToken(key, idp.issuer, { claims: { typ: "Offline" } }), "invalid_token_type"],
    ["a Logout token", () => accessToken(key, idp.issuer, { claims: { typ: "Logout" } }), "invalid_token_type"],
    ["no typ", () => accessToken(key, idp.issuer, { claims: { typ: undefined } }), "invalid_token_type"],
    ["an azp not allowed", () => accessToken(key, idp.issuer, { claims: { azp: "other-client" } }), "client_not_allowed"],
    ["no azp while clients are restricted", () => accessToken(key, idp.issuer, { claims: { azp: undefined } }), "client_not_allowed"],
    ["a token above the size cap", () => accessToken(key, idp.issuer, { claims: { padding: "x".repeat(20_000) } }), "token_too_large"],
  ];

  test.each(cases)("%s", async (_name, make, code) => {
    expect(await rejectionCode(verifier, make())).toBe(code);
  });

  function tamper(token: string): string {
    const [header, , signature] = token.split(".");
    return `${header}.${b64url(accessClaims(idp.issuer, { realm_access: { roles: ["admin"] }, sub: "attacker" }))}.${signature}`;
  }

  function hs256WithPublicKey(): string {
    const header = b64url({ alg: "HS256", typ: "JWT", kid: key.kid });
    const payload = b64url(accessClaims(idp.issuer));
    const secret = JSON.stringify(key.jwk);
    return `${header}.${payload}.${createHmac("sha256", secret).update(`${header}.${payload}`).digest("base64url")}`;
  }
});

describe("clock", () => {
  test("time checks follow the frozen clock, with the configured skew", async () => {
    const token = accessToken(key, idp.issuer);
    const exp = payloadOf<{ exp: number }>(token).exp;
    jest.useFakeTimers({ now: (exp + 29) * 1000, doNotFake: ["setTimeout", "setImmediate", "nextTick", "queueMicrotask"] });
    try {
      await expect(verifier.verify(token)).resolves.toBeDefined();
      jest.setSystemTime((exp + 31) * 1000);
      expect(await rejectionCode(verifier, token)).toBe("token_expired");
    } finally {
      jest.useRealTimers();
    }
  });
});

describe("algorithms", () => {
  test("RS512 passes when it is in KEYCLOAK_ALGORITHMS and the key says RS512", async () => {
    const rs512 = generateRsaKey({ alg: "RS512" });
    const stub = await startIdpStub([rs512.jwk]);
    try {
      const strict = createAccessTokenVerifier(testConfig(stub.issuer, { KEYCLOAK_ALGORITHMS: "RS256,RS512" }));
      const token = signJwt({ alg: "RS512", kid: rs512.kid }, accessClaims(stub.issuer), rs512.privateKey, "sha512");
      await expect(strict.verify(token)).resolves.toBeDefined();
      // The key is bound to RS512: a token claiming RS256 under it is refused even though allowed.
      const mismatched = signJwt({ alg: "RS256", kid: rs512.kid }, accessClaims(stub.issuer), rs512.privateKey);
      expect(await rejectionCode(strict, mismatched)).toBe("key_algorithm_mismatch");
    } finally {
      await stub.close();
    }
  });
});

describe("keys that cannot be had", () => {
  test("a dead issuer is a server-side failure, not a bad token", async () => {
    const stub = await startIdpStub([key.jwk]);
    const issuer = stub.issuer;
    await stub.close();
    const offline = createAccessTokenVerifier(testConfig(issuer, { KEYCLOAK_FETCH_TIMEOUT_MS: "500" }));
    await expect(offline.verify(accessToken(key, issuer))).rejects.toBeInstanceOf(KeysUnavailableError);
  });

  test("plain http to a non-loopback issuer is refused without KEYCLOAK_ALLOW_HTTP", async () => {
    const remote = createAccessTokenVerifier(testConfig("http://keycloak.example.com/realms/demo"));
    const error = await remote.verify(accessToken(key, "http://keycloak.example.com/realms/demo")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeysUnavailableError);
  });

  test("a discovery document naming another issuer is refused", async () => {
    const stub = await startIdpStub([key.jwk]);
    stub.override((request, response) => {
      if (!request.url?.endsWith("openid-configuration")) return false;
      response
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ issuer: "http://evil.example/realms/test", jwks_uri: `${stub.issuer}/protocol/openid-connect/certs` }));
      return true;
    });
    try {
      const misled = createAccessTokenVerifier(testConfig(stub.issuer));
      await expect(misled.verify(accessToken(key, stub.issuer))).rejects.toBeInstanceOf(KeysUnavailableError);
      expect(stub.counts.jwks).toBe(0);
    } finally {
      await stub.close();
    }
  });
});

// The helper's tokens are standard RS256: Node's own verifier agrees, so the suite tests real JWTs.
test("tokens from the helper verify with Node's own RS256", () => {
  const token = accessToken(key, "x");
  const [h, p, s] = token.split(".") as [string, string, string];
  const publicKey = createPublicKey({ key: key.jwk, format: "jwk" });
  expect(createVerify("sha256").update(`${h}.${p}`).verify(publicKey, Buffer.from(s, "base64url"))).toBe(true);
});
