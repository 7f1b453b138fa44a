/**
 * The time claims that bound how long a verification result stays true. Only numbers count:
 * the verifier has already refused tokens whose time claims are not numbers.
 */
export interface TokenTimes {
  readonly exp?: number | undefined;
  readonly nbf?: number | undefined;
  readonly iat?: number | undefined;
}

export interface VerifiedTokenCacheOptions {
  /** Most entries kept; the least recently used one is dropped first. 0 disables the cache. */
  readonly maxEntries: number;
  /** The verifier's clock skew, so a cached answer flips at exactly the instant a fresh check would. */
  readonly clockSkewSeconds: number;
  /** Milliseconds since the epoch; the verifier's time checks use `Date.now`, so this defaults to it. */
  readonly now?: () => number;
}

interface Entry<T> {
  readonly value: T;
  /** Served only while notBefore <= now <= notAfter (milliseconds). */
  readonly notBefore: number;
  readonly notAfter: number;
}

/**
 * Successful verifications, keyed by the whole token.
 *
 * Why the token itself: a hit skips the signature check, so a hit must mean "exactly this token".
 * Map lookup by string is exact equality (no collision can be crafted, unlike a fast hash or a
 * prefix), and V8 hashes the string once, natively: about a microsecond cheaper per call than a
 * SHA-256 digest, which matters on the hot path of every request. The cost is that up to
 * `maxEntries` accepted tokens (a few KB each) stay in this instance's memory until they expire
 * or are evicted; they were in memory to be verified anyway, and are never logged.
 *
 * Every entry is only as good as the key set that verified it: the owner clears the cache whenever
 * a new key set replaces the old one (rotation, or a refresh that might have withdrawn a key).
 *
 * Only acceptances are ever stored; a rejection is never remembered, so a later valid token is
 * never refused from here, and a refused token is never accepted from here.
 */
export class VerifiedTokenCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private readonly maxEntries: number;
  private readonly skewMs: number;
  private readonly now: () => number;

  constructor(options: VerifiedTokenCacheOptions) {
    if (!Number.isSafeInteger(options.maxEntries) || options.maxEntries < 0) {
      throw new RangeError("maxEntries must be a whole number, 0 or more");
    }
    this.maxEntries = options.maxEntries;
    this.skewMs = options.clockSkewSeconds * 1000;
    // Looked up on each call, not captured: the verifier's checks read the global Date.now at the
    // moment of the check (and so do fake clocks in tests), and the cache must agree with them.
    this.now = options.now ?? (() => Date.now());
  }

  get size(): number {
    return this.entries.size;
  }

  /** The cached value for exactly this token, if it is still in its time window. */
  get(token: string): T | undefined {
    if (this.maxEntries === 0) return undefined;
    const key = token;
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    const now = this.now();
    if (now > entry.notAfter || now < entry.notBefore) {
      // Past exp (plus skew) it can never be valid again; before nbf (a clock stepped back) it
      // could, but re-verifying is the safe and simple answer.
      this.entries.delete(key);
      return undefined;
    }
    // Most recently used goes last: Map keeps insertion order, so the first key is the LRU one.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  /**
   * Remember an acceptance, made with the current keys. `times` are the token's verified claims.
   * Call only after a successful check.
   */
  set(token: string, value: T, times: TokenTimes): void {
    if (this.maxEntries === 0) return;
    // No exp means no natural end: the verifier refuses such tokens, and neither do we keep them.
    if (typeof times.exp !== "number") return;
    // Same boundaries as aws-jwt-verify and the verifier's iat check: accepted while
    // exp + skew >= now, nbf - skew <= now and iat - skew <= now.
    const notAfter = times.exp * 1000 + this.skewMs;
    const notBefore = Math.max(
      typeof times.nbf === "number" ? times.nbf * 1000 - this.skewMs : Number.NEGATIVE_INFINITY,
      typeof times.iat === "number" ? times.iat * 1000 - this.skewMs : Number.NEGATIVE_INFINITY,
    );
    const now = this.now();
    if (now > notAfter || now < notBefore) return;
    const key = token;
    this.entries.delete(key);
    this.entries.set(key, { value, notBefore, notAfter });
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
  }

  /** Drop every entry: the keys that verified them have been replaced. */
  clear(): void {
    this.entries.clear();
  }
}
