/**
 * Every error this project raises, grouped by the stage that raises it. Each class has a stable
 * `code` (logged, asserted on in tests, never shown to clients) and an explicit `name`, because
 * bundlers rename classes and `instanceof` across bundles is brittle.
 *
 * `TokenRejectedError` subclasses mean "the caller's credentials are bad" (API Gateway 401).
 * `AuthorizerFailureError` subclasses mean "we could not check them" (a server-side failure, API
 * Gateway 500): the keys were unavailable, or our own code failed. The two must stay apart in logs
 * and metrics, and neither may ever become an Allow.
 */

/** Stable reason codes; the closed set a log line or a metric dimension can carry. */
export type RejectionCode =
  | "unsupported_event"
  | "missing_token"
  | "malformed_authorization_header"
  | "token_too_large"
  | "malformed_token"
  | "non_canonical_token"
  | "algorithm_not_allowed"
  | "missing_kid"
  | "unsupported_crit"
  | "embedded_key_header"
  | "unknown_kid"
  | "key_not_usable"
  | "key_algorithm_mismatch"
  | "invalid_signature"
  | "invalid_issuer"
  | "invalid_audience"
  | "missing_exp"
  | "token_expired"
  | "missing_iat"
  | "iat_in_future"
  | "token_not_yet_valid"
  | "invalid_token_type"
  | "client_not_allowed"
  | "missing_subject"
  | "sender_constrained_token"
  | "unknown_realm"
  // revocation (lib/revocation/): a session Keycloak ended, and the back-channel logout receiver's refusals
  | "session_revoked"
  | "token_outlives_revocation"
  | LogoutRejectionCode
  // token introspection (RFC 7662) on strict routes, lib/introspection/: Keycloak says the token is no longer active
  | "token_inactive"
  | "lightweight_token_not_allowed"
  // DPoP (RFC 9449), lib/dpop/: the proof of possession that goes with a key-bound token.
  | "dpop_not_enabled"
  | "dpop_required"
  | "dpop_token_as_bearer"
  | "dpop_token_not_bound"
  | "dpop_proof_missing"
  | "dpop_proof_duplicated"
  | "dpop_proof_too_large"
  | "dpop_proof_malformed"
  | "dpop_proof_wrong_type"
  | "dpop_proof_algorithm_not_allowed"
  | "dpop_proof_key_invalid"
  | "dpop_proof_missing_claim"
  | "dpop_proof_method_mismatch"
  | "dpop_proof_url_mismatch"
  | "dpop_proof_expired"
  | "dpop_proof_in_future"
  | "dpop_proof_token_mismatch"
  | "dpop_proof_key_mismatch"
  | "dpop_proof_invalid_signature"
  | "dpop_proof_replayed";

/** Server-side failures: the caller's credentials could not be judged (API Gateway 500). */
export type FailureCode =
  | "keys_unavailable"
  | "realm_discovery_throttled"
  | "internal_error"
  | "revocation_unavailable"
  | "dpop_replay_store_unavailable"
  | "introspection_unavailable";

/** The back-channel logout receiver's refusals (OpenID Connect Back-Channel Logout 1.0, section 2.6). */
export type LogoutRejectionCode =
  | "unsupported_media_type"
  | "request_too_large"
  | "missing_logout_token"
  | "invalid_logout_token_type"
  | "missing_jti"
  | "stale_logout_token"
  | "missing_logout_event"
  | "nonce_in_logout_token"
  | "missing_logout_subject"
  | "logout_token_replayed";

export type ErrorCode = RejectionCode | FailureCode | "invalid_config" | "missing_authorizer_context";

export type ErrorStage =
  | "event"
  | "header"
  | "parse"
  | "keys"
  | "signature"
  | "claims"
  | "config"
  | "context"
  | "internal"
  | "revocation"
  | "logout"
  | "proof"
  | "introspection";

export abstract class AuthorizerError extends Error {
  abstract readonly code: ErrorCode;
  abstract readonly stage: ErrorStage;
  /** The trusted realm the token named, once known (for logs and metrics): never an unverified name. */
  realm?: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * Runs `make` with stack capture off. A refusal is an expected outcome, not a bug to debug, and
 * capturing a stack costs about 5 µs: more than the rest of a refusal's bookkeeping. Synchronous,
 * so no other code runs while the limit is lowered.
 */
export function withoutStack<T>(make: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return make();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * What the code that refused a token knew about why, beyond the code: for hints that name the fix
 * (lib/operations/hints.ts), never logged as is. Values come from the realm's key set or our own
 * checks, never from the token.
 */
export interface RejectionDetail {
  /** key_not_usable: why the published key named by the token's kid is refused (lib/keys/key-rules.ts KeyProblem). */
  readonly keyProblem?: string;
}

/** The token (or its absence) is the caller's fault: the answer is 401. Carries no stack (see withoutStack). */
export abstract class TokenRejectedError extends AuthorizerError {
  abstract override readonly code: RejectionCode;
  /** Set only where a refusal knows more than its code (declared, so other refusals carry no field). */
  declare readonly detail?: RejectionDetail;
  constructor(message: string, options?: { cause?: unknown; detail?: RejectionDetail }) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message, options);
    Error.stackTraceLimit = limit;
    if (options?.detail !== undefined) Object.defineProperty(this, "detail", { value: options.detail, enumerable: false });
  }
}

// --- event: what API Gateway sent ----------------------------------------------------------
/** Not a TOKEN, REQUEST or payload 2.0 authorizer event (or its method ARN is unreadable). */
export class UnsupportedEventError extends TokenRejectedError {
  override readonly name = "UnsupportedEventError";
  readonly code = "unsupported_event";
  readonly stage = "event";
}

// --- header: the Authorization value --------------------------------------------------------
export class MissingTokenError extends TokenRejectedError {
  override readonly name = "MissingTokenError";
  readonly code = "missing_token";
  readonly stage = "header";
}
export class MalformedAuthorizationHeaderError extends TokenRejectedError {
  override readonly name = "MalformedAuthorizationHeaderError";
  readonly code = "malformed_authorization_header";
  readonly stage = "header";
}

// --- parse: the JWT's structure and its JOSE header -----------------------------------------
export class TokenTooLargeError extends TokenRejectedError {
  override readonly name = "TokenTooLargeError";
  readonly code = "token_too_large";
  readonly stage = "parse";
}
export class MalformedTokenError extends TokenRejectedError {
  override readonly name = "MalformedTokenError";
  readonly code = "malformed_token";
  readonly stage = "parse";
}
/**
 * A second spelling of a token: base64url padding, stray trailing bits, or a high-S ECDSA
 * signature. Refused so that one set of claims has exactly one valid token string.
 */
export class NonCanonicalTokenError extends TokenRejectedError {
  override readonly name = "NonCanonicalTokenError";
  readonly code = "non_canonical_token";
  readonly stage = "parse";
}
export class AlgorithmNotAllowedError extends TokenRejectedError {
  override readonly name = "AlgorithmNotAllowedError";
  readonly code = "algorithm_not_allowed";
  readonly stage = "parse";
}
export class MissingKidError extends TokenRejectedError {
  override readonly name = "MissingKidError";
  readonly code = "missing_kid";
  readonly stage = "parse";
}
export class UnsupportedCritError extends TokenRejectedError {
  override readonly name = "UnsupportedCritError";
  readonly code = "unsupported_crit";
  readonly stage = "parse";
}
export class EmbeddedKeyHeaderError extends TokenRejectedError {
  override readonly name = "EmbeddedKeyHeaderError";
  readonly code = "embedded_key_header";
  readonly stage = "parse";
}

// --- keys: finding the verification key ------------------------------------------------------
export class UnknownKidError extends TokenRejectedError {
  override readonly name = "UnknownKidError";
  readonly code = "unknown_kid";
  readonly stage = "keys";
}
export class KeyNotUsableError extends TokenRejectedError {
  override readonly name = "KeyNotUsableError";
  readonly code = "key_not_usable";
  readonly stage = "keys";
}
/** The token's `alg` does not fit the type of the key its `kid` names (RS256 on an EC key, say). */
export class KeyAlgorithmMismatchError extends TokenRejectedError {
  override readonly name = "KeyAlgorithmMismatchError";
  readonly code = "key_algorithm_mismatch";
  readonly stage = "keys";
}
/** The credentials could not be judged: a server-side failure, never the caller's fault. */
export abstract class AuthorizerFailureError extends AuthorizerError {
  abstract override readonly code: FailureCode;
}

/** A failure to get an answer from Keycloak, with the HTTP status it answered, when it answered. */
export abstract class KeycloakRequestFailedError extends AuthorizerFailureError {
  readonly httpStatus: number | undefined;
  constructor(message: string, options?: { cause?: unknown; httpStatus?: number }) {
    super(message, options);
    this.httpStatus = options?.httpStatus;
  }
}

/** Discovery or the JWKS could not be fetched or parsed and no usable cached key exists (httpStatus 404: no such realm). */
export class KeysUnavailableError extends KeycloakRequestFailedError {
  override readonly name = "KeysUnavailableError";
  readonly code = "keys_unavailable";
  readonly stage = "keys";
}
/**
 * A token names a realm of a `{realm}` pattern that is not in memory, and this instance has
 * discovered as many new realms as it may this second: try again shortly (a flood of tokens for
 * random realms cannot make it fetch faster than KEYCLOAK_REALM_DISCOVERIES_PER_SECOND).
 */
export class RealmDiscoveryThrottledError extends AuthorizerFailureError {
  override readonly name = "RealmDiscoveryThrottledError";
  readonly code = "realm_discovery_throttled";
  readonly stage = "keys";
}
/** The token's issuer matches a `{realm}` pattern, but Keycloak has no such realm (404). */
export class UnknownRealmError extends TokenRejectedError {
  override readonly name = "UnknownRealmError";
  readonly code = "unknown_realm";
  readonly stage = "keys";
}

// --- signature --------------------------------------------------------------------------------
export class InvalidSignatureError extends TokenRejectedError {
  override readonly name = "InvalidSignatureError";
  readonly code = "invalid_signature";
  readonly stage = "signature";
}

// --- claims: the Keycloak access-token profile ---------------------------------------------------
export class InvalidIssuerError extends TokenRejectedError {
  override readonly name = "InvalidIssuerError";
  readonly code = "invalid_issuer";
  readonly stage = "claims";
}
export class InvalidAudienceError extends TokenRejectedError {
  override readonly name = "InvalidAudienceError";
  readonly code = "invalid_audience";
  readonly stage = "claims";
}
export class MissingExpError extends TokenRejectedError {
  override readonly name = "MissingExpError";
  readonly code = "missing_exp";
  readonly stage = "claims";
}
export class TokenExpiredError extends TokenRejectedError {
  override readonly name = "TokenExpiredError";
  readonly code = "token_expired";
  readonly stage = "claims";
}
export class MissingIatError extends TokenRejectedError {
  override readonly name = "MissingIatError";
  readonly code = "missing_iat";
  readonly stage = "claims";
}
export class IatInFutureError extends TokenRejectedError {
  override readonly name = "IatInFutureError";
  readonly code = "iat_in_future";
  readonly stage = "claims";
}
export class TokenNotYetValidError extends TokenRejectedError {
  override readonly name = "TokenNotYetValidError";
  readonly code = "token_not_yet_valid";
  readonly stage = "claims";
}
/** Payload `typ` is not "Bearer": an ID, Refresh, Logout or Offline token signed by the same key. */
export class InvalidTokenTypeError extends TokenRejectedError {
  override readonly name = "InvalidTokenTypeError";
  readonly code = "invalid_token_type";
  readonly stage = "claims";
}
export class ClientNotAllowedError extends TokenRejectedError {
  override readonly name = "ClientNotAllowedError";
  readonly code = "client_not_allowed";
  readonly stage = "claims";
}
/**
 * The claim that names the caller (`sub`, or the configured principal claim) is missing or not a
 * non-empty string: without it, callers would share one identity in usage plans and logs.
 */
export class MissingSubjectError extends TokenRejectedError {
  override readonly name = "MissingSubjectError";
  readonly code = "missing_subject";
  readonly stage = "claims";
}
/**
 * The token is bound to a key (`cnf`: DPoP `jkt`, mTLS `x5t#S256`) that this request does not
 * prove possession of: accepting it as a bearer token would make the binding worthless.
 */
export class SenderConstrainedTokenError extends TokenRejectedError {
  override readonly name = "SenderConstrainedTokenError";
  readonly code = "sender_constrained_token";
  readonly stage = "claims";
}
// --- revocation: sessions Keycloak ended (lib/revocation/) ------------------------------------------
/** The token's session (`sid`), or every token of its subject issued before a logout, was ended by Keycloak. */
export class SessionRevokedError extends TokenRejectedError {
  override readonly name = "SessionRevokedError";
  readonly code = "session_revoked";
  readonly stage = "revocation";
}
/** With revocation on, a token whose lifetime (`exp - iat`) is longer than revocations are kept: its logout could be forgotten while it still verifies. */
export class TokenOutlivesRevocationError extends TokenRejectedError {
  override readonly name = "TokenOutlivesRevocationError";
  readonly code = "token_outlives_revocation";
  readonly stage = "revocation";
}
/** The revocation store could not be read, so whether the session was ended is unknown (fail closed: 500). */
export class RevocationUnavailableError extends AuthorizerFailureError {
  override readonly name = "RevocationUnavailableError";
  readonly code = "revocation_unavailable";
  readonly stage = "revocation";
}
// --- token introspection on strict routes (lib/introspection/) -------------------------------------
/** Keycloak's introspection answered `active: false`: logged out, user disabled, consent revoked, or expired. */
export class TokenInactiveError extends TokenRejectedError {
  override readonly name = "TokenInactiveError";
  readonly code = "token_inactive";
  readonly stage = "introspection";
}
/** A lightweight access token (no `aud`) on a route that does not introspect: it carries nothing to judge it by. */
export class LightweightTokenNotAllowedError extends TokenRejectedError {
  override readonly name = "LightweightTokenNotAllowedError";
  readonly code = "lightweight_token_not_allowed";
  readonly stage = "introspection";
}
/**
 * Keycloak's introspection endpoint could not be asked, or refused our client (httpStatus 401: our
 * client's credentials): a strict route is refused, never allowed (503).
 */
export class IntrospectionUnavailableError extends KeycloakRequestFailedError {
  override readonly name = "IntrospectionUnavailableError";
  readonly code = "introspection_unavailable";
  readonly stage = "introspection";
}
/**
 * A back-channel logout request or its logout token broke a rule of OpenID Connect Back-Channel
 * Logout 1.0 (section 2.6), or came twice: answered 400, nothing recorded.
 */
export class LogoutRequestRejectedError extends TokenRejectedError {
  override readonly name = "LogoutRequestRejectedError";
  readonly stage = "logout";
  constructor(
    readonly code: LogoutRejectionCode,
    message: string,
  ) {
    super(message);
  }
}

// --- proof: DPoP (RFC 9449), the proof of possession a key-bound token needs (lib/dpop/) ---------
/**
 * A DPoP-bound token (`cnf.jkt`) or a `DPoP` proof reached an authorizer whose DPoP support is off
 * (`KEYCLOAK_DPOP=off`): refused like any token bound to a key whose possession is not checked.
 */
export class DpopNotEnabledError extends TokenRejectedError {
  override readonly name = "DpopNotEnabledError";
  readonly code = "dpop_not_enabled";
  readonly stage = "proof";
}
/** A plain bearer token where DPoP is required (`KEYCLOAK_DPOP=required`, or the route's `dpopBound()`). */
export class DpopRequiredError extends TokenRejectedError {
  override readonly name = "DpopRequiredError";
  readonly code = "dpop_required";
  readonly stage = "proof";
}
/** A DPoP-bound token (`cnf.jkt`) sent with the `Bearer` scheme: a thief stripping the binding. */
export class DpopTokenAsBearerError extends TokenRejectedError {
  override readonly name = "DpopTokenAsBearerError";
  readonly code = "dpop_token_as_bearer";
  readonly stage = "proof";
}
/** The `DPoP` scheme with a token that is not DPoP-bound (no `cnf.jkt`): there is no key to prove. */
export class DpopTokenNotBoundError extends TokenRejectedError {
  override readonly name = "DpopTokenNotBoundError";
  readonly code = "dpop_token_not_bound";
  readonly stage = "proof";
}
export class DpopProofMissingError extends TokenRejectedError {
  override readonly name = "DpopProofMissingError";
  readonly code = "dpop_proof_missing";
  readonly stage = "proof";
}
/** More than one `DPoP` header (or one value holding several): RFC 9449 4.3 allows exactly one. */
export class DpopProofDuplicatedError extends TokenRejectedError {
  override readonly name = "DpopProofDuplicatedError";
  readonly code = "dpop_proof_duplicated";
  readonly stage = "proof";
}
export class DpopProofTooLargeError extends TokenRejectedError {
  override readonly name = "DpopProofTooLargeError";
  readonly code = "dpop_proof_too_large";
  readonly stage = "proof";
}
/** Not a compact JWS (segments, base64url, JSON, claim types), a second spelling of one, or `crit`. */
export class DpopProofMalformedError extends TokenRejectedError {
  override readonly name = "DpopProofMalformedError";
  readonly code = "dpop_proof_malformed";
  readonly stage = "proof";
}
/** The proof's header `typ` is not exactly `dpop+jwt` (an access token or ID token replayed as a proof, say). */
export class DpopProofWrongTypeError extends TokenRejectedError {
  override readonly name = "DpopProofWrongTypeError";
  readonly code = "dpop_proof_wrong_type";
  readonly stage = "proof";
}
/** `alg` not in `KEYCLOAK_DPOP_ALGORITHMS` (`none`, HS*, anything unlisted). */
export class DpopProofAlgorithmNotAllowedError extends TokenRejectedError {
  override readonly name = "DpopProofAlgorithmNotAllowedError";
  readonly code = "dpop_proof_algorithm_not_allowed";
  readonly stage = "proof";
}
/** The header `jwk` is missing, carries private or symmetric key material, is weak, or does not fit `alg`. */
export class DpopProofKeyInvalidError extends TokenRejectedError {
  override readonly name = "DpopProofKeyInvalidError";
  readonly code = "dpop_proof_key_invalid";
  readonly stage = "proof";
}
/** One of `jti`, `htm`, `htu`, `iat`, `ath` is missing. */
export class DpopProofMissingClaimError extends TokenRejectedError {
  override readonly name = "DpopProofMissingClaimError";
  readonly code = "dpop_proof_missing_claim";
  readonly stage = "proof";
}
export class DpopProofMethodMismatchError extends TokenRejectedError {
  override readonly name = "DpopProofMethodMismatchError";
  readonly code = "dpop_proof_method_mismatch";
  readonly stage = "proof";
}
export class DpopProofUrlMismatchError extends TokenRejectedError {
  override readonly name = "DpopProofUrlMismatchError";
  readonly code = "dpop_proof_url_mismatch";
  readonly stage = "proof";
}
/** `iat` older than the proof window (`KEYCLOAK_DPOP_PROOF_MAX_AGE_SECONDS` plus the skew). */
export class DpopProofExpiredError extends TokenRejectedError {
  override readonly name = "DpopProofExpiredError";
  readonly code = "dpop_proof_expired";
  readonly stage = "proof";
}
export class DpopProofInFutureError extends TokenRejectedError {
  override readonly name = "DpopProofInFutureError";
  readonly code = "dpop_proof_in_future";
  readonly stage = "proof";
}
/** `ath` is not the hash of the access token this request carries: a proof made for another token. */
export class DpopProofTokenMismatchError extends TokenRejectedError {
  override readonly name = "DpopProofTokenMismatchError";
  readonly code = "dpop_proof_token_mismatch";
  readonly stage = "proof";
}
/** The proof's key is not the one the token is bound to (its RFC 7638 thumbprint differs from `cnf.jkt`). */
export class DpopProofKeyMismatchError extends TokenRejectedError {
  override readonly name = "DpopProofKeyMismatchError";
  readonly code = "dpop_proof_key_mismatch";
  readonly stage = "proof";
}
export class DpopProofInvalidSignatureError extends TokenRejectedError {
  override readonly name = "DpopProofInvalidSignatureError";
  readonly code = "dpop_proof_invalid_signature";
  readonly stage = "proof";
}
/** The proof's `jti` was seen before within the proof window: a replayed proof. */
export class DpopProofReplayedError extends TokenRejectedError {
  override readonly name = "DpopProofReplayedError";
  readonly code = "dpop_proof_replayed";
  readonly stage = "proof";
}
/**
 * The replay store cannot answer (the in-memory cache is full of live entries, or a shared store
 * failed): whether a proof is fresh cannot be decided, so nothing is allowed (API Gateway 500/503).
 */
export class DpopReplayStoreUnavailableError extends AuthorizerFailureError {
  override readonly name = "DpopReplayStoreUnavailableError";
  readonly code = "dpop_replay_store_unavailable";
  readonly stage = "proof";
}
// --- internal ----------------------------------------------------------------------------------
/**
 * Anything we did not expect: a bug of ours or of a library, with the original as `cause`. It is
 * a failure (500) with the cause logged, never disguised as a bad token.
 */
export class InternalError extends AuthorizerFailureError {
  override readonly name = "InternalError";
  readonly code = "internal_error";
  readonly stage = "internal";
}

// --- config -------------------------------------------------------------------------------------
/** Raised at cold start; the message names the variable and the fix. */
export class ConfigError extends AuthorizerError {
  override readonly name = "ConfigError";
  readonly code = "invalid_config";
  readonly stage = "config";
}

// --- context: what the protected handler receives ------------------------------------------------
/** The protected handler ran without a usable authorizer context: a wiring fault, never a 200. */
export class MissingAuthorizerContextError extends AuthorizerError {
  override readonly name = "MissingAuthorizerContextError";
  readonly code = "missing_authorizer_context";
  readonly stage = "context";
}
