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
  /** Most entries kept; a full cache drops an entry not used since it was last passed over. 0 disables the cache. */
  readonly maxEntries: number;
  /** The verifier's clock skew, so a cached answer flips at exactly the instant a fresh check would. */
  readonly clockSkewSeconds: number;
  /** Milliseconds since the epoch; the verifier's time checks use `Date.now`, so this defaults to it. */
  readonly now?: () => number;
}

interface Entry<T> {
  /** The whole token: a hit is exactly this token, compared in full. */
  readonly token: string;
  readonly value: T;
  /** Set by a hit; an entry with it set survives one pass of eviction (CLOCK, an LRU approximation). */
  used: boolean;
  /** Served only while notBefore <= now <= notAfter (milliseconds). */
  readonly notBefore: number;
  readonly notAfter: number;
}

/**
 * Successful verifications, found by the token's last 43 characters (the end of its signature)
 * and confirmed by comparing the whole token.
 *
 * Why: a hit skips the signature check, so a hit must mean "exactly this token": the full string
 * comparison (a memcmp) guarantees it, whatever the key. Keying by the whole token instead would
 * make V8 hash a fresh 1-2 KB string on every lookup, about ten times the cost of the rest of a
 * hit. A crafted token that shares a cached token's tail simply misses. Up to `maxEntries`
 * accepted tokens (a few KB each) stay in this instance's memory until they expire or are
 * evicted; they were in memory to be verified anyway, and are never logged.
 *
 * Every entry is only as good as the key set that verified it: the owner clears the cache whenever
 * a new key set replaces the old one (rotation, or a refresh that might have withdrawn a key).
 *
 * Only acceptances are ever stored; a rejection is never remembered, so a later valid token is
 * never refused from here, and a refused token is never accepted from here.
 */
export class VerifiedTokenCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  /** Characters of the token's end used as the key: 258 bits of signature. */
  private static readonly KEY_LENGTH = 43;
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
    const key = token.slice(-VerifiedTokenCache.KEY_LENGTH);
    const entry = this.entries.get(key);
    if (entry === undefined || entry.token !== token) return undefined;
    const now = this.now();
    if (now > entry.notAfter || now < entry.notBefore) {
      // Past exp (plus skew) it can never be valid again; before nbf (a clock stepped back) it
      // could, but re-verifying is the safe and simple answer.
      this.entries.delete(key);
      return undefined;
    }
    entry.used = true;
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
    const key = token.slice(-VerifiedTokenCache.KEY_LENGTH);
    this.entries.delete(key);
    this.entries.set(key, { token, value, notBefore, notAfter, used: false });
    if (this.entries.size > this.maxEntries) this.evictOne();
  }

  /**
   * Drop the oldest entry not used since it was last passed over; a used one goes to the back
   * once (its flag cleared). Map keeps insertion order, so the first entries are the oldest.
   */
  private evictOne(): void {
    for (const [key, entry] of this.entries) {
      this.entries.delete(key);
      if (!entry.used) return;
      entry.used = false;
      this.entries.set(key, entry);
    }
  }

  /** Drop every entry: the keys that verified them have been replaced. */
  clear(): void {
    this.entries.clear();
  }
}
