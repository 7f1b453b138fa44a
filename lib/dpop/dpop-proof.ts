/**
 * A DPoP proof (RFC 9449 section 4) checked for one request, every rule of section 4.3 but the
 * replay check (lib/dpop/replay-cache.ts, once this one passed): one compact JWS, no bigger than
 * MAX_PROOF_BYTES, decoded with the token decoder's strict rules; `typ` exactly `dpop+jwt`; an
 * `alg` from the allow-list (so never `none` or HS*); a public `jwk` that fits `alg`; `jti`,
 * `htm`, `htu`, `iat` and `ath` present; `htm` the request's method, `htu` its URL (normalised),
 * `iat` within the window, `ath` the hash of the access token; the key's RFC 7638 thumbprint the
 * token's `cnf.jkt`; and only then the signature.
 *
 * Cheapest first: everything but the last two steps is string work, the thumbprint one SHA-256,
 * so a hostile proof is refused for about the cost of parsing it, and the key material is judged
 * and converted only for the key the (already verified) token is bound to.
 */
import { constants, createHash, verify } from "node:crypto";
import {
  AuthorizerError,
  DpopProofAlgorithmNotAllowedError,
  DpopProofExpiredError,
  DpopProofInFutureError,
  DpopProofInvalidSignatureError,
  DpopProofKeyMismatchError,
  DpopProofMalformedError,
  DpopProofMethodMismatchError,
  DpopProofMissingClaimError,
  DpopProofTokenMismatchError,
  DpopProofTooLargeError,
  DpopProofUrlMismatchError,
  DpopProofWrongTypeError,
} from "../errors.js";
import { assertCanonical, decodeJwt, type DecodedJwt } from "../token/jwt-decoder.js";
import { verifyRsaPssWith } from "../token/rsa-pss-signature.js";
import { inspectProofKey, isEdDsa, ProofKeys, type ProofKey } from "./proof-key.js";
import { normalizedRequestUrl } from "./request-url.js";

/** Longer `DPoP` values are refused before any parsing (an RSA-8192 proof is under 5 KB). */
export const MAX_PROOF_BYTES = 8192;
/** Longer `jti` values are refused: the replay cache holds every one for the proof window. */
export const MAX_JTI_LENGTH = 256;

export interface DpopProofVerifierOptions {
  /** The `alg` allow-list. */
  readonly algorithms: readonly string[];
  /** How old `iat` may be, besides the skew. */
  readonly maxAgeSeconds: number;
  /** Leeway either side of the window. */
  readonly clockSkewSeconds: number;
}

/** What the proof must be bound to. */
export interface ProofExpectations {
  /** The request's method, as sent (`GET`). */
  readonly method: string;
  /** The request's URL, normalised (normalizedRequestUrl). */
  readonly url: string;
  /** The access token the request carries (for `ath`). */
  readonly accessToken: string;
  /** The token's `cnf.jkt`. */
  readonly jkt: string;
}

/** A proof that passed every rule but the replay check. */
export interface CheckedProof {
  readonly jti: string;
  /** The last moment (seconds since the epoch) this proof would still be accepted: its id must be remembered that long. */
  readonly acceptableUntil: number;
}

export interface DpopProofVerifier {
  /** Throws a TokenRejectedError (a `dpop_proof_*` code) for a proof that breaks a rule. */
  check(proof: string, expected: ProofExpectations, nowSeconds: number): CheckedProof;
}

const ECDSA_BYTES: Readonly<Record<string, number>> = { ES256: 32, ES384: 48, ES512: 66 };
const HASH: Readonly<Record<string, string>> = { RS256: "sha256", RS384: "sha384", RS512: "sha512", ES256: "sha256", ES384: "sha384", ES512: "sha512" };

export function createDpopProofVerifier(options: DpopProofVerifierOptions): DpopProofVerifier {
  const allowed: ReadonlySet<string> = new Set(options.algorithms);
  const keys = new ProofKeys();
  const oldest = options.maxAgeSeconds + options.clockSkewSeconds;
  return {
    check(proof, expected, nowSeconds) {
      if (proof.length > MAX_PROOF_BYTES) throw new DpopProofTooLargeError("DPoP proof exceeds the size cap");
      const decoded = decode(proof);
      const { header, payload } = decoded;
      if (header.typ !== "dpop+jwt") throw new DpopProofWrongTypeError("DPoP proof typ is not dpop+jwt");
      const alg = header.alg;
      if (typeof alg !== "string" || !allowed.has(alg)) throw new DpopProofAlgorithmNotAllowedError("DPoP proof alg is not in the allow-list");
      // RFC 7515 4.1.11: a recipient must reject `crit` it does not understand; we understand none.
      if (header.crit !== undefined) throw new DpopProofMalformedError("DPoP proof header has crit parameters");
      const inspected = inspectProofKey(header.jwk, alg);

      const { jti, iat } = payload;
      const { htm, htu, ath } = payload as { htm?: unknown; htu?: unknown; ath?: unknown };
      if (jti === undefined || jti === "" || htm === undefined || htu === undefined || iat === undefined || ath === undefined) {
        throw new DpopProofMissingClaimError("DPoP proof lacks one of jti, htm, htu, iat, ath");
      }
      if (jti.length > MAX_JTI_LENGTH || typeof htm !== "string" || typeof htu !== "string" || typeof ath !== "string") {
        throw new DpopProofMalformedError("DPoP proof jti, htm, htu or ath is not a string of sensible length");
      }
      if (htm !== expected.method) throw new DpopProofMethodMismatchError("DPoP proof htm is not the request's method");
      if (normalizedRequestUrl(htu) !== expected.url) throw new DpopProofUrlMismatchError("DPoP proof htu is not the request's URL");
      if (iat > nowSeconds + options.clockSkewSeconds) throw new DpopProofInFutureError("DPoP proof iat is in the future");
      if (iat < nowSeconds - oldest) throw new DpopProofExpiredError("DPoP proof iat is older than the proof window");
      if (ath !== createHash("sha256").update(expected.accessToken).digest("base64url")) {
        throw new DpopProofTokenMismatchError("DPoP proof ath is not the hash of this access token");
      }
      if (inspected.thumbprint !== expected.jkt) throw new DpopProofKeyMismatchError("DPoP proof key is not the key the token is bound to");
      if (!verifiesSafely(decoded, alg, keys.keyFor(inspected, alg))) throw new DpopProofInvalidSignatureError("DPoP proof signature does not verify");
      return { jti, acceptableUntil: iat + oldest };
    },
  };
}

function decode(proof: string): DecodedJwt {
  try {
    const decoded = decodeJwt(proof);
    assertCanonical(decoded);
    return decoded;
  } catch (cause) {
    if (cause instanceof AuthorizerError) throw new DpopProofMalformedError(`DPoP proof: ${cause.message}`, { cause });
    throw cause;
  }
}

/** OpenSSL may throw on input it cannot even parse as a signature: that is a bad signature too, never a 500. */
function verifiesSafely(decoded: DecodedJwt, alg: string, key: ProofKey): boolean {
  try {
    return signatureVerifies(decoded, alg, key);
  } catch {
    return false;
  }
}

/**
 * The JWS signature, by the proof's own key. ECDSA signatures are r || s of the curve's size (a
 * DER one is refused) and high S is accepted: a proof is used once, so its second spelling buys an
 * attacker nothing, and Java signers (Keycloak's adapters) do not normalise s.
 */
function signatureVerifies(decoded: DecodedJwt, alg: string, { key, rsaBytes }: ProofKey): boolean {
  const input = `${decoded.headerB64}.${decoded.payloadB64}`;
  const signature = Buffer.from(decoded.signatureB64, "base64url");
  if (alg.startsWith("PS")) return verifyRsaPssWith(alg, input, signature, key, rsaBytes);
  if (isEdDsa(alg)) return verify(null, Buffer.from(input), key, signature);
  const ecdsaBytes = ECDSA_BYTES[alg];
  if (ecdsaBytes !== undefined) {
    if (signature.length !== ecdsaBytes * 2) return false;
    return verify(HASH[alg] as string, Buffer.from(input), { key, dsaEncoding: "ieee-p1363" }, signature);
  }
  if (signature.length !== rsaBytes) return false;
  return verify(HASH[alg] as string, Buffer.from(input), { key, padding: constants.RSA_PKCS1_PADDING }, signature);
}
