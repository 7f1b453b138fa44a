/**
 * DPoP (RFC 9449) as a client does it, for the tests: a key pair generated in the run, its RFC 7638
 * thumbprint (what a token bound to it carries as `cnf.jkt`), and proofs signed with it for one
 * request each. Every part of a proof can be overridden or left out, for the hostile ones.
 */
import { constants, createHash, generateKeyPairSync, randomUUID, sign, type KeyObject } from "node:crypto";
import { b64url } from "./tokens.js";

export type ProofAlgorithm = "ES256" | "ES384" | "ES512" | "RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512" | "EdDSA" | "Ed25519" | "Ed448";

export interface DpopKey {
  readonly alg: ProofAlgorithm;
  readonly privateKey: KeyObject;
  /** The public JWK as a proof header carries it. */
  readonly jwk: Record<string, string>;
  /** RFC 7638 SHA-256 thumbprint, base64url: a bound token's `cnf.jkt`. */
  readonly thumbprint: string;
}

const CURVE: Record<string, string> = { ES256: "P-256", ES384: "P-384", ES512: "P-521" };
const HASH: Record<string, string> = { 256: "sha256", 384: "sha384", 512: "sha512" };

/** A fresh proof key for `alg` (EdDSA: Ed25519). */
export function generateDpopKey(alg: ProofAlgorithm = "ES256", options: { rsaBits?: number } = {}): DpopKey {
  const pair =
    alg === "EdDSA" || alg === "Ed25519"
      ? generateKeyPairSync("ed25519")
      : alg === "Ed448"
        ? generateKeyPairSync("ed448")
        : alg.startsWith("ES")
          ? generateKeyPairSync("ec", { namedCurve: CURVE[alg] as string })
          : generateKeyPairSync("rsa", { modulusLength: options.rsaBits ?? 2048 });
  const exported = pair.publicKey.export({ format: "jwk" }) as Record<string, string>;
  return { alg, privateKey: pair.privateKey, jwk: exported, thumbprint: thumbprintOf(exported) };
}

/** RFC 7638: the required members, in lexicographic order, no whitespace, SHA-256, base64url. */
export function thumbprintOf(jwk: Record<string, string>): string {
  const members =
    jwk.kty === "RSA"
      ? { e: jwk.e, kty: jwk.kty, n: jwk.n }
      : jwk.kty === "EC"
        ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }
        : { crv: jwk.crv, kty: jwk.kty, x: jwk.x };
  return createHash("sha256").update(JSON.stringify(members)).digest("base64url");
}

/** base64url(SHA-256(token)): a proof's `ath`. */
export const accessTokenHash = (token: string): string => createHash("sha256").update(token).digest("base64url");

/** The JWS signature of `input` by `key` under `alg`, as a JOSE library makes it. */
export function jwsSignature(alg: string, key: KeyObject, input: string): Buffer {
  const data = Buffer.from(input);
  if (alg === "EdDSA" || alg === "Ed25519" || alg === "Ed448") return sign(null, data, key);
  const hash = HASH[alg.slice(2)] as string;
  if (alg.startsWith("ES")) return sign(hash, data, { key, dsaEncoding: "ieee-p1363" });
  if (alg.startsWith("PS")) return sign(hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(alg.slice(2)) / 8 });
  return sign(hash, data, key);
}

export interface ProofOptions {
  readonly htm: string;
  readonly htu: string;
  /** The access token the proof goes with (`ath`); none at a token endpoint. */
  readonly accessToken?: string;
  /** Seconds since the epoch; now by default. */
  readonly iat?: number;
  readonly jti?: string;
  /** Merged over `{ typ: "dpop+jwt", alg, jwk }`; `undefined` values remove a member. */
  readonly header?: Record<string, unknown>;
  /** Merged over the claims; `undefined` values remove a claim. */
  readonly claims?: Record<string, unknown>;
  /** Sign with this key instead (a proof by another key than the one in its header). */
  readonly signWith?: KeyObject;
  /** Sign under this algorithm instead of the header's. */
  readonly signAs?: string;
}

/** A DPoP proof JWT for one request. */
export function dpopProof(key: DpopKey, options: ProofOptions): string {
  const header = dropUndefined({ typ: "dpop+jwt", alg: key.alg, jwk: key.jwk, ...options.header });
  const claims = dropUndefined({
    jti: options.jti ?? randomUUID(),
    htm: options.htm,
    htu: options.htu,
    iat: options.iat ?? Math.floor(Date.now() / 1000),
    ...(options.accessToken === undefined ? {} : { ath: accessTokenHash(options.accessToken) }),
    ...options.claims,
  });
  const input = `${b64url(header)}.${b64url(claims)}`;
  const alg = options.signAs ?? (typeof header.alg === "string" ? header.alg : key.alg);
  return `${input}.${jwsSignature(alg, options.signWith ?? key.privateKey, input).toString("base64url")}`;
}

function dropUndefined(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
}
