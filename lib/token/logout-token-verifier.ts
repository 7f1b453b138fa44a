/**
 * Keycloak's logout tokens (OpenID Connect Back-Channel Logout 1.0, section 2.6) -> the session or
 * subject they end, or a typed rejection. The realm's keys, algorithm allow-list, key rules and
 * canonical form are the access tokens' (lib/keys/, lib/token/jwt-decoder.ts, checkHeader): a
 * logout token is a JWT of the same realm, told apart by its types, its `events` and its `aud`.
 *
 * What Keycloak 26.4 writes (observed on its back-channel POSTs, for the refresh-token logout and
 * an admin's "sign out"): header `{"alg":"RS256","typ":"logout+jwt","kid":...}`, payload
 * `exp` (iat + 120), `iat`, `jti`, `iss`, `aud` (the client, a string), `sub`, `typ: "Logout"`,
 * `sid` (with "Backchannel logout session required") and
 * `events: {"http://schemas.openid.net/event/backchannel-logout": {}}`. Both types are required
 * exactly: an access or ID token of the realm, whose `aud` may be one of these clients too, must
 * never be taken for a logout.
 *
 * As for access tokens, everything decidable from the token alone is checked before the key lookup
 * and the signature.
 */
import type { JwtPayload } from "aws-jwt-verify/jwt-model";
import { validateJwtFields } from "aws-jwt-verify/jwt";
import { verifyJwtSync } from "aws-jwt-verify/jwt-verifier";
import {
  IatInFutureError,
  InvalidIssuerError,
  InvalidSignatureError,
  KeysUnavailableError,
  LogoutRequestRejectedError,
  MissingIatError,
  NonCanonicalTokenError,
  TokenTooLargeError,
  UnknownRealmError,
  withoutStack,
} from "../errors.js";
import type { TrustedRealm } from "../config/trusted-issuers.js";
import type { JwksCache } from "../keys/jwks-cache.js";
import { isCanonicalEcdsaSignature } from "../keys/key-rules.js";
import { checkHeader } from "./access-token-verifier.js";
import { assertCanonical, decodeJwt } from "./jwt-decoder.js";
import { translateError } from "./library-errors.js";
import { isRsaPssAlgorithm, verifyRsaPss } from "./rsa-pss-signature.js";

/** The event a back-channel logout token must carry (section 2.4). */
export const BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout";
/** The header `typ` of Keycloak's logout tokens (the spec's recommended explicit type, section 2.4). */
export const LOGOUT_TOKEN_HEADER_TYPE = "logout+jwt";
/** The payload `typ` Keycloak writes into logout tokens. */
export const LOGOUT_TOKEN_TYPE = "Logout";

/** What a verified logout token ends: its session, or (without `sid`) every token of its subject issued before it. */
export interface VerifiedLogoutToken {
  readonly jti: string;
  readonly iat: number;
  /** The realm that sent it: its sessions and subjects are the only ones it can end. */
  readonly issuer: string;
  readonly realm: string;
  /** The client the token was sent for. */
  readonly client: string;
  readonly sid: string | undefined;
  readonly sub: string | undefined;
  readonly kid: string;
}

/** A trusted realm and its key set. */
export interface LogoutRealm {
  readonly realm: TrustedRealm;
  readonly keys: JwksCache;
  /** Told when Keycloak answers that a pattern's realm does not exist (remembered as absent). */
  readonly forgetAbsent?: () => void;
  /** Told when one of its logout tokens verified: the realm is real (lib/token/realm-verifiers.ts `confirm`). */
  readonly confirm?: () => void;
}

export interface LogoutTokenVerifierOptions {
  /**
   * The trusted realm a token's (still unverified) `iss` names, with its keys, or undefined: then
   * nothing is fetched. The authorizer's issuer rules (lib/config/trusted-issuers.ts) decide.
   * May throw a typed error (a realm-discovery budget spent).
   */
  readonly realmOf: (iss: unknown) => LogoutRealm | undefined;
  /** `aud` must be one of these. */
  readonly clients: readonly string[];
  readonly algorithms: readonly string[];
  readonly clockSkewSeconds: number;
  /** `iat` older than this (beyond the skew) is stale. */
  readonly maxAgeSeconds: number;
  readonly ecdsaAllowHighS: boolean;
  /** Logout tokens are small (Keycloak's: about 700 bytes); anything far larger is not one. */
  readonly maxTokenBytes?: number;
  readonly now?: () => number;
}

export interface LogoutTokenVerifier {
  /** Resolves with what the token ends, or rejects with an AuthorizerError. */
  verify(token: string): Promise<VerifiedLogoutToken>;
}

/**
 * A realm of a `{realm}` pattern that Keycloak does not have (404): the sender's mistake or a
 * forgery naming an invented realm, refused as such (400), not a key outage (503, "retry").
 */
function absentRealm(error: unknown, trusted: LogoutRealm): never {
  if (trusted.realm.fromPattern && error instanceof KeysUnavailableError && error.httpStatus === 404) {
    trusted.forgetAbsent?.();
    throw new UnknownRealmError("Keycloak has no such realm", { cause: error });
  }
  throw error;
}

const nonEmpty = (value: unknown): value is string => typeof value === "string" && value !== "";

export function createLogoutTokenVerifier(options: LogoutTokenVerifierOptions): LogoutTokenVerifier {
  const { clockSkewSeconds: skew, maxAgeSeconds } = options;
  const now = options.now ?? Date.now;
  const maxTokenBytes = options.maxTokenBytes ?? 8 * 1024;
  const allowedAlgorithms: ReadonlySet<string> = new Set(options.algorithms);
  const audience = [...options.clients];
  const refuse = (code: ConstructorParameters<typeof LogoutRequestRejectedError>[0], message: string): never => {
    throw new LogoutRequestRejectedError(code, message);
  };

  const checkClaims = (payload: JwtPayload, fieldRules: { issuer: string; audience: string[]; graceSeconds: number }): void => {
    if (payload.typ !== LOGOUT_TOKEN_TYPE) refuse("invalid_logout_token_type", `logout token typ is not ${LOGOUT_TOKEN_TYPE}`);
    if (payload.iat === undefined) throw new MissingIatError("logout token has no iat");
    const seconds = now() / 1000;
    if (payload.iat - skew > seconds) throw new IatInFutureError("logout token iat is in the future");
    if (payload.iat + maxAgeSeconds + skew < seconds) refuse("stale_logout_token", "logout token iat is older than the accepted age");
    // exp (when present), nbf, iss and aud, by aws-jwt-verify's rules; again after the signature.
    withoutStack(() => validateJwtFields(payload, fieldRules));
    if (!nonEmpty(payload.jti)) refuse("missing_jti", "logout token has no jti");
    const events = (payload as { events?: unknown }).events;
    const event =
      typeof events === "object" && events !== null && !Array.isArray(events) ? (events as Record<string, unknown>)[BACKCHANNEL_LOGOUT_EVENT] : undefined;
    if (typeof event !== "object" || event === null || Array.isArray(event) || !Object.hasOwn(events as object, BACKCHANNEL_LOGOUT_EVENT)) {
      refuse("missing_logout_event", "logout token has no back-channel logout event");
    }
    // Section 2.4: a logout token must not carry a nonce, so that an ID token can never pass as one.
    if (Object.hasOwn(payload, "nonce")) refuse("nonce_in_logout_token", "logout token carries a nonce");
    const { sid } = payload as { sid?: unknown };
    if (sid !== undefined && !nonEmpty(sid)) refuse("missing_logout_subject", "logout token sid is not a non-empty string");
    if (payload.sub !== undefined && !nonEmpty(payload.sub)) refuse("missing_logout_subject", "logout token sub is not a non-empty string");
    if (sid === undefined && payload.sub === undefined) refuse("missing_logout_subject", "logout token has neither sid nor sub");
  };

  return {
    async verify(token) {
      try {
        if (token.length > maxTokenBytes) throw new TokenTooLargeError("logout token exceeds the size cap");
        const decoded = decodeJwt(token);
        checkHeader(decoded.header, allowedAlgorithms);
        if (decoded.header.typ !== LOGOUT_TOKEN_HEADER_TYPE) refuse("invalid_logout_token_type", `logout token header typ is not ${LOGOUT_TOKEN_HEADER_TYPE}`);
        const iss = decoded.payload.iss;
        if (typeof iss !== "string") throw new InvalidIssuerError("logout token iss is not a trusted issuer");
        const fieldRules = { issuer: iss, audience, graceSeconds: skew };
        assertCanonical(decoded);
        checkClaims(decoded.payload, fieldRules);
        // After the claims (so that tokens refused anyway cannot spend a new realm's discovery
        // budget) and before any key lookup, as for access tokens: only trusted issuers' keys are
        // ever fetched or converted.
        const trusted = options.realmOf(iss);
        if (trusted === undefined) throw new InvalidIssuerError("logout token iss is not a trusted issuer");
        const { realm, keys } = trusted;
        const kid = decoded.header.kid as string;
        const alg = decoded.header.alg as string;
        const key = keys.lookup(kid, alg) ?? (await keys.load(kid, alg).catch((error: unknown) => absentRealm(error, trusted)));
        if (alg.startsWith("ES") && !isCanonicalEcdsaSignature(alg, Buffer.from(decoded.signatureB64, "base64url"), options.ecdsaAllowHighS)) {
          throw new NonCanonicalTokenError("ECDSA signature is not in canonical (low-S, r || s) form");
        }
        let payload: JwtPayload;
        if (isRsaPssAlgorithm(alg)) {
          // RSA-PSS realms (PS256/384/512), which aws-jwt-verify does not verify: as access tokens are.
          if (!verifyRsaPss(alg, `${decoded.headerB64}.${decoded.payloadB64}`, Buffer.from(decoded.signatureB64, "base64url"), key)) {
            throw new InvalidSignatureError("logout token signature does not verify");
          }
          payload = decoded.payload;
          withoutStack(() => validateJwtFields(payload, fieldRules));
        } else {
          payload = withoutStack(() => verifyJwtSync(token, key, fieldRules));
        }
        trusted.confirm?.();
        const { sid } = payload as { sid?: string };
        return {
          jti: payload.jti as string,
          iat: payload.iat as number,
          issuer: realm.issuer,
          realm: realm.name,
          client: [payload.aud].flat().find((aud) => aud !== undefined && audience.includes(aud)) as string,
          sid,
          sub: payload.sub,
          kid,
        };
      } catch (error) {
        throw translateError(error);
      }
    },
  };
}
