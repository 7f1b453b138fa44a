/**
 * The public key a DPoP proof carries in its `jwk` header (RFC 9449 section 4.2): which ones may
 * sign a proof, its RFC 7638 thumbprint (what `cnf.jkt` binds a token to), and the key object
 * that verifies the signature.
 *
 * Two steps, so that a hostile proof costs little: `inspectProofKey` is structural only (no
 * private or symmetric material, the members `alg` needs, as base64url strings) and computes the
 * thumbprint; the key material itself (an RSA modulus of 2048 to 8192 bits with a sane exponent,
 * an EC point on its curve) is judged and converted by `ProofKeys.keyFor` only for a key that the
 * token is bound to, once per key, remembered by its thumbprint.
 */
import { createPublicKey, type KeyObject } from "node:crypto";
import { DpopProofKeyInvalidError } from "../errors.js";
import { judgeKey, jwkThumbprint, rsaModulusBits } from "../keys/key-rules.js";

/** Members that only private (or symmetric) JWKs have: a proof carrying one leaks its key. */
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] as const;

/** What each proof algorithm needs of its key: the type, the curve, the members that make the key. */
const KEY_SHAPE: Readonly<Record<string, { readonly kty: string; readonly crv?: readonly string[]; readonly members: readonly string[] }>> = {
  RS256: { kty: "RSA", members: ["n", "e"] },
  RS384: { kty: "RSA", members: ["n", "e"] },
  RS512: { kty: "RSA", members: ["n", "e"] },
  PS256: { kty: "RSA", members: ["n", "e"] },
  PS384: { kty: "RSA", members: ["n", "e"] },
  PS512: { kty: "RSA", members: ["n", "e"] },
  ES256: { kty: "EC", crv: ["P-256"], members: ["x", "y"] },
  ES384: { kty: "EC", crv: ["P-384"], members: ["x", "y"] },
  ES512: { kty: "EC", crv: ["P-521"], members: ["x", "y"] },
  EdDSA: { kty: "OKP", crv: ["Ed25519", "Ed448"], members: ["x"] },
  Ed25519: { kty: "OKP", crv: ["Ed25519"], members: ["x"] },
  Ed448: { kty: "OKP", crv: ["Ed448"], members: ["x"] },
};

/** RFC 9864's fully-specified EdDSA names are EdDSA to the key rules (lib/keys/key-rules.ts), which know a key's curve. */
const KEY_RULES_NAME: Readonly<Record<string, string>> = { Ed25519: "EdDSA", Ed448: "EdDSA" };

/** EdDSA under any of its names (`EdDSA`, `Ed25519`, `Ed448`): a signature over the message itself, no hash named. */
export const isEdDsa = (alg: string): boolean => (KEY_RULES_NAME[alg] ?? alg) === "EdDSA";

/** RSA proof keys above this are refused: nobody needs them, and each verification would cost more. */
export const MAX_RSA_PROOF_KEY_BITS = 8192;

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** A proof key that passed the structural rules: the JWK as sent and its thumbprint. */
export interface InspectedProofKey {
  readonly jwk: Readonly<Record<string, unknown>>;
  readonly thumbprint: string;
}

/** A proof key ready to verify with. */
export interface ProofKey {
  readonly key: KeyObject;
  /** RSA: the modulus length in bytes, which every signature must have; 0 otherwise. */
  readonly rsaBytes: number;
}

/** The structural rules, and the thumbprint. Throws DpopProofKeyInvalidError. */
export function inspectProofKey(jwk: unknown, alg: string): InspectedProofKey {
  if (typeof jwk !== "object" || jwk === null || Array.isArray(jwk)) throw new DpopProofKeyInvalidError("proof header has no jwk object");
  const key = jwk as Readonly<Record<string, unknown>>;
  for (const member of PRIVATE_MEMBERS) {
    if (Object.hasOwn(key, member)) throw new DpopProofKeyInvalidError(`proof jwk carries private or symmetric key material (${member})`);
  }
  const shape = KEY_SHAPE[alg];
  if (shape === undefined || key.kty !== shape.kty) throw new DpopProofKeyInvalidError("proof jwk's kty does not fit the proof's alg");
  if (shape.crv !== undefined && !shape.crv.includes(key.crv as string)) throw new DpopProofKeyInvalidError("proof jwk's crv does not fit the proof's alg");
  for (const member of shape.members) {
    const value = key[member];
    if (typeof value !== "string" || !BASE64URL.test(value)) throw new DpopProofKeyInvalidError(`proof jwk's ${member} is not base64url`);
  }
  // A label, when present, must agree: a key marked for another algorithm, or for encryption, signs no proof.
  // RFC 9864: a key labelled EdDSA (the older, curve-generic name) may sign as Ed25519 or Ed448.
  if (key.alg !== undefined && key.alg !== alg && !(key.alg === "EdDSA" && KEY_RULES_NAME[alg] === "EdDSA")) {
    throw new DpopProofKeyInvalidError("proof jwk's alg differs from the proof's alg");
  }
  if (key.use !== undefined && key.use !== "sig") throw new DpopProofKeyInvalidError("proof jwk is not a signing key (use)");
  if (key.key_ops !== undefined && !(Array.isArray(key.key_ops) && key.key_ops.includes("verify"))) {
    throw new DpopProofKeyInvalidError("proof jwk is not a verification key (key_ops)");
  }
  return { jwk: key, thumbprint: jwkThumbprint(key) };
}

/**
 * Proof keys judged and converted once, by thumbprint: a client signs every proof with the same
 * key. The thumbprint is a SHA-256 over exactly the members that make the key, so one thumbprint
 * is one key. Bounded: past `maxEntries` the memo starts over (still correct).
 */
export class ProofKeys {
  private readonly known = new Map<string, ProofKey>();
  constructor(private readonly maxEntries = 1000) {}

  /** The key to verify with; throws DpopProofKeyInvalidError for material that is weak or not a key. */
  keyFor(inspected: InspectedProofKey, alg: string): ProofKey {
    const memo = `${alg} ${inspected.thumbprint}`;
    const found = this.known.get(memo);
    if (found !== undefined) return found;
    const { jwk } = inspected;
    const verdict = judgeKey(jwk);
    if (verdict.problem !== undefined || !verdict.algorithms.has(KEY_RULES_NAME[alg] ?? alg)) {
      throw new DpopProofKeyInvalidError(`proof jwk cannot verify ${alg} (${verdict.problem ?? "alg_disagrees_with_key"})`);
    }
    const rsaBits = jwk.kty === "RSA" ? rsaModulusBits(jwk.n as string) : 0;
    if (rsaBits > MAX_RSA_PROOF_KEY_BITS) throw new DpopProofKeyInvalidError(`proof jwk is an RSA key of ${rsaBits} bits, above ${MAX_RSA_PROOF_KEY_BITS}`);
    const members =
      jwk.kty === "RSA"
        ? { kty: "RSA", n: jwk.n, e: jwk.e }
        : jwk.kty === "EC"
          ? { kty: "EC", crv: jwk.crv, x: jwk.x, y: jwk.y }
          : { kty: "OKP", crv: jwk.crv, x: jwk.x };
    const key: ProofKey = { key: createPublicKey({ key: members as never, format: "jwk" }), rsaBytes: Math.ceil(rsaBits / 8) };
    if (this.known.size >= this.maxEntries) this.known.clear();
    this.known.set(memo, key);
    return key;
  }
}
