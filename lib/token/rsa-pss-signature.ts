/**
 * RSASSA-PSS JWS signatures (PS256, PS384, PS512; RFC 7518 section 3.5) with node:crypto, which
 * aws-jwt-verify does not verify. RFC 7518 fixes the parameters: MGF1 with the same hash, and a
 * salt as long as the hash output; OpenSSL is told exactly that salt length, so signatures made
 * with any other (or OpenSSL's "auto") are refused.
 *
 * One spelling per signature: OpenSSL accepts a PSS signature with its leading zero bytes left
 * out (RSA_public_decrypt pads it back), which would give a token a second valid string; only a
 * signature exactly as long as the modulus is verified, as for RS* (where OpenSSL checks it).
 */
import { constants, createPublicKey, verify, type KeyObject } from "node:crypto";
import { rsaModulusBits } from "../keys/key-rules.js";

const PSS: Readonly<Record<string, { readonly hash: string; readonly saltLength: number }>> = {
  PS256: { hash: "sha256", saltLength: 32 },
  PS384: { hash: "sha384", saltLength: 48 },
  PS512: { hash: "sha512", saltLength: 64 },
};

export function isRsaPssAlgorithm(alg: string): boolean {
  return Object.hasOwn(PSS, alg);
}

/** A key converted once per JWK object (the key set's objects live as long as the key set). */
const converted = new WeakMap<object, { readonly key: KeyObject; readonly bytes: number }>();

function publicKeyOf(jwk: Readonly<Record<string, unknown>>): { readonly key: KeyObject; readonly bytes: number } {
  let entry = converted.get(jwk);
  if (entry === undefined) {
    entry = { key: createPublicKey({ key: jwk as never, format: "jwk" }), bytes: Math.ceil(rsaModulusBits(String(jwk.n)) / 8) };
    converted.set(jwk, entry);
  }
  return entry;
}

/**
 * True when `signature` is a PS256/384/512 signature of `signingInput` by the RSA key `jwk`.
 * The key's type and size, and that `alg` fits it, are the key rules' business (lib/keys).
 */
export function verifyRsaPss(alg: string, signingInput: string, signature: Buffer, jwk: Readonly<Record<string, unknown>>): boolean {
  const { key, bytes } = publicKeyOf(jwk);
  return verifyRsaPssWith(alg, signingInput, signature, key, bytes);
}

/** The same, with the key already converted; `modulusBytes` is the length every signature must have. */
export function verifyRsaPssWith(alg: string, signingInput: string, signature: Buffer, key: KeyObject, modulusBytes: number): boolean {
  const parameters = PSS[alg];
  if (parameters === undefined || signature.length !== modulusBytes) return false;
  return verify(parameters.hash, Buffer.from(signingInput), { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: parameters.saltLength }, signature);
}
