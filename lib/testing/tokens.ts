/**
 * Keycloak-shaped access tokens for tests, signed with keys generated in the test: nothing secret
 * is committed, every run signs with new keys.
 */
import { generateKeyPairSync, randomUUID, sign, type KeyObject } from "node:crypto";

export interface TestKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  /** The public key as a realm's certs endpoint publishes it. */
  readonly jwk: Record<string, string>;
}

/**
 * A fresh RSA key (2048 bits, RS256, `use: sig` unless told otherwise). `keyPair` labels a pair
 * made elsewhere instead (a suite that makes its pairs ahead, in parallel: each takes ~150 ms).
 */
export function generateRsaKey(
  options: { kid?: string; use?: "sig" | "enc"; alg?: string; bits?: number; keyPair?: { privateKey: KeyObject; publicKey: KeyObject } } = {},
): TestKey {
  const { privateKey, publicKey } = options.keyPair ?? generateKeyPairSync("rsa", { modulusLength: options.bits ?? 2048 });
  const kid = options.kid ?? randomUUID();
  const exported = publicKey.export({ format: "jwk" }) as { n: string; e: string };
  return {
    kid,
    privateKey,
    jwk: { kid, kty: "RSA", alg: options.alg ?? (options.use === "enc" ? "RSA-OAEP" : "RS256"), use: options.use ?? "sig", n: exported.n, e: exported.e },
  };
}

/** base64url of a string, or of a value's JSON. */
export function b64url(value: unknown): string {
  return Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");
}

/** Sign header.payload with RSA PKCS#1 v1.5 (`sha256` for RS256, `sha384`, `sha512`) exactly as a JOSE library would. */
export function signJwt(header: Record<string, unknown>, payload: Record<string, unknown>, key: KeyObject, digest = "sha256"): string {
  const input = `${b64url(header)}.${b64url(payload)}`;
  return `${input}.${sign(digest, Buffer.from(input), key).toString("base64url")}`;
}

/** The audience the default claims carry (the demo realm's API client). */
export const TEST_AUDIENCE = "secured-api";

/**
 * Claims shaped like a Keycloak 26 access token of a password-grant login (user alice, realm roles
 * user and admin, client role secured-api/writer), valid for 300 s from now; `overrides` replace
 * claims, and a claim set to `undefined` is left out.
 */
export function keycloakAccessClaims(issuer: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    exp: now + 300,
    iat: now,
    jti: randomUUID(),
    iss: issuer,
    aud: [TEST_AUDIENCE, "account"],
    sub: "5c0f8e0e-1d1a-4e4b-9b0a-6d2b3f1e9a01",
    typ: "Bearer",
    azp: "api-client",
    sid: randomUUID(),
    scope: "openid profile email",
    realm_access: { roles: ["user", "admin"] },
    resource_access: { "secured-api": { roles: ["writer"] }, account: { roles: ["view-profile"] } },
    email_verified: true,
    name: "Alice Liddell",
    preferred_username: "alice",
    email: "alice@example.com",
    ...overrides,
  };
}

/** A signed Keycloak-style access token (RS256, `typ: JWT`, the key's kid); `header` and `claims` override the defaults. */
export function mintAccessToken(key: TestKey, issuer: string, options: { header?: Record<string, unknown>; claims?: Record<string, unknown> } = {}): string {
  return signJwt({ alg: "RS256", typ: "JWT", kid: key.kid, ...options.header }, keycloakAccessClaims(issuer, options.claims), key.privateKey);
}

/** A JWT's payload, decoded without verification (to compare with what an API returns). */
export function decodePayload<T = Record<string, unknown>>(token: string): T {
  return JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as T;
}
