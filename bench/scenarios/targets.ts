/** The goals of issue 15, in one place. */
import type { Target } from "../stats.js";

/** Distinct tokens: the handler within 1.15x of aws-jwt-verify's verifySync. */
export const WITHIN_AWS_JWT_VERIFY: Target = { on: "ratio", op: "<=", limit: 1.15 };
/** Stretch: within 1.3x of the raw crypto.verify floor. */
export const WITHIN_CRYPTO_STRETCH: Target = { on: "ratio", op: "<=", limit: 1.3, stretch: true };
/** Repeated tokens (100 x 20) with the token cache: at most 0.34x of crypto.verify on the same sequence. */
export const REPEATED_VS_CRYPTO: Target = { on: "ratio", op: "<=", limit: 0.34 };
/** Nothing written per allowed request at the default log level. */
export const ZERO_BYTES: Target = { on: "value", op: "==", limit: 0 };
/** Issue 18: a DPoP request (token + proof) at most 2.2x a plain Bearer request (one verification). */
export const DPOP_VS_PLAIN: Target = { on: "ratio", op: "<=", limit: 2.2 };
/** A refusal costs no more than an acceptance. */
export const NO_DEARER_THAN_ACCEPT: Target = { on: "ratio", op: "<=", limit: 1 };
/** Revocation on, repeated tokens: at most 1.10x of the same handler with revocation off (issue 21). */
export const REVOCATION_ON_REPEATED: Target = { on: "ratio", op: "<=", limit: 1.1 };
/** Issue 17: a warm realm of a `{realm}` pattern no more than 5% slower than one exact issuer. */
export const WARM_REALM_VS_SINGLE: Target = { on: "ratio", op: "<=", limit: 1.05 };
