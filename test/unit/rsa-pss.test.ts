/**
 * PS256, PS384, PS512 (RSASSA-PSS, RFC 7518 section 3.5) access tokens, which aws-jwt-verify does
 * not verify: under the same allow-list, key binding, claim checks and token cache as the other
 * algorithms, with RFC 7518's parameters exactly (salt as long as the hash) and one spelling per
 * signature.
 */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { constants, generateKeyPairSync, randomUUID, sign } from "node:crypto";
import { realmNameOf } from "../../lib/config/trusted-issuers.js";
import { createFetchJson } from "../../lib/keys/fetch-json.js";
import { realmJwksCache } from "../../lib/keys/realm-jwks.js";
import { createAccessTokenVerifier, type AccessTokenVerifier } from "../../lib/token/access-token-verifier.js";
import { createLogoutTokenVerifier } from "../../lib/token/logout-token-verifier.js";
import { logoutClaims } from "../helpers/logout-tokens.js";
import { testConfig } from "../helpers/config.js";
import { startIdpStub, type IdpStub } from "../helpers/idp-stub.js";
import { accessClaims, b64url, type TestKey } from "../helpers/tokens.js";
import { payloadOf, rejectionCode } from "../helpers/verification.js";

const PSS = { PS256: ["sha256", 32], PS384: ["sha384", 48], PS512: ["sha512", 64] } as const;
type PssAlg = keyof typeof PSS;

/** An RSA key published as a Keycloak `rsa-generated` provider with algorithm `alg` publishes it. */
function pssKey(alg: PssAlg | "RS256", bits = 2048): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: bits });
  const { n, e } = publicKey.export({ format: "jwk" }) as { n: string; e: string };
  const kid = randomUUID();
  return { kid, privateKey, jwk: { kid, kty: "RSA", alg, use: "sig", n, e } };
}

function pssToken(key: TestKey, issuer: string, alg: PssAlg, options: { claims?: Record<string, unknown>; saltLength?: number } = {}): string {
  const input = `${b64url({ alg, typ: "JWT", kid: key.kid })}.${b64url(accessClaims(issuer, options.claims))}`;
  const [hash, saltLength] = PSS[alg];
  const signature = sign(hash, Buffer.from(input), {
    key: key.privateKey,
    padding: constants.RSA_PKCS1_PSS_PADDING,
    saltLength: options.saltLength ?? saltLength,
  });
  return `${input}.${signature.toString("base64url")}`;
}

let idp: IdpStub;
const keys = {} as Record<PssAlg | "RS256", TestKey>;
let verifier: AccessTokenVerifier;

beforeAll(async () => {
  for (const alg of ["PS256", "PS384", "PS512", "RS256"] as const) keys[alg] = pssKey(alg);
  idp = await startIdpStub(Object.values(keys).map((key) => key.jwk));
  verifier = createAccessTokenVerifier(testConfig(idp.issuer, { KEYCLOAK_ALGORITHMS: "RS256,PS256,PS384,PS512" }));
});
afterAll(() => idp.close());

describe.each(Object.keys(PSS) as PssAlg[])("%s", (alg) => {
  test("a token signed by the realm's key is accepted with exactly its claims", async () => {
    const token = pssToken(keys[alg], idp.issuer, alg, { claims: { nested: { list: [1, "two", null] } } });
    const verified = await verifier.verify(token);
    expect(verified.claims).toEqual(payloadOf(token));
    expect(verified.kid).toBe(keys[alg].kid);
    // The token cache holds PS* tokens as any other: the second time is the same answer, no crypto.
    await expect(verifier.verify(token)).resolves.toBe(verified);
  });

  test("a tampered payload, a foreign key, or a salt other than the hash's length is invalid_signature", async () => {
    const [header, , signature] = pssToken(keys[alg], idp.issuer, alg).split(".");
    expect(await rejectionCode(verifier, `${header}.${b64url(accessClaims(idp.issuer, { sub: "attacker" }))}.${signature}`)).toBe("invalid_signature");
    expect(await rejectionCode(verifier, pssToken({ ...pssKey(alg), kid: keys[alg].kid }, idp.issuer, alg))).toBe("invalid_signature");
    // RFC 7518 3.5: the salt is as long as the hash output; OpenSSL's "auto" would take any.
    expect(await rejectionCode(verifier, pssToken(keys[alg], idp.issuer, alg, { saltLength: 0 }))).toBe("invalid_signature");
    expect(await rejectionCode(verifier, pssToken(keys[alg], idp.issuer, alg, { saltLength: constants.RSA_PSS_SALTLEN_MAX_SIGN }))).toBe("invalid_signature");
  });

  test("the claim checks run as for every algorithm: expired, foreign audience, wrong typ", async () => {
    const now = Math.floor(Date.now() / 1000);
    expect(await rejectionCode(verifier, pssToken(keys[alg], idp.issuer, alg, { claims: { exp: now - 120, iat: now - 600 } }))).toBe("token_expired");
    expect(await rejectionCode(verifier, pssToken(keys[alg], idp.issuer, alg, { claims: { aud: "account" } }))).toBe("invalid_audience");
    expect(await rejectionCode(verifier, pssToken(keys[alg], idp.issuer, alg, { claims: { typ: "ID" } }))).toBe("invalid_token_type");
  });
});

describe("key binding and the allow-list", () => {
  test("PS* is refused unless KEYCLOAK_ALGORITHMS lists it", async () => {
    const rsOnly = createAccessTokenVerifier(testConfig(idp.issuer));
    expect(await rejectionCode(rsOnly, pssToken(keys.PS256, idp.issuer, "PS256"))).toBe("algorithm_not_allowed");
  });

  test("a key published for PS256 verifies neither PS384 nor RS256 under its kid; an RS256 key no PS256", async () => {
    expect(await rejectionCode(verifier, pssToken(keys.PS256, idp.issuer, "PS384"))).toBe("key_algorithm_mismatch");
    const rs256Header = `${b64url({ alg: "RS256", typ: "JWT", kid: keys.PS256.kid })}.${b64url(accessClaims(idp.issuer))}`;
    const rs256 = `${rs256Header}.${sign("sha256", Buffer.from(rs256Header), keys.PS256.privateKey).toString("base64url")}`;
    expect(await rejectionCode(verifier, rs256)).toBe("key_algorithm_mismatch");
    expect(await rejectionCode(verifier, pssToken(keys.RS256, idp.issuer, "PS256"))).toBe("key_algorithm_mismatch");
  });

  test("an RSA key without an alg label verifies PS256 (the key type allows it), as Keycloak's JWKS may publish", async () => {
    const unlabelled = pssKey("PS256");
    const { alg: _alg, ...jwk } = unlabelled.jwk;
    const stub = await startIdpStub([jwk]);
    try {
      const any = createAccessTokenVerifier(testConfig(stub.issuer, { KEYCLOAK_ALGORITHMS: "PS256" }));
      await expect(any.verify(pssToken(unlabelled, stub.issuer, "PS256"))).resolves.toBeDefined();
    } finally {
      await stub.close();
    }
  });

  test("RSA keys under 2048 bits verify no PS* token either", async () => {
    const weak = pssKey("PS256", 1024);
    const stub = await startIdpStub([weak.jwk]);
    try {
      const strict = createAccessTokenVerifier(testConfig(stub.issuer, { KEYCLOAK_ALGORITHMS: "PS256" }));
      expect(await rejectionCode(strict, pssToken(weak, stub.issuer, "PS256"))).toBe("key_not_usable");
    } finally {
      await stub.close();
    }
  });
});

describe("one spelling per signature", () => {
  test("a PSS signature with its leading zero byte left out is refused, though OpenSSL alone would accept it", async () => {
    // About one signature in 256 starts with a zero byte: sign until one does.
    let token = "";
    for (let i = 0; i < 5000 && token === ""; i++) {
      const candidate = pssToken(keys.PS256, idp.issuer, "PS256", { claims: { attempt: i } });
      const signature = Buffer.from(candidate.split(".")[2] as string, "base64url");
      if (signature[0] === 0) token = candidate;
    }
    expect(token).not.toBe("");
    await expect(verifier.verify(token)).resolves.toBeDefined();
    const [header, payload, signature] = token.split(".") as [string, string, string];
    const shortened = Buffer.from(signature, "base64url").subarray(1).toString("base64url");
    expect(await rejectionCode(verifier, `${header}.${payload}.${shortened}`)).toBe("invalid_signature");
  });
});

describe("logout tokens of a PS256 realm (the back-channel logout receiver)", () => {
  test("a PS256 logout token verifies; tampered, it is invalid_signature", async () => {
    const realm = { issuer: idp.issuer, name: realmNameOf(idp.issuer), fromPattern: false };
    const keysOfRealm = realmJwksCache(
      realm,
      { jwksUri: undefined, jwksMaxAgeSeconds: 300, jwksCooldownSeconds: 0, jwksMaxStaleSeconds: 0 },
      createFetchJson({ timeoutMs: 2000, allowHttp: true }),
    );
    const logouts = createLogoutTokenVerifier({
      realmOf: (iss) => (iss === idp.issuer ? { realm, keys: keysOfRealm } : undefined),
      clients: ["api-client"],
      algorithms: ["PS256"],
      clockSkewSeconds: 30,
      maxAgeSeconds: 120,
      ecdsaAllowHighS: false,
    });
    const input = `${b64url({ alg: "PS256", typ: "logout+jwt", kid: keys.PS256.kid })}.${b64url(logoutClaims(idp.issuer))}`;
    const signature = sign("sha256", Buffer.from(input), { key: keys.PS256.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
    const token = `${input}.${signature.toString("base64url")}`;
    await expect(logouts.verify(token)).resolves.toMatchObject({ issuer: idp.issuer, sub: "5c0f8e0e-1d1a-4e4b-9b0a-6d2b3f1e9a01" });
    const forged = `${b64url({ alg: "PS256", typ: "logout+jwt", kid: keys.PS256.kid })}.${b64url(logoutClaims(idp.issuer, { sub: "someone-else" }))}.${signature.toString("base64url")}`;
    await expect(logouts.verify(forged)).rejects.toMatchObject({ code: "invalid_signature" });
  });
});
