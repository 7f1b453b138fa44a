/**
 * Which published keys may verify which tokens. Decided from the key material itself (`kty`,
 * `crv`, modulus size), never from a label alone: a JWK's `alg`, when present, narrows what the
 * key may verify but must agree with its type, and a token's `alg` must fit the key it names.
 */
import { createHash, createPublicKey } from "node:crypto";

/** Why a published key is never used, or undefined when it can verify signatures. */
export type KeyProblem = "not_a_signing_key" | "weak_rsa_key" | "alg_disagrees_with_key" | "unsupported_key_type" | "invalid_key_material";

/** The algorithms a key of this type can verify, before its own `alg` narrows them. */
const BY_KEY_TYPE: Readonly<Record<string, readonly string[]>> = {
  RSA: ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"],
  "EC:P-256": ["ES256"],
  "EC:P-384": ["ES384"],
  "EC:P-521": ["ES512"],
  "OKP:Ed25519": ["EdDSA"],
  "OKP:Ed448": ["EdDSA"],
};

/** RFC 8725 section 3.5 / NIST SP 800-131A: RSA keys below 2048 bits are not trusted. */
export const MIN_RSA_MODULUS_BITS = 2048;

export interface KeyVerdict {
  /** The token algorithms this key may verify (empty when `problem` is set). */
  readonly algorithms: ReadonlySet<string>;
  readonly problem: KeyProblem | undefined;
}

type JwkLike = Readonly<Record<string, unknown>>;

/** What a published JWK may verify. */
export function judgeKey(jwk: JwkLike): KeyVerdict {
  const refuse = (problem: KeyProblem): KeyVerdict => ({ algorithms: new Set(), problem });
  if (jwk.use !== undefined && jwk.use !== "sig") return refuse("not_a_signing_key");
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes("verify"))) return refuse("not_a_signing_key");
  const type = jwk.kty === "RSA" ? "RSA" : `${String(jwk.kty)}:${String(jwk.crv)}`;
  const possible = BY_KEY_TYPE[type];
  if (possible === undefined) return refuse("unsupported_key_type");
  if (jwk.kty === "RSA" && !(typeof jwk.n === "string" && rsaModulusBits(jwk.n) >= MIN_RSA_MODULUS_BITS && sensibleExponent(jwk.e, jwk.n)))
    return refuse("weak_rsa_key");
  // The material must make a key at all (an EC point on its curve, say): judged once, here,
  // rather than failing inside every verification.
  try {
    createPublicKey({ key: jwk as never, format: "jwk" });
  } catch {
    return refuse("invalid_key_material");
  }
  if (jwk.kty === "OKP" && isSmallOrderEdwardsPoint(jwk.crv, jwk.x)) return refuse("invalid_key_material");
  if (jwk.alg === undefined) return { algorithms: new Set(possible), problem: undefined };
  // A label that contradicts the material (an EC key marked RS256) means the JWKS is wrong: such a
  // key verifies nothing rather than whatever its label or the token claims.
  if (typeof jwk.alg !== "string" || !possible.includes(jwk.alg)) return refuse("alg_disagrees_with_key");
  return { algorithms: new Set([jwk.alg]), problem: undefined };
}

/**
 * RFC 7638 JWK thumbprint (SHA-256, base64url) over the key's required members: the identity of
 * the key material, whatever `kid` it is published under.
 */
export function jwkThumbprint(jwk: JwkLike): string {
  const members =
    jwk.kty === "RSA"
      ? { e: jwk.e, kty: jwk.kty, n: jwk.n }
      : jwk.kty === "EC"
        ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }
        : { crv: jwk.crv, kty: jwk.kty, x: jwk.x };
  return createHash("sha256").update(JSON.stringify(members)).digest("base64url");
}

/** An odd public exponent from 3 to below the modulus: e = 1 would make every "signature" verify. */
function sensibleExponent(e: unknown, n: string): boolean {
  if (typeof e !== "string" || !/^[A-Za-z0-9_-]+$/.test(e)) return false;
  const exponent = BigInt(`0x${Buffer.from(e, "base64url").toString("hex") || "0"}`);
  const modulus = BigInt(`0x${Buffer.from(n, "base64url").toString("hex") || "0"}`);
  return exponent >= 3n && exponent % 2n === 1n && exponent < modulus;
}

export function rsaModulusBits(n: string): number {
  const bytes = Buffer.from(n, "base64url");
  let leading = 0;
  while (leading < bytes.length && bytes[leading] === 0) leading += 1;
  const first = bytes[leading] ?? 0;
  return first === 0 ? 0 : (bytes.length - leading - 1) * 8 + (32 - Math.clz32(first));
}

/** Curve orders (SEC 2 / FIPS 186-4), for the canonical-signature rule below. */
const CURVES: Readonly<Record<string, { readonly bytes: number; readonly order: bigint }>> = {
  ES256: { bytes: 32, order: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n },
  ES384: { bytes: 48, order: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n },
  ES512: {
    bytes: 66,
    order: 0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
  },
};

/**
 * ECDSA signatures are malleable: if (r, s) verifies, so does (r, n - s). Two token strings for
 * the same claims would defeat anything keyed by the token (a deny-list, a cache). The canonical
 * form is the one with s <= n / 2 ("low S", as in BIP 62 and RFC 6979 implementations); with
 * `allowHighS` both are accepted (Java signers such as Keycloak's do not normalise s).
 * Returns false for a signature that is not exactly r || s of the curve's size, or not canonical.
 */
export function isCanonicalEcdsaSignature(alg: string, signature: Buffer, allowHighS: boolean): boolean {
  const curve = CURVES[alg];
  if (curve === undefined) return true;
  if (signature.length !== curve.bytes * 2) return false;
  const r = BigInt(`0x${signature.subarray(0, curve.bytes).toString("hex")}`);
  const s = BigInt(`0x${signature.subarray(curve.bytes).toString("hex")}`);
  if (r === 0n || s === 0n || r >= curve.order || s >= curve.order) return false;
  return allowHighS || s <= curve.order >> 1n;
}

/**
 * Ed25519 and Ed448 public keys of small order (the identity, points of order 2, 4 or 8, and their
 * non-canonical encodings): with such a key, signatures made without any private key verify (a
 * zero signature, say). OpenSSL accepts them, so they are refused here, as libsodium does.
 */
const ED25519_P = 2n ** 255n - 19n;
const ED25519_Y8 = 0x7a03ac9277fdc74ec6cc392cfa53202a0f67100d760b3cba4fd84d3d706a17c7n;
const ED448_P = 2n ** 448n - 2n ** 224n - 1n;
const SMALL_ORDER_Y: Readonly<Record<string, { readonly bytes: number; readonly ys: ReadonlySet<bigint> }>> = {
  Ed25519: { bytes: 32, ys: new Set([0n, 1n, ED25519_P - 1n, ED25519_P, ED25519_P + 1n, ED25519_Y8, ED25519_P - ED25519_Y8]) },
  Ed448: { bytes: 57, ys: new Set([0n, 1n, ED448_P - 1n, ED448_P, ED448_P + 1n]) },
};

export function isSmallOrderEdwardsPoint(crv: unknown, x: unknown): boolean {
  const curve = typeof crv === "string" ? SMALL_ORDER_Y[crv] : undefined;
  if (curve === undefined || typeof x !== "string") return false;
  const encoded = Buffer.from(x, "base64url");
  if (encoded.length !== curve.bytes) return false;
  // Little-endian y; the top bit of the last byte is x's sign (Ed448: the whole last byte).
  const y = Buffer.from(encoded);
  if (curve.bytes === 57) y[56] = 0;
  else y[31] = (y[31] as number) & 0x7f;
  const value = BigInt(`0x${Buffer.from(y).reverse().toString("hex") || "0"}`);
  return curve.ys.has(value);
}
