/**
 * The authorizer's revocation rule, as a request check (lib/authorizer/authorizer-handler.ts): a
 * token whose session (`sid`) Keycloak ended, or whose subject was logged out (without a `sid`)
 * at or after its `iat`, is refused (`session_revoked`).
 *
 * Each instance caches every lookup, revoked or not, for `cacheMs`, and concurrent requests for the
 * same key share one read: at most one store read per `sid` (and per `sub`) per cache period per
 * instance, and a repeated token costs two map lookups. The price is the delay: a logout reaches
 * an instance that has already looked the session up within `cacheMs` (plus, in front of it, API
 * Gateway's result cache for a token it has already answered).
 *
 * When the store cannot be read, the answer is unknown: refused as a failure (a 500,
 * `revocation_unavailable`, logged and counted as every authorizer failure is), unless `failOpen`,
 * when the token is allowed and the outage reported through `onFailOpen`.
 * After a failed read, no new read is tried for `failureBackoffMs`, so an outage costs one timeout
 * per instance and period rather than one per request.
 */
import type { RequestCheck } from "../authorizer/authorizer-handler.js";
import { MalformedTokenError, RevocationUnavailableError, SessionRevokedError, TokenOutlivesRevocationError } from "../errors.js";

/**
 * Keycloak's `sid` and `sub` are UUIDs (36 characters); a store key also holds the issuer and must
 * stay within DynamoDB's 2048-byte partition key. A longer or not well-formed value (a lone
 * surrogate) would make the read itself fail, and a failed read backs every lookup of the instance
 * off: so such a token is refused on its own, before any read.
 */
const MAX_SESSION_CLAIM = 255;
const usable = (value: string): boolean => value.length <= MAX_SESSION_CLAIM && !/[\uD800-\uDFFF]/.test(value.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, ""));
import { sessionKey, subjectKey, type RevocationReader } from "./revocation-store.js";

export interface RevocationCheckOptions {
  readonly reader: RevocationReader;
  /** How long a lookup is trusted. */
  readonly cacheMs: number;
  /** Allow tokens while the store cannot be read (reported through onUnavailable). */
  readonly failOpen: boolean;
  /** Told of every request allowed without the store (failOpen); refusals are reported as the authorizer's failures. */
  readonly onFailOpen?: (error: RevocationUnavailableError) => void;
  /** Tokens living longer (`exp - iat`) than revocations are kept are refused; none when absent. */
  readonly maxTokenLifetimeSeconds?: number;
  /** Cached keys at most; the oldest go first. */
  readonly maxEntries?: number;
  readonly failureBackoffMs?: number;
  readonly now?: () => number;
}

interface Entry {
  /** Epoch seconds of the logout, or undefined: not revoked. */
  readonly revokedAt: number | undefined;
  readonly until: number;
}

export function createRevocationCheck(options: RevocationCheckOptions): RequestCheck {
  const { reader, cacheMs, failOpen } = options;
  const now = options.now ?? Date.now;
  const maxEntries = options.maxEntries ?? 10_000;
  const failureBackoffMs = options.failureBackoffMs ?? 1000;
  const cache = new Map<string, Entry>();
  const inflight = new Map<string, Promise<void>>();
  let retryAt = Number.NEGATIVE_INFINITY;
  let lastFailure: RevocationUnavailableError | undefined;

  const remember = (key: string, revokedAt: number | undefined, at: number): void => {
    cache.delete(key);
    if (cache.size >= maxEntries) {
      // Map order is insertion order: the first key is the least recently refreshed.
      const oldest = cache.keys().next().value;
      if (oldest !== undefined) cache.delete(oldest);
    }
    cache.set(key, { revokedAt, until: at + cacheMs });
  };

  /** One read for every key not known yet; concurrent callers share it. */
  const fetch = (keys: readonly string[]): Promise<void> => {
    const waiting: Promise<void>[] = [];
    const missing: string[] = [];
    for (const key of keys) {
      const pending = inflight.get(key);
      if (pending !== undefined) waiting.push(pending);
      else missing.push(key);
    }
    if (missing.length > 0) {
      if (now() < retryAt && lastFailure !== undefined) return Promise.reject(lastFailure);
      const read = reader.read(missing).then(
        (found) => {
          const at = now();
          for (const key of missing) remember(key, found.get(key), at);
          lastFailure = undefined;
        },
        (cause: unknown) => {
          lastFailure = new RevocationUnavailableError("the revocation store cannot be read", { cause });
          retryAt = now() + failureBackoffMs;
          throw lastFailure;
        },
      );
      const settled = read.finally(() => {
        for (const key of missing) if (inflight.get(key) === settled) inflight.delete(key);
      });
      for (const key of missing) inflight.set(key, settled);
      waiting.push(settled);
    }
    return Promise.all(waiting).then(() => undefined);
  };

  const decide = (issuer: string, sid: string | undefined, sub: string | undefined, iat: number): void => {
    if (sid !== undefined && cache.get(sessionKey(issuer, sid))?.revokedAt !== undefined) throw new SessionRevokedError("the token's session was ended");
    const cutOff = sub === undefined ? undefined : cache.get(subjectKey(issuer, sub))?.revokedAt;
    if (cutOff !== undefined && iat <= cutOff) throw new SessionRevokedError("the token's subject was logged out after it was issued");
  };

  // A repeated token comes back from the verifier with the same claims object: "not revoked until"
  // is remembered on it, so its later requests cost one weak-map lookup.
  const clearedUntil = new WeakMap<object, number>();

  return function revocationCheck({ verified: { claims, issuer } }) {
    const at = now();
    if ((clearedUntil.get(claims) ?? 0) > at) return;
    const sid = typeof claims.sid === "string" && claims.sid !== "" ? claims.sid : undefined;
    const sub = typeof claims.sub === "string" && claims.sub !== "" ? claims.sub : undefined;
    const maxLifetime = options.maxTokenLifetimeSeconds;
    if (maxLifetime !== undefined && typeof claims.exp === "number" && typeof claims.iat === "number" && claims.exp - claims.iat > maxLifetime) {
      throw new TokenOutlivesRevocationError(`token lives longer than KEYCLOAK_MAX_TOKEN_LIFETIME_SECONDS (${maxLifetime} s), past its revocation's record`);
    }
    if ((sid !== undefined && !usable(sid)) || (sub !== undefined && !usable(sub))) {
      throw new MalformedTokenError(`token sid or sub is over ${MAX_SESSION_CLAIM} characters or not well-formed: no session of Keycloak's`);
    }
    const iat = claims.iat as number;
    const keys: string[] = [];
    if (sid !== undefined) {
      const key = sessionKey(issuer, sid);
      if (!((cache.get(key)?.until ?? 0) > at)) keys.push(key);
    }
    if (sub !== undefined) {
      const key = subjectKey(issuer, sub);
      if (!((cache.get(key)?.until ?? 0) > at)) keys.push(key);
    }
    const clear = (): void => {
      decide(issuer, sid, sub, iat);
      const until = Math.min(
        sid === undefined ? Number.POSITIVE_INFINITY : (cache.get(sessionKey(issuer, sid))?.until ?? 0),
        sub === undefined ? Number.POSITIVE_INFINITY : (cache.get(subjectKey(issuer, sub))?.until ?? 0),
      );
      if (Number.isFinite(until)) clearedUntil.set(claims, until);
    };
    // Everything known: decided without a promise.
    if (keys.length === 0) return clear();
    return fetch(keys).then(clear, (error: unknown) => {
      const failure = error instanceof RevocationUnavailableError ? error : new RevocationUnavailableError("revocation lookup failed", { cause: error });
      if (!failOpen) throw failure;
      options.onFailOpen?.(failure);
    });
  };
}
