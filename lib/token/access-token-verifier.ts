/**
 * Keycloak access tokens -> verified claims, or a typed rejection. aws-jwt-verify checks the
 * signature, `iss`, `aud`, `exp` and `nbf`; this module adds the rest of the Keycloak access-token
 * profile: canonical form, the `alg` allow-list bound to the key's type, `kid`, `crit`, required
 * `exp`/`iat`, `typ` "Bearer" (or "DPoP"), `azp`, the principal claim. RSA-PSS signatures (PS*),
 * which aws-jwt-verify does not verify, are checked with node:crypto (lib/token/rsa-pss-signature.ts)
 * under the same rules. A key binding (`cnf`) is the request's business, not the token's: the
 * authorizer's key-binding check (lib/dpop/) decides what a bound token needs.
 *
 * Order matters for cost: everything decidable from the token alone (form, header, every claim)
 * is checked before the key lookup and the signature, cheapest first, so a refusal never costs
 * more than an acceptance. The price: a forged token is reported by the first rule it breaks (an
 * expired forgery as `token_expired`); only one that breaks none is `invalid_signature`.
 */
import { JwtVerifier } from "aws-jwt-verify/jwt-verifier";
import { JwksNotAvailableInCacheError } from "aws-jwt-verify/error";
import type { Jwks, JwkWithKid } from "aws-jwt-verify/jwk";
import { validateJwtFields, type DecomposedJwt } from "aws-jwt-verify/jwt";
import type { JwtHeader, JwtPayload } from "aws-jwt-verify/jwt-model";
import type { VerifyProperties } from "aws-jwt-verify/jwt-verifier";
import { isLightweightToken, type VerifiedToken } from "../claims.js";
import type { AuthorizerConfig } from "../config/authorizer-config.js";
import type { TrustedRealm } from "../config/trusted-issuers.js";
import {
  AlgorithmNotAllowedError,
  type AuthorizerError,
  ClientNotAllowedError,
  EmbeddedKeyHeaderError,
  IatInFutureError,
  InvalidIssuerError,
  InvalidSignatureError,
  KeysUnavailableError,
  InvalidTokenTypeError,
  MissingExpError,
  MissingIatError,
  MissingKidError,
  MissingSubjectError,
  NonCanonicalTokenError,
  TokenTooLargeError,
  UnknownRealmError,
  UnsupportedCritError,
  withoutStack,
} from "../errors.js";
import { discoveryUrl } from "../keys/discovery.js";
import { createFetchJson } from "../keys/fetch-json.js";
import type { JwksCache, KeyFetch } from "../keys/jwks-cache.js";
import { isCanonicalEcdsaSignature } from "../keys/key-rules.js";
import { assertCanonical, decodeJwt, type DecodedJwt } from "./jwt-decoder.js";
import { translateError } from "./library-errors.js";
import { RealmVerifiers } from "./realm-verifiers.js";
import { isRsaPssAlgorithm, verifyRsaPss } from "./rsa-pss-signature.js";
import { VerifiedTokenCache } from "./verified-token-cache.js";
import { realmJwksCache } from "../keys/realm-jwks.js";

export interface AccessTokenVerifier {
  /** Resolves with the verified token, or rejects with an AuthorizerError. */
  verify(token: string): Promise<VerifiedToken>;
  /** Fetch the keys ahead of the first request. */
  prefetch(): Promise<void>;
}

export interface VerifierDependencies {
  /** The key cache of the one exact issuer (tests inject one); ignored for other realms. */
  readonly jwksCache?: JwksCache;
  /** Told of every discovery and JWKS fetch, with the realm (for metrics). */
  readonly onKeyFetch?: (fetch: KeyFetch & { readonly realm: string }) => void;
}

/** Headers that carry or point at keys: a verifier that honoured them would trust the attacker. */
const EMBEDDED_KEY_HEADERS = ["jwk", "jku", "x5u", "x5c"] as const;

/**
 * aws-jwt-verify's JwksCache interface, answered with the one key this verification has already
 * resolved: fetching is the JwksCache's job (lib/keys/jwks-cache.ts), checking aws-jwt-verify's,
 * and the crypto always runs synchronously, right after the key is known.
 */
class ResolvedKey {
  private key: JwkWithKid | undefined;
  use(key: JwkWithKid): this {
    this.key = key;
    return this;
  }
  getCachedJwk(): JwkWithKid {
    const key = this.key;
    this.key = undefined;
    if (key === undefined) throw new JwksNotAvailableInCacheError("no key resolved for this verification");
    return key;
  }
  getJwk(): Promise<JwkWithKid> {
    return Promise.resolve(this.getCachedJwk());
  }
  addJwks(): void {}
  getJwks(): Promise<Jwks> {
    return Promise.resolve({ keys: [] });
  }
}

/** aws-jwt-verify's JwtVerifier, opened up so a token decoded once (lib/token/jwt-decoder.ts) is verified as is. */
class DecodedJwtVerifier extends JwtVerifier<VerifyProperties, { issuer: string; jwksUri: string } & VerifyProperties, false> {
  constructor(
    private readonly properties: { issuer: string; jwksUri: string } & VerifyProperties,
    private readonly resolved: ResolvedKey,
  ) {
    super(properties, resolved);
  }
  verifyWith(key: JwkWithKid, jwt: DecomposedJwt): JwtPayload {
    this.resolved.use(key);
    return this.verifyDecomposedJwtSync(jwt, this.properties.jwksUri, this.properties);
  }
}

/**
 * Build the verifier once, in module scope: its key cache and token cache live as long as the
 * Lambda instance.
 *
 * @example
 * const verifier = createAccessTokenVerifier(loadAuthorizerConfig(process.env));
 * const { claims } = await verifier.verify(token);
 */
export function createAccessTokenVerifier(config: AuthorizerConfig, dependencies: VerifierDependencies = {}): AccessTokenVerifier {
  const skew = config.clockSkewSeconds;
  const allowedAlgorithms: ReadonlySet<string> = new Set(config.algorithms);
  const fetchJson = createFetchJson({ timeoutMs: config.fetchTimeoutMs, allowHttp: config.allowHttp });

  // A repeated token (a client reusing its access token for every call) skips parsing and the
  // signature. Entries go whenever a realm's key set changes; each hit re-applies exp/nbf/iat
  // with the same skew, and is served only while its realm's keys are fresh.
  const verified = new VerifiedTokenCache<Verified>({ maxEntries: config.tokenCacheSize, clockSkewSeconds: skew });

  /** A realm's claim rules (KEYCLOAK_REALM_RULES over the defaults): cheap, no state, no budget. */
  const realmRules = (realm: TrustedRealm): RealmRules => {
    const rules = config.realmRules.get(realm.name);
    const fieldRules = { issuer: realm.issuer, audience: [...(rules?.audiences ?? config.audiences)], graceSeconds: skew };
    return {
      allowedClients: new Set(rules?.allowedClients ?? config.allowedClients),
      fieldRules,
      // A lightweight token has no aud to check: its audience is the introspection answer's (lib/introspection).
      lightweightFieldRules: config.lightweightTokens ? { ...fieldRules, audience: null } : undefined,
    };
  };

  /** What one realm needs to verify its tokens, built the first time a token names it. */
  const realmState = (realm: TrustedRealm): RealmState => {
    const single = config.issuers.single;
    const keys =
      dependencies.jwksCache !== undefined && single !== undefined && realm.issuer === single.issuer
        ? dependencies.jwksCache
        : realmJwksCache(
            realm,
            config,
            fetchJson,
            dependencies.onKeyFetch === undefined ? undefined : (fetch: KeyFetch) => dependencies.onKeyFetch?.({ ...fetch, realm: realm.name }),
          );
    keys.onChange(() => verified.clear());
    const { allowedClients, fieldRules, lightweightFieldRules } = realmRules(realm);
    // The jwksUri only shows up in aws-jwt-verify's messages: the key is resolved before it is asked.
    const properties = { issuer: realm.issuer, jwksUri: discoveryUrl(realm.issuer), graceSeconds: skew };
    const core = new DecodedJwtVerifier({ ...properties, audience: fieldRules.audience }, new ResolvedKey());
    const lightweightCore = lightweightFieldRules === undefined ? undefined : new DecodedJwtVerifier({ ...properties, audience: null }, new ResolvedKey());
    return { realm, keys, core, lightweightCore, allowedClients, fieldRules, lightweightFieldRules };
  };
  const realms = new RealmVerifiers<RealmState>({
    create: realmState,
    maxRealms: config.maxRealms,
    discoveriesPerSecond: config.realmDiscoveriesPerSecond,
    unknownRealmMs: config.unknownRealmSeconds * 1000,
  });
  // The common case, one exact issuer, skips the lookup by issuer.
  const single = config.issuers.single === undefined ? undefined : realms.get(config.issuers.single);

  // The rest of the Keycloak access-token profile, after aws-jwt-verify's own claim rules.
  const checkProfile = (payload: JwtPayload, state: RealmRules, lightweight: boolean): void => {
    if (payload.exp === undefined) throw new MissingExpError("token has no exp");
    if (payload.iat === undefined) throw new MissingIatError("token has no iat");
    if (payload.iat - skew > Date.now() / 1000) throw new IatInFutureError("token iat is in the future");
    // Keycloak writes "DPoP" into the access tokens it binds to a DPoP key (26.4, checked against it
    // in test/contract); what binds them is `cnf.jkt`, checked per request, not this label.
    if (payload.typ !== "Bearer" && payload.typ !== "DPoP") throw new InvalidTokenTypeError("token typ is neither Bearer nor DPoP");
    if (state.allowedClients.size > 0 && !(typeof payload.azp === "string" && state.allowedClients.has(payload.azp))) {
      throw new ClientNotAllowedError("token azp is not an allowed client");
    }
    if (lightweight) {
      // No sub: the caller is named by its session, or its client (principalOf). Keycloak always writes azp.
      if (typeof payload.azp !== "string" || payload.azp === "") throw new MissingSubjectError("lightweight token has no azp to name the caller");
      return;
    }
    const principal = Object.hasOwn(payload, config.principalClaim) ? payload[config.principalClaim] : undefined;
    if (typeof principal !== "string" || principal === "") {
      throw new MissingSubjectError(`token has no ${config.principalClaim} claim to name the caller`);
    }
  };
  /** Who the caller is: the principal claim; for a lightweight token without it, its session or its client. */
  const principalOf = (claims: JwtPayload, lightweight: boolean): string => {
    const principal = claims[config.principalClaim];
    if (typeof principal === "string" && principal !== "") return principal;
    return lightweight ? String(typeof claims.sid === "string" && claims.sid !== "" ? claims.sid : claims.azp) : String(principal);
  };
  /** With KEYCLOAK_LIGHTWEIGHT_TOKENS, a token with no aud claim at all (a wrong aud is still refused). */
  const isLightweight = (payload: JwtPayload, rules: RealmRules): boolean => rules.lightweightFieldRules !== undefined && isLightweightToken(payload);
  const fieldRulesFor = (rules: RealmRules, lightweight: boolean): RealmRules["fieldRules"] | NonNullable<RealmRules["lightweightFieldRules"]> =>
    (lightweight ? rules.lightweightFieldRules : undefined) ?? rules.fieldRules;

  /**
   * The trusted realm a token's `iss` names, and its state when already had. A new pattern realm's
   * state (which spends the discovery budget) is made only once the token's claims passed, so
   * that tokens refused anyway (expired, other audience...) cannot use the budget up.
   */
  const realmOf = (iss: unknown): { realm: TrustedRealm; held: RealmState | undefined } => {
    if (single !== undefined) {
      if (iss !== single.realm.issuer) throw new InvalidIssuerError("token iss is not a trusted issuer");
      return { realm: single.realm, held: single };
    }
    // aws-jwt-verify caches each converted public key under the token's still unverified `iss`,
    // and each realm's keys are fetched from where its issuer points: only a trusted issuer ever
    // reaches either (lib/config/trusted-issuers.ts says which, and how strictly).
    const realm = config.issuers.match(iss);
    if (realm === undefined) throw new InvalidIssuerError("token iss is not a trusted issuer");
    return { realm, held: realms.peek(realm) };
  };

  // Everything decidable from the token string alone, before any key lookup or crypto:
  // size, form, header, issuer, canonical encoding, then every claim.
  const decode = (token: string): { decoded: DecodedJwt; state: RealmState; lightweight: boolean } => {
    // Before any parsing: a hostile multi-megabyte token must cost nothing.
    if (token.length > config.maxTokenBytes) throw new TokenTooLargeError("token exceeds the size cap");
    const decoded = decodeJwt(token);
    checkHeader(decoded.header, allowedAlgorithms);
    const { realm, held } = realmOf(decoded.payload.iss);
    const rules = held ?? realmRules(realm);
    const lightweight = isLightweight(decoded.payload, rules);
    try {
      assertCanonical(decoded);
      withoutStack(() => validateJwtFields(decoded.payload, fieldRulesFor(rules, lightweight)));
      checkProfile(decoded.payload, rules, lightweight);
    } catch (error) {
      throw withRealmName(translateError(error), realm.name);
    }
    return { decoded, state: held ?? realms.get(realm), lightweight };
  };

  const verifiedToken = (decoded: DecodedJwt, state: RealmState, claims: JwtPayload, lightweight: boolean): Verified => ({
    token: {
      claims,
      claimsJson: decoded.payloadJson,
      principal: principalOf(claims, lightweight),
      kid: decoded.header.kid as string,
      realm: state.realm.name,
      issuer: state.realm.issuer,
      ...(lightweight ? { lightweight: true as const } : {}),
    },
    state,
  });
  const verifyDecoded = (decoded: DecodedJwt, state: RealmState, key: JwkWithKid, lightweight: boolean): Verified => {
    const alg = decoded.header.alg as string;
    // After the key lookup, so that a signature of another key type is reported as that
    // (key_algorithm_mismatch), not as an ill-formed ECDSA signature.
    if (alg.startsWith("ES") && !isCanonicalEcdsaSignature(alg, Buffer.from(decoded.signatureB64, "base64url"), config.ecdsaAllowHighS)) {
      throw new NonCanonicalTokenError("ECDSA signature is not in canonical (low-S, r || s) form");
    }
    if (isRsaPssAlgorithm(alg)) {
      // The same key binding (usableKey), allow-list and claim checks (decode) as every other
      // algorithm; only the signature is node:crypto's, then the claims again, as aws-jwt-verify
      // re-checks them after its signature.
      if (!verifyRsaPss(alg, `${decoded.headerB64}.${decoded.payloadB64}`, Buffer.from(decoded.signatureB64, "base64url"), key)) {
        throw new InvalidSignatureError("signature does not verify");
      }
      withoutStack(() => validateJwtFields(decoded.payload, fieldRulesFor(state, lightweight)));
      return verifiedToken(decoded, state, decoded.payload, lightweight);
    }
    // aws-jwt-verify signals a bad signature or claim by throwing: without a stack, which refusals
    // never need (the price: an unexpected error from inside it arrives stackless too, still
    // logged by name and message as an internal_error).
    const core = (lightweight ? state.lightweightCore : undefined) ?? state.core;
    return verifiedToken(
      decoded,
      state,
      withoutStack(() => core.verifyWith(key, decoded)),
      lightweight,
    );
  };

  const keyFor = async (decoded: DecodedJwt, state: RealmState): Promise<JwkWithKid> => {
    const kid = decoded.header.kid as string;
    const alg = decoded.header.alg as string;
    try {
      return state.keys.lookup(kid, alg) ?? (await state.keys.load(kid, alg));
    } catch (error) {
      // Keycloak has no such realm: a realm of a pattern that was deleted, or never existed.
      if (state.realm.fromPattern && error instanceof KeysUnavailableError && error.httpStatus === 404) {
        realms.forgetAbsent(state.realm);
        throw new UnknownRealmError("Keycloak has no such realm", { cause: error });
      }
      throw error;
    }
  };

  return {
    async verify(token) {
      let state: RealmState | undefined;
      try {
        const hit = verified.get(token);
        if (hit !== undefined && hit.state.keys.hasFreshKeys()) return hit.token;
        const decodedToken = decode(token);
        state = decodedToken.state;
        // Warm path: no promise hop before the crypto when the key is already known.
        const key = await keyFor(decodedToken.decoded, state);
        const result = verifyDecoded(decodedToken.decoded, state, key, decodedToken.lightweight);
        realms.confirm(state.realm);
        // The crypto ran right after the key was known, with no await in between, so the result
        // belongs to the realm's current key set: safe to remember until a key set changes.
        verified.set(token, result, result.token.claims);
        return result.token;
      } catch (error) {
        throw withRealm(translateError(error), state);
      }
    },
    async prefetch() {
      // Realms of a pattern are only known from tokens; exact issuers can be fetched now.
      const results = await Promise.allSettled(config.issuers.exact.map((realm) => realms.get(realm).keys.prefetch()));
      const failed = results.find((result): result is PromiseRejectedResult => result.status === "rejected");
      if (failed !== undefined) throw translateError(failed.reason);
    },
  };
}

/** The claim rules of one realm. */
interface RealmRules {
  readonly allowedClients: ReadonlySet<string>;
  readonly fieldRules: { readonly issuer: string; readonly audience: string[]; readonly graceSeconds: number };
  /** With KEYCLOAK_LIGHTWEIGHT_TOKENS: the same rules without the audience, for tokens with no aud claim. */
  readonly lightweightFieldRules: { readonly issuer: string; readonly audience: null; readonly graceSeconds: number } | undefined;
}

/** One realm's verification state. */
interface RealmState extends RealmRules {
  readonly realm: TrustedRealm;
  readonly keys: JwksCache;
  readonly core: DecodedJwtVerifier;
  readonly lightweightCore: DecodedJwtVerifier | undefined;
}

/** A verified token with the realm state that verified it (the token cache's entries). */
interface Verified {
  readonly token: VerifiedToken;
  readonly state: RealmState;
}

/** Name the trusted realm on the error, for logs and metrics (bounded: trusted names only). */
function withRealm<E extends AuthorizerError>(error: E, state: RealmState | undefined): E {
  return withRealmName(error, state?.realm.name);
}

function withRealmName<E extends AuthorizerError>(error: E, name: string | undefined): E {
  if (name !== undefined && error.realm === undefined) error.realm = name;
  return error;
}

/** The JOSE header rules every token of the realm meets (also those of logout tokens, lib/token/logout-token-verifier.ts). */
export function checkHeader(header: JwtHeader, allowedAlgorithms: ReadonlySet<string>): void {
  // Exact, case-sensitive match: "none", "NONE", "HS256" and anything unlisted stop here.
  if (typeof header.alg !== "string" || !allowedAlgorithms.has(header.alg)) {
    throw new AlgorithmNotAllowedError("token alg is not in the allow-list");
  }
  if (typeof header.kid !== "string" || header.kid === "") throw new MissingKidError("token header has no kid");
  // RFC 7515 4.1.11: a recipient must reject `crit` it does not understand; we understand none.
  if (header.crit !== undefined) throw new UnsupportedCritError("token header has crit parameters");
  for (const name of EMBEDDED_KEY_HEADERS) {
    if (Object.hasOwn(header, name)) throw new EmbeddedKeyHeaderError(`token header carries ${name}`);
  }
}
