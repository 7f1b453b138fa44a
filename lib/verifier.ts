import { JwtVerifier } from "aws-jwt-verify";
import type { VerifyProperties } from "aws-jwt-verify/jwt-verifier";
import type { JwtHeader, JwtPayload } from "aws-jwt-verify/jwt-model";
import type { DecomposedJwt } from "aws-jwt-verify/jwt";
import {
  FetchError,
  JwkInvalidKtyError,
  JwkInvalidUseError,
  JwkValidationError,
  JwksNotAvailableInCacheError,
  JwksValidationError,
  JwtExpiredError,
  JwtInvalidAudienceError,
  JwtInvalidIssuerError,
  JwtInvalidSignatureAlgorithmError,
  JwtInvalidSignatureError,
  JwtNotBeforeError,
  JwtParseError,
  JwtWithoutValidKidError,
  KidNotFoundInJwksError,
  WaitPeriodNotYetEndedJwkError,
} from "aws-jwt-verify/error";
import type { AuthorizerConfig } from "./config.js";
import {
  AlgorithmNotAllowedError,
  AuthorizerError,
  ClientNotAllowedError,
  EmbeddedKeyHeaderError,
  IatInFutureError,
  InvalidAudienceError,
  InvalidIssuerError,
  InvalidSignatureError,
  InvalidTokenTypeError,
  KeyAlgorithmMismatchError,
  KeyNotUsableError,
  KeysUnavailableError,
  MalformedTokenError,
  MissingExpError,
  MissingIatError,
  MissingKidError,
  MissingSubjectError,
  NonCanonicalTokenError,
  SenderConstrainedTokenError,
  TokenExpiredError,
  TokenNotYetValidError,
  TokenTooLargeError,
  UnknownKidError,
  UnsupportedCritError,
} from "./errors.js";
import { createFetchJson } from "./fetch-json.js";
import { discoveryUrl } from "./discovery.js";
import { KeycloakJwksCache } from "./jwks-cache.js";
import { assertCanonical, decodeJwt, type DecodedJwt } from "./jwt-decoder.js";
import { isCanonicalEcdsaSignature } from "./key-rules.js";
import { VerifiedTokenCache } from "./verified-token-cache.js";

/** The claims of a verified Keycloak access token, as JSON. */
export type KeycloakClaims = JwtPayload;

export interface VerifiedAccessToken {
  /** Shared with later calls that present the same token (the token cache): never mutate. */
  readonly claims: KeycloakClaims;
  /** The payload's JSON text exactly as signed (claims named `__proto__` included). */
  readonly claimsJson: string;
  /** The value of the principal claim (`sub` by default): who the caller is. */
  readonly principal: string;
  /** The key that verified it, for logs. */
  readonly kid: string;
}

export interface AccessTokenVerifier {
  /** Resolves with the verified claims, or rejects with an {@link AuthorizerError}. */
  verify(token: string): Promise<VerifiedAccessToken>;
  /** Fetch the keys ahead of the first request. */
  hydrate(): Promise<void>;
  readonly jwksCache: KeycloakJwksCache;
}

/** Headers that carry or point at keys: a verifier that honoured them would trust the attacker. */
const EMBEDDED_KEY_HEADERS = ["jwk", "jku", "x5u", "x5c"] as const;

/**
 * aws-jwt-verify's JwtVerifier, opened up so a token is decoded once (by lib/jwt-decoder.ts):
 * we check it before any key lookup or crypto, then hand the same parts to the verifier.
 */
class DecomposedJwtVerifier extends JwtVerifier<VerifyProperties, { issuer: string; jwksUri: string } & VerifyProperties, false> {
  constructor(
    private readonly properties: { issuer: string; jwksUri: string } & VerifyProperties,
    jwksCache: KeycloakJwksCache,
  ) {
    super(properties, jwksCache);
  }
  verifySyncDecomposed(jwt: DecomposedJwt): JwtPayload {
    return this.verifyDecomposedJwtSync(jwt, this.properties.jwksUri, this.properties);
  }
  verifyAsyncDecomposed(jwt: DecomposedJwt): Promise<JwtPayload> {
    return this.verifyDecomposedJwt(jwt, this.properties.jwksUri, this.properties);
  }
}

export interface VerifierDependencies {
  readonly jwksCache?: KeycloakJwksCache;
  /** Told of every discovery and JWKS fetch (for metrics); ignored when `jwksCache` is given. */
  readonly onKeyFetch?: (fetch: { kind: "discovery" | "jwks"; ok: boolean }) => void;
  /** Told when a repeated token is answered from the verified-token cache (for metrics). */
  readonly onTokenCacheHit?: () => void;
}

/**
 * Build the verifier for Keycloak access tokens: aws-jwt-verify for the signature, `iss`, `aud`,
 * `exp` and `nbf`; this module for the rest of the profile (canonical form, algorithm allow-list
 * bound to the key's type, `kid`, `crit`, required `exp`/`iat`, `typ` "Bearer", `azp`, the
 * principal claim, no key binding it cannot check). Build it once, in module scope.
 *
 * Order matters for cost: the form, the header and `iss` are checked before the key lookup and
 * the signature, so a refusal never costs more than an acceptance; the other claims after it, so
 * that a forged token is reported as one (`invalid_signature`) rather than by a claim it invented.
 *
 * @example
 * const verifier = createAccessTokenVerifier(loadConfig(process.env));
 * const { claims } = await verifier.verify(token);
 */
export function createAccessTokenVerifier(config: AuthorizerConfig, dependencies: VerifierDependencies = {}): AccessTokenVerifier {
  const jwksCache =
    dependencies.jwksCache ??
    new KeycloakJwksCache({
      issuer: config.issuer,
      jwksUri: config.jwksUri,
      fetchJson: createFetchJson({ timeoutMs: config.fetchTimeoutMs, allowHttp: config.allowHttp }),
      maxAgeMs: config.jwksMaxAgeSeconds * 1000,
      cooldownMs: config.jwksCooldownSeconds * 1000,
      maxStaleMs: config.jwksMaxStaleSeconds * 1000,
      ...(dependencies.onKeyFetch === undefined ? {} : { onFetch: dependencies.onKeyFetch }),
    });
  const skew = config.clockSkewSeconds;
  const allowedAlgorithms: ReadonlySet<string> = new Set(config.algorithms);
  const allowedClients: ReadonlySet<string> = new Set(config.allowedClients);

  // Runs after the signature, `exp`, `nbf`, `iss` and `aud` checks of aws-jwt-verify passed.
  const checkProfile = ({ payload }: { payload: JwtPayload }): void => {
    if (payload.exp === undefined) throw new MissingExpError("token has no exp");
    if (payload.iat === undefined) throw new MissingIatError("token has no iat");
    if (payload.iat - skew > Date.now() / 1000) throw new IatInFutureError("token iat is in the future");
    if (payload.typ !== "Bearer") throw new InvalidTokenTypeError("token typ is not Bearer");
    if (allowedClients.size > 0 && !(typeof payload.azp === "string" && allowedClients.has(payload.azp))) {
      throw new ClientNotAllowedError("token azp is not an allowed client");
    }
    const principal = payload[config.principalClaim];
    if (typeof principal !== "string" || principal === "") {
      throw new MissingSubjectError(`token has no ${config.principalClaim} claim to name the caller`);
    }
    // RFC 7800 / 9449 / 8705: a token bound to a key is only as good as the proof of possession
    // that comes with it. No proof is checked here, so such a token is not a bearer token.
    if (Object.hasOwn(payload, "cnf")) throw new SenderConstrainedTokenError("token is bound to a key (cnf) whose possession is not proven");
  };

  // Our cache serves exactly one issuer; this label only shows up in aws-jwt-verify messages.
  const jwksLabel = config.jwksUri ?? discoveryUrl(config.issuer);
  const core = new DecomposedJwtVerifier(
    {
      issuer: config.issuer,
      jwksUri: jwksLabel,
      audience: [...config.audiences],
      graceSeconds: skew,
      customJwtCheck: checkProfile,
    },
    jwksCache,
  );

  // Everything decidable from the token string alone, before any key lookup or crypto, cheapest
  // first: a malformed or foreign token never reaches the RSA check.
  const decode = (token: string): DecodedJwt => {
    const decoded = decodeJwt(token);
    checkHeader(decoded.header, allowedAlgorithms);
    // Before any key lookup: aws-jwt-verify caches each converted public key under the token's
    // still unverified `iss`, so a flood of forged tokens with distinct issuers would grow that
    // cache without bound. Checked here, only the configured issuer ever reaches it.
    if (decoded.payload.iss !== config.issuer) throw new InvalidIssuerError("token iss is not the configured issuer");
    assertCanonical(decoded);
    return decoded;
  };
  // After the key lookup, so that a signature of another key type is reported as that
  // (key_algorithm_mismatch), not as an ill-formed ECDSA signature.
  const checkSignatureForm = (decoded: DecodedJwt): void => {
    const alg = decoded.header.alg as string;
    if (alg.startsWith("ES") && !isCanonicalEcdsaSignature(alg, Buffer.from(decoded.signatureB64, "base64url"), config.ecdsaAllowHighS)) {
      throw new NonCanonicalTokenError("ECDSA signature is not in canonical (low-S, r || s) form");
    }
  };
  const principalOf = (claims: JwtPayload): string => claims[config.principalClaim] as string;

  // A repeated token (a client reusing its access token for every call) skips parsing and RSA.
  // Entries are tied to the key set's generation and served only while those keys are fresh,
  // and the cache itself re-applies the exp/nbf/iat windows with the same skew on every hit.
  const verified = new VerifiedTokenCache<VerifiedAccessToken>({ maxEntries: config.tokenCacheSize, clockSkewSeconds: skew });

  return {
    jwksCache,
    async verify(token) {
      try {
        // Before any lookup or parsing: a hostile multi-megabyte token must cost nothing.
        if (token.length > config.maxTokenBytes) throw new TokenTooLargeError("token exceeds the size cap");
        const generation = jwksCache.generation;
        const hit = jwksCache.hasFreshKeys() ? verified.get(token, generation) : undefined;
        if (hit !== undefined) {
          dependencies.onTokenCacheHit?.();
          return hit;
        }
        const decoded = decode(token);
        const kid = decoded.header.kid as string;
        let warm = true;
        try {
          // Warm path: no promise hop before the crypto when the key is already cached.
          jwksCache.getCachedJwk(jwksLabel, decoded);
        } catch (error) {
          if (!(error instanceof JwksNotAvailableInCacheError)) throw error;
          warm = false;
          await jwksCache.getJwk(jwksLabel, decoded);
        }
        checkSignatureForm(decoded);
        if (!warm) {
          // Verified after an await, possibly with keys of another generation than the one read
          // above: not cached. The next use of this token takes the synchronous path and is.
          const claims = await core.verifyAsyncDecomposed(decoded);
          return { claims, claimsJson: decoded.payloadJson, principal: principalOf(claims), kid };
        }
        const claims = core.verifySyncDecomposed(decoded);
        // Cached results are shared by every later call with the same token: read-only by contract
        // (nothing here writes to claims; freezing them would cost ~1 µs per verification).
        const result: VerifiedAccessToken = { claims, claimsJson: decoded.payloadJson, principal: principalOf(claims), kid };
        verified.set(token, result, claims, generation);
        return result;
      } catch (error) {
        throw translateError(error);
      }
    },
    async hydrate() {
      try {
        await jwksCache.getJwks();
      } catch (error) {
        throw translateError(error);
      }
    },
  };
}

function checkHeader(header: JwtHeader, allowedAlgorithms: ReadonlySet<string>): void {
  // Exact, case-sensitive match: "none", "NONE", "HS256" and anything unlisted stop here.
  if (typeof header.alg !== "string" || !allowedAlgorithms.has(header.alg)) {
    throw new AlgorithmNotAllowedError("token alg is not in the allow-list");
  }
  if (typeof header.kid !== "string" || header.kid === "") throw new MissingKidError("token header has no kid");
  // RFC 7515 4.1.11: a recipient must reject `crit` it does not understand; we understand none.
  if (header.crit !== undefined) throw new UnsupportedCritError("token header has crit parameters");
  for (const name of EMBEDDED_KEY_HEADERS) {
    if (name in header) throw new EmbeddedKeyHeaderError(`token header carries ${name}`);
  }
}

/** The one place where library errors become ours; the original is kept as `cause`. */
export function translateError(error: unknown): AuthorizerError {
  if (error instanceof AuthorizerError) return error;
  const options = { cause: error };
  if (error instanceof JwtParseError) return new MalformedTokenError("token is not a well-formed JWT", options);
  if (error instanceof JwtWithoutValidKidError) return new MissingKidError("token header has no kid", options);
  if (error instanceof JwtInvalidSignatureAlgorithmError) return new KeyAlgorithmMismatchError("token alg does not match its key", options);
  if (error instanceof JwkInvalidUseError || error instanceof JwkInvalidKtyError || error instanceof JwkValidationError) {
    return new KeyNotUsableError("the key named by kid cannot verify signatures", options);
  }
  if (error instanceof KidNotFoundInJwksError || error instanceof WaitPeriodNotYetEndedJwkError) {
    return new UnknownKidError("no key with this kid", options);
  }
  if (error instanceof JwtInvalidSignatureError) return new InvalidSignatureError("signature does not verify", options);
  if (error instanceof JwtInvalidIssuerError) return new InvalidIssuerError("token iss is not the configured issuer", options);
  if (error instanceof JwtInvalidAudienceError) return new InvalidAudienceError("token aud has no accepted audience", options);
  if (error instanceof JwtExpiredError) return new TokenExpiredError("token has expired", options);
  if (error instanceof JwtNotBeforeError) return new TokenNotYetValidError("token is not valid yet (nbf)", options);
  if (error instanceof FetchError || error instanceof JwksValidationError || error instanceof JwksNotAvailableInCacheError) {
    return new KeysUnavailableError("the realm's keys are unavailable", options);
  }
  // Anything else came out of parsing or crypto on attacker-controlled input (a key of the wrong
  // type for the alg, a signature of the wrong length): fail closed as a bad token.
  return new MalformedTokenError("token could not be verified", options);
}
