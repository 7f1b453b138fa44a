/**
 * A compact JWS string -> its parts, unverified, or a typed rejection. Strict about form, so that
 * one set of claims has exactly one token string: base64url without padding and with zero
 * trailing bits (RFC 7515 section 2, RFC 4648 section 3.5), three non-empty segments, JSON objects
 * for header and payload.
 *
 * JSON.parse, not a prototype-stripping reviver: JSON.parse creates `__proto__` and `constructor`
 * as plain own properties (it never sets a prototype), so nothing is polluted, and the claims stay
 * exactly as the token carried them; no code here copies claims with assignment semantics.
 */
import type { DecomposedJwt } from "aws-jwt-verify/jwt";
import type { JwtHeader, JwtPayload } from "aws-jwt-verify/jwt-model";
import { MalformedTokenError, NonCanonicalTokenError } from "../errors.js";

export interface DecodedJwt extends DecomposedJwt {
  /** The payload's JSON text exactly as signed: the lossless form handed on to protected handlers. */
  readonly payloadJson: string;
  /** A segment ended in `=` padding (refused by {@link assertCanonical}, after the header's checks). */
  readonly padded: boolean;
}

const SEGMENT = /^[A-Za-z0-9_-]+$/;
/** Refuses bytes that are not UTF-8, so the claims text handed on is exactly the signed bytes. */
const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
/** Time claims beyond this (year 5138) or below 0 are not times: refused before any date arithmetic. */
const MAX_TIME_CLAIM = 1e11;
const PADDED_SEGMENT = /^[A-Za-z0-9_-]+={1,2}$/;
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/**
 * Split and decode; throws {@link MalformedTokenError}. The canonical-form rule is separate
 * ({@link assertCanonical}), so that a malformed or refused header is reported as such first.
 */
export function decodeJwt(token: string): DecodedJwt {
  const first = token.indexOf(".");
  const second = first < 0 ? -1 : token.indexOf(".", first + 1);
  if (second < 0 || token.indexOf(".", second + 1) >= 0) throw new MalformedTokenError("token is not three dot-separated segments");
  const headerB64 = token.slice(0, first);
  const payloadB64 = token.slice(first + 1, second);
  const signatureB64 = token.slice(second + 1);
  const padded = segmentForm(headerB64, "header") || segmentForm(payloadB64, "payload") || segmentForm(signatureB64, "signature");

  const header = parseObject(utf8(headerB64, "header"), "header") as JwtHeader;
  if (header.alg !== undefined && typeof header.alg !== "string") throw new MalformedTokenError("header alg is not a string");
  if (header.kid !== undefined && typeof header.kid !== "string") throw new MalformedTokenError("header kid is not a string");
  const payloadJson = utf8(payloadB64, "payload");
  const payload = parseObject(payloadJson, "payload") as JwtPayload;
  checkRegisteredClaimTypes(payload);
  return { header, headerB64, payload, payloadB64, signatureB64, payloadJson, padded };
}

/** Throws unless base64url, with or without padding; true when padded. */
function segmentForm(segment: string, part: string): boolean {
  if (segment.length === 0) throw new MalformedTokenError(`token ${part} segment is empty`);
  if (SEGMENT.test(segment)) return false;
  if (PADDED_SEGMENT.test(segment)) return true;
  throw new MalformedTokenError(`token ${part} segment is not base64url`);
}

/**
 * Base64url as RFC 7515 writes it: no `=`, and the last character carries no stray low bits
 * (otherwise `...Q` and `...R` decode to the same bytes: two strings, one signature).
 * Throws {@link NonCanonicalTokenError}.
 */
export function assertCanonical(decoded: DecodedJwt): void {
  if (decoded.padded) throw new NonCanonicalTokenError("a token segment is padded");
  canonicalSegment(decoded.headerB64, "header");
  canonicalSegment(decoded.payloadB64, "payload");
  canonicalSegment(decoded.signatureB64, "signature");
}

function canonicalSegment(segment: string, part: string): void {
  const tail = segment.length % 4;
  if (tail === 1) throw new NonCanonicalTokenError(`token ${part} segment has an impossible length`);
  if (tail === 0) return;
  const last = ALPHABET.indexOf(segment[segment.length - 1] as string);
  const unusedBits = tail === 2 ? 0b1111 : 0b11;
  if ((last & unusedBits) !== 0) throw new NonCanonicalTokenError(`token ${part} segment has non-zero trailing bits`);
}

function utf8(segment: string, part: string): string {
  const bytes = Buffer.from(segment, "base64url");
  const text = bytes.toString("utf8");
  // Node replaces bad sequences with U+FFFD: only then is the strict (slower) decoder asked.
  if (text.includes("\uFFFD")) {
    try {
      UTF8.decode(bytes);
    } catch (cause) {
      throw new MalformedTokenError(`token ${part} is not UTF-8`, { cause });
    }
  }
  return text;
}

function parseObject(json: string, part: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (cause) {
    throw new MalformedTokenError(`token ${part} is not JSON`, { cause });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new MalformedTokenError(`token ${part} is not a JSON object`);
  return value as Record<string, unknown>;
}

/** The registered claims' JSON types (RFC 7519 section 4.1), as aws-jwt-verify's decomposer checks them. */
function checkRegisteredClaimTypes(payload: JwtPayload): void {
  const bad = (claim: string): never => {
    throw new MalformedTokenError(`token ${claim} claim has the wrong type`);
  };
  for (const claim of ["exp", "nbf", "iat"] as const) {
    const value = payload[claim];
    if (value !== undefined && !(typeof value === "number" && value >= 0 && value <= MAX_TIME_CLAIM)) bad(claim);
  }
  for (const claim of ["iss", "sub", "jti", "scope"] as const) {
    if (payload[claim] !== undefined && typeof payload[claim] !== "string") bad(claim);
  }
  const { aud } = payload;
  if (aud !== undefined && typeof aud !== "string" && !(Array.isArray(aud) && aud.every((entry) => typeof entry === "string"))) bad("aud");
}
