/**
 * The one place where errors from aws-jwt-verify (and anything else thrown while verifying)
 * become ours, the original kept as `cause`. What is not recognised is our bug or the library's:
 * an InternalError (a 500 with the cause logged), never a bad-token code that would hide it.
 */
import {
  FetchError,
  JwkInvalidKtyError,
  JwkInvalidUseError,
  JwkValidationError,
  JwksValidationError,
  JwtExpiredError,
  JwtInvalidAudienceError,
  JwtInvalidIssuerError,
  JwtInvalidSignatureAlgorithmError,
  JwtInvalidSignatureError,
  JwtNotBeforeError,
  KidNotFoundInJwksError,
} from "aws-jwt-verify/error";
import {
  AuthorizerError,
  InternalError,
  InvalidAudienceError,
  InvalidIssuerError,
  InvalidSignatureError,
  KeyAlgorithmMismatchError,
  KeyNotUsableError,
  KeysUnavailableError,
  TokenExpiredError,
  TokenNotYetValidError,
  UnknownKidError,
} from "../errors.js";

export function translateError(error: unknown): AuthorizerError {
  if (error instanceof AuthorizerError) return error;
  const options = { cause: error };
  if (error instanceof JwtInvalidSignatureError) return new InvalidSignatureError("signature does not verify", options);
  if (error instanceof JwtExpiredError) return new TokenExpiredError("token has expired", options);
  if (error instanceof JwtNotBeforeError) return new TokenNotYetValidError("token is not valid yet (nbf)", options);
  if (error instanceof JwtInvalidIssuerError) return new InvalidIssuerError("token iss is not the configured issuer", options);
  if (error instanceof JwtInvalidAudienceError) return new InvalidAudienceError("token aud has no accepted audience", options);
  if (error instanceof JwtInvalidSignatureAlgorithmError) return new KeyAlgorithmMismatchError("token alg does not match its key", options);
  if (error instanceof JwkInvalidUseError || error instanceof JwkInvalidKtyError || error instanceof JwkValidationError) {
    return new KeyNotUsableError("the key named by kid cannot verify signatures", options);
  }
  if (error instanceof KidNotFoundInJwksError) return new UnknownKidError("no key with this kid", options);
  if (error instanceof FetchError || error instanceof JwksValidationError) return new KeysUnavailableError("the realm's keys are unavailable", options);
  return new InternalError("unexpected error while verifying a token", options);
}
