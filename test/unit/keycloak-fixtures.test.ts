import { afterEach, describe, expect, jest, test } from "@jest/globals";
import { createPublicKey, createVerify } from "node:crypto";
import { readFileSync } from "node:fs";
import { createAccessTokenVerifier } from "../../lib/token/access-token-verifier.js";
import { TokenRejectedError, type ErrorCode } from "../../lib/errors.js";
import { startIdpStub, type IdpStub } from "../helpers/idp-stub.js";
import { testConfig } from "../helpers/config.js";
import { accessToken, generateRsaKey } from "../helpers/tokens.js";

// Tokens and certs documents issued by real Keycloak servers (see each file's `source`). They are
// long expired, so the clock is frozen at each token's `iat` to get past `exp`.
interface Fixture {
  token: string;
  iat: number;
  claims: { iss: string };
  jwks?: { keys: Record<string, unknown>[] };
  pem?: string;
}
const fixture = (name: string): Fixture => JSON.parse(readFileSync(new URL(`../fixtures/keycloak-real/${name}`, import.meta.url), "utf8")) as Fixture;

/** A certs document for a fixture: its own, or one built from its PEM under the token's kid. */
function certsOf(item: Fixture): Record<string, unknown>[] {
  if (item.jwks !== undefined) return item.jwks.keys;
  const header = JSON.parse(Buffer.from(item.token.split(".")[0] as string, "base64url").toString()) as { kid?: string };
  const jwk = createPublicKey(item.pem as string).export({ format: "jwk" });
  return [{ ...jwk, kid: header.kid ?? "no-kid", alg: "RS256", use: "sig" }];
}

let stub: IdpStub | undefined;
afterEach(async () => {
  jest.useRealTimers();
  await stub?.close();
  stub = undefined;
});

/**
 * Serve the fixture's keys under its issuer's realm path and verify at the token's `iat`.
 * The stub lives on loopback, so its issuer differs from the token's: the token's own issuer is
 * configured and discovery is bypassed with KEYCLOAK_JWKS_URI.
 */
async function verifyAtIat(name: string, env: Record<string, string>): Promise<ErrorCode | "accepted"> {
  const item = fixture(name);
  stub = await startIdpStub(certsOf(item));
  const verifier = createAccessTokenVerifier(testConfig(item.claims.iss, { KEYCLOAK_JWKS_URI: stub.jwksUri, ...env }));
  jest.useFakeTimers({ now: item.iat * 1000, doNotFake: ["setTimeout", "clearTimeout", "setImmediate", "nextTick", "queueMicrotask", "setInterval"] });
  try {
    await verifier.verify(item.token);
    return "accepted";
  } catch (error) {
    expect(error).toBeInstanceOf(TokenRejectedError);
    return (error as TokenRejectedError).code;
  }
}

describe("real Keycloak tokens", () => {
  test("a 2025 service-account token verifies against its realm's certs (sig + RSA-OAEP enc key, x5c) and is refused only for its missing aud", async () => {
    expect(await verifyAtIat("bcgov-kong-e2e-access-token.json", {})).toBe("invalid_audience");
    // The audience is checked before the signature, so prove the signature on its own: the
    // realm's signing key from the same certs document verifies it, the enc key beside it not.
    const item = fixture("bcgov-kong-e2e-access-token.json");
    const [header, payload, signature] = item.token.split(".") as [string, string, string];
    const { kid } = JSON.parse(Buffer.from(header, "base64url").toString()) as { kid: string };
    const jwk = certsOf(item).find((candidate) => candidate.kid === kid && candidate.use !== "enc");
    expect(jwk).toBeDefined();
    const valid = createVerify("sha256")
      .update(`${header}.${payload}`)
      .verify(createPublicKey({ key: jwk as never, format: "jwk" }), Buffer.from(signature, "base64url"));
    expect(valid).toBe(true);
  });

  test("the same token is expired on today's clock", async () => {
    const item = fixture("bcgov-kong-e2e-access-token.json");
    stub = await startIdpStub(certsOf(item));
    const verifier = createAccessTokenVerifier(testConfig(item.claims.iss, { KEYCLOAK_JWKS_URI: stub.jwksUri }));
    await expect(verifier.verify(item.token)).rejects.toMatchObject({ code: "token_expired" });
  });

  test("a genuine ID token (typ ID) is refused even with iss, aud and clock all matching", async () => {
    expect(await verifyAtIat("hanyangkuo-demo-id-token.json", { KEYCLOAK_AUDIENCE: "demoapp" })).toBe("invalid_token_type");
  });

  test("an access token signed by a 1024-bit realm key is refused even with every claim matching", async () => {
    expect(await verifyAtIat("kc-testsuite-introspection-access-token.json", { KEYCLOAK_AUDIENCE: "test-app" })).toBe("key_not_usable");
  });

  test("a Keycloak 1.x token without kid is refused", async () => {
    const item = fixture("aerogear-shoot-realm-access-token.json");
    stub = await startIdpStub(certsOf(item));
    const verifier = createAccessTokenVerifier(testConfig("https://keycloak.example.com/realms/shoot-realm", { KEYCLOAK_JWKS_URI: stub.jwksUri }));
    await expect(verifier.verify(item.token)).rejects.toMatchObject({ code: "missing_kid" });
  });

  test("a certs document with only an enc key verifies nothing", async () => {
    const item = fixture("jwks-pyjwt-keycloak-enc-only.json");
    stub = await startIdpStub(item.jwks?.keys ?? []);
    const verifier = createAccessTokenVerifier(testConfig(stub.issuer));
    const encKid = String(item.jwks?.keys[0]?.kid);
    // Today's tokens with valid claims, so that only the key is in question.
    const signer = generateRsaKey({ kid: encKid });
    await expect(verifier.verify(accessToken(signer, stub.issuer))).rejects.toMatchObject({ code: "key_not_usable" });
    await expect(verifier.verify(accessToken(generateRsaKey(), stub.issuer))).rejects.toMatchObject({ code: "unknown_kid" });
  });
});
