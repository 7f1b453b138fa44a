/**
 * Regression tests for the red-team findings of issue 14, one describe per finding. Each test
 * failed on the code before its fix. Finding 7 (serverless-offline's authorizer override header)
 * is tested end to end in test/e2e/offline-override.test.ts; finding 5 (cached REST policies and
 * parametrised routes), exhaustive by nature, in test/stress/policy-widening.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import type { APIGatewayAuthorizerResult, APIGatewayProxyResult, Context } from "aws-lambda";
import { createHash, generateKeyPairSync, randomUUID, sign } from "node:crypto";
import { createAuthorizerHandler } from "../../lib/authorizer/authorizer-handler.js";
import type { AuthorizerContext } from "../../lib/apigateway/context.js";
import { ConfigError } from "../../lib/errors.js";
import { JwksCache } from "../../lib/keys/jwks-cache.js";
import { API_ROUTES } from "../../functions/routes.js";
import { createFetchJson } from "../../lib/keys/fetch-json.js";
import { createAccessTokenVerifier, type AccessTokenVerifier } from "../../lib/token/access-token-verifier.js";
import { testConfig } from "../helpers/config.js";
import { rejectionCode } from "../helpers/verification.js";
import { authorizerEvent, METHOD_ARN } from "../helpers/events.js";
import { startIdpStub, type IdpStub } from "../helpers/idp-stub.js";
import { accessClaims, accessToken, b64url, generateRsaKey, type TestKey } from "../helpers/tokens.js";
import { gatewayChecked } from "../helpers/gateway.js";

/** An ECDSA key as a realm publishes it, optionally without `alg` or with a wrong one. */
function ecKey(curve: "P-256" | "P-384" = "P-256", alg: string | undefined = curve === "P-256" ? "ES256" : "ES384"): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: curve });
  const kid = randomUUID();
  const { crv, x, y } = publicKey.export({ format: "jwk" }) as Record<string, string>;
  const jwk: Record<string, string> = { kid, kty: "EC", use: "sig", crv: crv as string, x: x as string, y: y as string };
  if (alg !== undefined) jwk.alg = alg;
  return { kid, privateKey, jwk };
}

/** A JWS whose header says `alg` but whose signature is made with `key` using `digest` and, for EC, IEEE P1363. */
function signedAs(alg: string, key: TestKey, issuer: string, claims: Record<string, unknown> = {}, digest = "sha256"): string {
  const input = `${b64url({ alg, typ: "JWT", kid: key.kid })}.${b64url(accessClaims(issuer, claims))}`;
  const signature = sign(digest, Buffer.from(input), { key: key.privateKey, dsaEncoding: "ieee-p1363" });
  return `${input}.${signature.toString("base64url")}`;
}

const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/** (r, s) -> the same signature with s replaced by n - s: the other valid ECDSA signature. */
function flipS(token: string): string {
  const [header, payload, signature] = token.split(".") as [string, string, string];
  const bytes = Buffer.from(signature, "base64url");
  const s = BigInt(`0x${bytes.subarray(32).toString("hex")}`);
  const flipped = Buffer.from((P256_ORDER - s).toString(16).padStart(64, "0"), "hex");
  return `${header}.${payload}.${Buffer.concat([bytes.subarray(0, 32), flipped]).toString("base64url")}`;
}

/** A genuine ES256 token whose signature is in low-S form (signing is randomised: retry until so). */
function lowSToken(key: TestKey, issuer: string): string {
  for (;;) {
    const token = signedAs("ES256", key, issuer);
    const s = BigInt(
      `0x${Buffer.from(token.split(".")[2] as string, "base64url")
        .subarray(32)
        .toString("hex")}`,
    );
    if (s <= P256_ORDER >> 1n) return token;
  }
}

describe("finding 1: a key replaced under the same kid", () => {
  test("after the refetch the withdrawn key stops verifying and the new one verifies", async () => {
    const old = generateRsaKey({ kid: "realm-key" });
    const replacement = generateRsaKey({ kid: "realm-key" });
    const idp = await startIdpStub([old.jwk]);
    let now = Date.now();
    const jwksCache = new JwksCache({
      issuer: idp.issuer,
      fetchJson: createFetchJson({ timeoutMs: 2000, allowHttp: false }),
      maxAgeMs: 60_000,
      cooldownMs: 0,
      now: () => now,
    });
    const verifier = createAccessTokenVerifier(testConfig(idp.issuer, { KEYCLOAK_TOKEN_CACHE_SIZE: "0" }), { jwksCache });
    try {
      const byOld = accessToken(old, idp.issuer);
      await expect(verifier.verify(byOld)).resolves.toMatchObject({ kid: "realm-key" });
      idp.setKeys([replacement.jwk]);
      now += 61_000; // past the key set's max age: the next verification refetches
      expect(await rejectionCode(verifier, byOld)).toBe("invalid_signature");
      await expect(verifier.verify(accessToken(replacement, idp.issuer))).resolves.toMatchObject({ kid: "realm-key" });
      expect(await rejectionCode(verifier, accessToken(old, idp.issuer))).toBe("invalid_signature");
      expect(idp.counts.jwks).toBe(2);
    } finally {
      await idp.close();
    }
  });
});

describe("finding 2: the token's alg must fit the key's type", () => {
  let idp: IdpStub;
  let unlabelledEc: TestKey;
  let mislabelledEc: TestKey;
  let rsa: TestKey;
  let unlabelledRsa: TestKey;
  let verifier: AccessTokenVerifier;
  beforeAll(async () => {
    unlabelledEc = ecKey("P-256", undefined);
    mislabelledEc = ecKey("P-256", "RS256");
    rsa = generateRsaKey();
    unlabelledRsa = generateRsaKey();
    delete (unlabelledRsa.jwk as Record<string, string | undefined>).alg;
    idp = await startIdpStub([unlabelledEc.jwk, mislabelledEc.jwk, rsa.jwk, unlabelledRsa.jwk]);
    verifier = createAccessTokenVerifier(testConfig(idp.issuer, { KEYCLOAK_ALGORITHMS: "RS256,ES256", KEYCLOAK_ECDSA_ALLOW_HIGH_S: "true" }));
  });
  afterAll(() => idp.close());

  test("an ECDSA signature labelled RS256, against an EC key without alg, is refused", async () => {
    expect(await rejectionCode(verifier, signedAs("RS256", unlabelledEc, idp.issuer))).toBe("key_algorithm_mismatch");
  });
  test("an EC key labelled RS256 verifies nothing, whatever the token says", async () => {
    expect(await rejectionCode(verifier, signedAs("RS256", mislabelledEc, idp.issuer))).toBe("key_not_usable");
    expect(await rejectionCode(verifier, signedAs("ES256", mislabelledEc, idp.issuer))).toBe("key_not_usable");
  });
  test("an RSA signature labelled ES256 is refused, with or without alg on the key", async () => {
    expect(await rejectionCode(verifier, signedAs("ES256", rsa, idp.issuer))).toBe("key_algorithm_mismatch");
    expect(await rejectionCode(verifier, signedAs("ES256", unlabelledRsa, idp.issuer))).toBe("key_algorithm_mismatch");
  });
  test("the right pairs still verify: ES256 on the unlabelled EC key, RS256 on the unlabelled RSA key", async () => {
    await expect(verifier.verify(signedAs("ES256", unlabelledEc, idp.issuer))).resolves.toBeDefined();
    await expect(verifier.verify(accessToken(unlabelledRsa, idp.issuer))).resolves.toBeDefined();
  });
  test("an ES384 token against a P-256 key is refused", async () => {
    const strict = createAccessTokenVerifier(testConfig(idp.issuer, { KEYCLOAK_ALGORITHMS: "ES384" }));
    expect(await rejectionCode(strict, signedAs("ES384", unlabelledEc, idp.issuer, {}, "sha384"))).toBe("key_algorithm_mismatch");
  });
});

describe("finding 3: one token string per set of claims", () => {
  let idp: IdpStub;
  let ec: TestKey;
  let rsa: TestKey;
  beforeAll(async () => {
    ec = ecKey();
    rsa = generateRsaKey();
    idp = await startIdpStub([ec.jwk, rsa.jwk]);
  });
  afterAll(() => idp.close());

  test("(r, n - s) of a genuine ES256 token is refused by default", async () => {
    const verifier = createAccessTokenVerifier(testConfig(idp.issuer, { KEYCLOAK_ALGORITHMS: "ES256" }));
    const genuine = lowSToken(ec, idp.issuer);
    await expect(verifier.verify(genuine)).resolves.toBeDefined();
    expect(await rejectionCode(verifier, flipS(genuine))).toBe("non_canonical_token");
  });
  test("KEYCLOAK_ECDSA_ALLOW_HIGH_S=true accepts both forms (for signers that do not normalise s)", async () => {
    const lenient = createAccessTokenVerifier(testConfig(idp.issuer, { KEYCLOAK_ALGORITHMS: "ES256", KEYCLOAK_ECDSA_ALLOW_HIGH_S: "true" }));
    const genuine = lowSToken(ec, idp.issuer);
    await expect(lenient.verify(flipS(genuine))).resolves.toBeDefined();
  });
  test("padding or stray trailing bits on any segment are refused", async () => {
    const verifier = createAccessTokenVerifier(testConfig(idp.issuer));
    const genuine = accessToken(rsa, idp.issuer);
    await expect(verifier.verify(genuine)).resolves.toBeDefined();
    const [header, payload, signature] = genuine.split(".") as [string, string, string];
    // A 256-byte signature is 342 characters: 2 left over, so it carries 4 unused bits.
    const last = signature.at(-1) as string;
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const strayBits = `${signature.slice(0, -1)}${alphabet[alphabet.indexOf(last) | 1]}`;
    expect(Buffer.from(strayBits, "base64url").equals(Buffer.from(signature, "base64url"))).toBe(true);
    for (const variant of [`${genuine}==`, `${genuine}=`, `${header}.${payload}.${strayBits}`, `${header}=.${payload}.${signature}`]) {
      expect([variant.slice(-12), await rejectionCode(verifier, variant)]).toEqual([variant.slice(-12), "non_canonical_token"]);
    }
  });
});

describe("finding 4: a cached Allow outliving the token", () => {
  let securedHandler: (event: never, context: Context) => Promise<unknown>;
  const lambdaContext = { awsRequestId: "test", getRemainingTimeInMillis: () => 3000 } as unknown as Context;
  beforeAll(async () => {
    process.env.AUTH_REALM = "demo";
    process.env.KEYCLOAK_ISSUER ??= "https://keycloak.example.com/realms/demo";
    ({ handler: securedHandler } = (await import("../../functions/secured.js")) as unknown as { handler: typeof securedHandler });
  });
  const event = (kind: "rest" | "http", exp: number): never => {
    const context: AuthorizerContext = { kc_claims: JSON.stringify(accessClaims("https://kc.example.com/realms/demo", { exp })) };
    return (
      kind === "http"
        ? {
            version: "2.0",
            routeKey: "GET /secured",
            rawPath: "/secured",
            headers: {},
            requestContext: { http: { method: "GET", path: "/secured" }, authorizer: { lambda: context } },
          }
        : { resource: "/secured", path: "/secured", httpMethod: "GET", headers: {}, requestContext: { authorizer: context } }
    ) as never;
  };
  test.each(["rest", "http"] as const)("%s: the handler refuses a token past exp + skew with 401 invalid_token, and serves one within it", async (kind) => {
    const now = Math.floor(Date.now() / 1000);
    const expired = (await securedHandler(event(kind, now - 31), lambdaContext)) as APIGatewayProxyResult;
    expect(expired.statusCode).toBe(401);
    expect(JSON.parse(expired.body)).toMatchObject({ error: "invalid_token" });
    expect(expired.headers?.["WWW-Authenticate"]).toContain('error="invalid_token"');
    const withinSkew = (await securedHandler(event(kind, now - 20), lambdaContext)) as APIGatewayProxyResult;
    expect(withinSkew.statusCode).toBe(200);
  });
});

describe("finding 6: no shared principal", () => {
  let idp: IdpStub;
  let key: TestKey;
  beforeAll(async () => {
    key = generateRsaKey();
    idp = await startIdpStub([key.jwk]);
  });
  afterAll(() => idp.close());

  test.each([
    ["no sub", { sub: undefined }],
    ["an empty sub", { sub: "" }],
  ])("%s: refused with missing_subject on every event kind, never principalId 'unknown' or the client id", async (_label, claims) => {
    const handler = gatewayChecked(createAuthorizerHandler({ verifier: createAccessTokenVerifier(testConfig(idp.issuer)), routes: API_ROUTES }));
    const token = accessToken(key, idp.issuer, { claims });
    expect(await rejectionCode(createAccessTokenVerifier(testConfig(idp.issuer)), token)).toBe("missing_subject");
    for (const kind of ["rest-token", "rest-request", "http-v2"] as const) {
      await expect(handler(authorizerEvent(kind, `Bearer ${token}`))).rejects.toThrow("Unauthorized");
    }
  });

  test("KEYCLOAK_PRINCIPAL_CLAIM names another claim, which then must be present", async () => {
    const verifier = createAccessTokenVerifier(testConfig(idp.issuer, { KEYCLOAK_PRINCIPAL_CLAIM: "preferred_username" }));
    const handler = gatewayChecked(createAuthorizerHandler({ verifier, routes: API_ROUTES }));
    const result = (await handler({
      type: "TOKEN",
      methodArn: METHOD_ARN,
      authorizationToken: `Bearer ${accessToken(key, idp.issuer, { claims: { sub: undefined } })}`,
    })) as APIGatewayAuthorizerResult;
    expect(result.principalId).toBe("alice");
    expect(await rejectionCode(verifier, accessToken(key, idp.issuer, { claims: { preferred_username: undefined } }))).toBe("missing_subject");
  });
});

describe("finding 8: claims named __proto__ and constructor", () => {
  let idp: IdpStub;
  let key: TestKey;
  beforeAll(async () => {
    key = generateRsaKey();
    idp = await startIdpStub([key.jwk]);
  });
  afterAll(() => idp.close());

  test.each(["rest-token", "http-v2"] as const)("%s: reach the handler exactly as signed, and pollute nothing", async (kind) => {
    process.env.AUTH_REALM = "demo";
    process.env.KEYCLOAK_ISSUER ??= "https://keycloak.example.com/realms/demo";
    const { handler: securedHandler } = (await import("../../functions/secured.js")) as unknown as {
      handler: (event: never, context: Context) => Promise<APIGatewayProxyResult>;
    };
    const handler = gatewayChecked(createAuthorizerHandler({ verifier: createAccessTokenVerifier(testConfig(idp.issuer)), routes: API_ROUTES }));
    // JSON text with the keys as a token carries them (JSON.stringify of an object literal would drop __proto__).
    const claimsJson = JSON.stringify(accessClaims(idp.issuer)).replace(
      /}$/,
      ',"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}},"nested":{"__proto__":"n"}}',
    );
    const input = `${b64url({ alg: "RS256", typ: "JWT", kid: key.kid })}.${Buffer.from(claimsJson).toString("base64url")}`;
    const token = `${input}.${sign("sha256", Buffer.from(input), key.privateKey).toString("base64url")}`;
    const answer = (await handler(authorizerEvent(kind, `Bearer ${token}`))) as { context?: AuthorizerContext };
    const context = answer.context as AuthorizerContext;
    const event = (
      kind === "http-v2"
        ? {
            version: "2.0",
            routeKey: "GET /secured",
            rawPath: "/secured",
            headers: {},
            requestContext: { http: { method: "GET", path: "/secured" }, authorizer: { lambda: context } },
          }
        : { resource: "/secured", path: "/secured", httpMethod: "GET", headers: {}, requestContext: { authorizer: context } }
    ) as never;
    const response = await securedHandler(event, { awsRequestId: "t", getRemainingTimeInMillis: () => 3000 } as unknown as Context);
    expect(response.statusCode).toBe(200);
    const { claims } = JSON.parse(response.body) as { claims: Record<string, unknown> };
    expect(Object.getOwnPropertyDescriptor(claims, "__proto__")?.value).toEqual({ admin: true });
    expect(Object.getOwnPropertyDescriptor(claims, "constructor")?.value).toEqual({ prototype: { x: 1 } });
    expect(Object.getOwnPropertyDescriptor(claims.nested as object, "__proto__")?.value).toBe("n");
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});

describe("finding 9: tokens bound to a key are not bearer tokens", () => {
  let idp: IdpStub;
  let key: TestKey;
  let verifier: AccessTokenVerifier;
  beforeAll(async () => {
    key = generateRsaKey();
    idp = await startIdpStub([key.jwk]);
    verifier = createAccessTokenVerifier(testConfig(idp.issuer));
  });
  afterAll(() => idp.close());

  // The binding is the request's business since DPoP (issue 18): the verifier takes the token,
  // the authorizer's key-binding check (DPoP off by default, lib/dpop/) refuses it as a bearer token.
  test.each([
    ["DPoP (cnf.jkt)", { jkt: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I" }],
    ["mTLS (cnf.x5t#S256)", { "x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2" }],
    ["an empty cnf", {}],
  ])("%s is refused with sender_constrained_token", async (_label, cnf) => {
    const reasons: unknown[] = [];
    const handler = createAuthorizerHandler({
      verifier,
      routes: API_ROUTES,
      observer: { allowed() {}, refused: ({ error }) => reasons.push(error.code), failed() {} },
    });
    const token = accessToken(key, idp.issuer, { claims: { cnf } });
    for (const kind of ["rest-token", "rest-request", "http-v2"] as const) {
      await expect(handler(authorizerEvent(kind, `Bearer ${token}`))).rejects.toThrow(/^Unauthorized$/);
    }
    expect(reasons).toEqual(["sender_constrained_token", "sender_constrained_token", "sender_constrained_token"]);
  });
});

describe("cheap refusals", () => {
  test("a forged token at the size cap is refused before any key lookup or signature check", async () => {
    const key = generateRsaKey();
    const idp = await startIdpStub([key.jwk]);
    try {
      const verifier = createAccessTokenVerifier(testConfig(idp.issuer));
      const padding = "x".repeat(11_000);
      const foreign = accessToken(key, "https://attacker.example/realms/x", { claims: { padding } });
      expect(foreign.length).toBeLessThan(16 * 1024);
      expect(await rejectionCode(verifier, foreign)).toBe("invalid_issuer");
      expect(await rejectionCode(verifier, `${b64url({ alg: "none", kid: key.kid })}.${b64url({ padding })}.AAAA`)).toBe("algorithm_not_allowed");
      expect(idp.counts).toEqual({ discovery: 0, jwks: 0 });
    } finally {
      await idp.close();
    }
  });
});

describe("hardening from the adversarial review of these fixes", () => {
  let idp: IdpStub;
  let rsa: TestKey;
  beforeAll(async () => {
    rsa = generateRsaKey();
    idp = await startIdpStub([rsa.jwk]);
  });
  afterAll(() => idp.close());

  test.each([
    ["ES384", "P-384", "sha384", 48, 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n],
    [
      "ES512",
      "P-521",
      "sha512",
      66,
      0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
    ],
  ] as const)("%s: (r, n - s) of a low-S token is refused, the token itself accepted", async (alg, curve, digest, size, order) => {
    expect(order.toString(2).length).toBe(curve === "P-384" ? 384 : 521);
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: curve });
    const kid = randomUUID();
    const stub = await startIdpStub([{ ...(publicKey.export({ format: "jwk" }) as Record<string, string>), kid, alg, use: "sig" }]);
    try {
      const verifier = createAccessTokenVerifier(testConfig(stub.issuer, { KEYCLOAK_ALGORITHMS: alg }));
      let token: string;
      let s: bigint;
      do {
        const input = `${b64url({ alg, typ: "JWT", kid })}.${b64url(accessClaims(stub.issuer))}`;
        const signature = sign(digest, Buffer.from(input), { key: privateKey, dsaEncoding: "ieee-p1363" });
        token = `${input}.${signature.toString("base64url")}`;
        s = BigInt(`0x${signature.subarray(size).toString("hex")}`);
      } while (s > order >> 1n);
      await expect(verifier.verify(token)).resolves.toBeDefined();
      const [header, payload, signature] = token.split(".") as [string, string, string];
      const bytes = Buffer.from(signature, "base64url");
      const flipped = Buffer.from((order - s).toString(16).padStart(size * 2, "0"), "hex");
      expect(await rejectionCode(verifier, `${header}.${payload}.${Buffer.concat([bytes.subarray(0, size), flipped]).toString("base64url")}`)).toBe(
        "non_canonical_token",
      );
    } finally {
      await stub.close();
    }
  });

  test.each(["ed25519", "ed448"] as const)("EdDSA (%s) tokens verify", async (curve) => {
    const { privateKey, publicKey } = generateKeyPairSync(curve as "ed25519");
    const kid = randomUUID();
    const stub = await startIdpStub([{ ...(publicKey.export({ format: "jwk" }) as Record<string, string>), kid, alg: "EdDSA", use: "sig" }]);
    try {
      const verifier = createAccessTokenVerifier(testConfig(stub.issuer, { KEYCLOAK_ALGORITHMS: "EdDSA" }));
      const input = `${b64url({ alg: "EdDSA", typ: "JWT", kid })}.${b64url(accessClaims(stub.issuer))}`;
      const token = `${input}.${sign(null, Buffer.from(input), privateKey).toString("base64url")}`;
      await expect(verifier.verify(token)).resolves.toMatchObject({ kid });
    } finally {
      await stub.close();
    }
  });

  test("an RSA key with a public exponent of 1 verifies nothing (a hand-made 'signature' would pass otherwise)", async () => {
    const kid = randomUUID();
    const n = rsa.jwk.n as string;
    const stub = await startIdpStub([{ kty: "RSA", kid, alg: "RS256", use: "sig", n, e: "AQ" }]);
    try {
      const verifier = createAccessTokenVerifier(testConfig(stub.issuer));
      const input = `${b64url({ alg: "RS256", typ: "JWT", kid })}.${b64url(accessClaims(stub.issuer))}`;
      // With e = 1, s^e = s: the PKCS#1 v1.5 encoding of the digest is its own "signature".
      const digest = createHash("sha256").update(input).digest();
      const prefix = Buffer.from("3031300d060960864801650304020105000420", "hex");
      const length = Buffer.from(n, "base64url").length;
      const encoded = Buffer.concat([Buffer.from([0, 1]), Buffer.alloc(length - 3 - prefix.length - digest.length, 0xff), Buffer.from([0]), prefix, digest]);
      expect(await rejectionCode(verifier, `${input}.${encoded.toString("base64url")}`)).toBe("key_not_usable");
    } finally {
      await stub.close();
    }
  });

  test("a kid shared by an enc key and a signing key: the signing key verifies", async () => {
    const signing = generateRsaKey({ kid: "shared" });
    const encryption = generateRsaKey({ kid: "shared", use: "enc" });
    const stub = await startIdpStub([encryption.jwk, signing.jwk]);
    try {
      const verifier = createAccessTokenVerifier(testConfig(stub.issuer));
      await expect(verifier.verify(accessToken(signing, stub.issuer))).resolves.toMatchObject({ kid: "shared" });
      expect(await rejectionCode(verifier, accessToken(encryption, stub.issuer))).toBe("invalid_signature");
    } finally {
      await stub.close();
    }
  });

  test("finding 1 holds with the token cache on: a token of the withdrawn key is refused, not served from the cache", async () => {
    const old = generateRsaKey({ kid: "k" });
    const stub = await startIdpStub([old.jwk]);
    let now = Date.now();
    const jwksCache = new JwksCache({
      issuer: stub.issuer,
      fetchJson: createFetchJson({ timeoutMs: 2000, allowHttp: false }),
      maxAgeMs: 60_000,
      cooldownMs: 0,
      now: () => now,
    });
    try {
      const verifier = createAccessTokenVerifier(testConfig(stub.issuer), { jwksCache });
      const token = accessToken(old, stub.issuer);
      const first = await verifier.verify(token);
      expect(await verifier.verify(token)).toBe(first); // served from the token cache
      stub.setKeys([generateRsaKey({ kid: "k" }).jwk]);
      now += 61_000;
      expect(await rejectionCode(verifier, token)).toBe("invalid_signature");
    } finally {
      await stub.close();
    }
  });

  test.each([
    ["exp far beyond any date", { exp: 1e300 }],
    ["a negative exp", { exp: -1e300 }],
    ["nbf far beyond any date", { nbf: 1e300 }],
  ])("%s is a malformed token, never an internal error", async (_label, claims) => {
    const verifier = createAccessTokenVerifier(testConfig(idp.issuer));
    expect(await rejectionCode(verifier, accessToken(rsa, idp.issuer, { claims }))).toBe("malformed_token");
  });

  test("a payload that is not UTF-8 is refused (the claims handed on are exactly the signed bytes)", async () => {
    const verifier = createAccessTokenVerifier(testConfig(idp.issuer));
    const json = Buffer.concat([
      Buffer.from(JSON.stringify(accessClaims(idp.issuer)).slice(0, -1)),
      Buffer.from(',"name":"'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('"}'),
    ]);
    const input = `${b64url({ alg: "RS256", typ: "JWT", kid: rsa.kid })}.${json.toString("base64url")}`;
    expect(await rejectionCode(verifier, `${input}.${sign("sha256", Buffer.from(input), rsa.privateKey).toString("base64url")}`)).toBe("malformed_token");
  });

  test.each(["azp", "aud", "iss", "scope"])("KEYCLOAK_PRINCIPAL_CLAIM=%s is refused at cold start: callers share it", (claim) => {
    expect(() => testConfig(idp.issuer, { KEYCLOAK_PRINCIPAL_CLAIM: claim })).toThrow(ConfigError);
  });
});
