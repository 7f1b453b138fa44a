/**
 * DPoP proof ids (`jti`) already used, so that a proof works once (RFC 9449 section 11.1).
 *
 * What a Lambda authorizer can promise: each instance remembers the proofs it has accepted for as
 * long as they could be accepted again (the proof window), so a replay to the same instance is
 * refused. API Gateway spreads requests over many instances, each with its own memory, so a proof
 * replayed to another instance within the window is not caught by this cache: the window (its
 * `iat` age limit, `htm`, `htu` and `ath`) is then the only bound. A store shared by every
 * instance (DynamoDB with a conditional put and a TTL, Redis `SET NX EX`) closes that gap: pass one
 * implementing ReplayStore (docs/dpop.md).
 */
import { DpopReplayStoreUnavailableError } from "../errors.js";

/** Where used proof ids are remembered. */
export interface ReplayStore {
  /**
   * Record `jti` as used until `expiresAt` (seconds since the epoch): true when it was not in use,
   * false when it was (a replay). Throws (or rejects) when it cannot tell: the request then fails
   * (500), it is never let through unchecked.
   */
  claim(jti: string, expiresAt: number): boolean | Promise<boolean>;
}

export interface MemoryReplayCacheOptions {
  /** Ids remembered at most; a new proof finding the cache full of live ids fails the request. */
  readonly maxEntries: number;
  /** Milliseconds since the epoch; tests drive it. */
  readonly now?: () => number;
}

/**
 * One instance's memory of used proof ids, bounded. Entries are kept in insertion order with a
 * non-decreasing expiry (an entry is kept until the latest expiry seen so far when it was added,
 * never shorter than its own), so expired ids are dropped from the front, in constant time per
 * request, and a flood cannot make any call scan the whole cache.
 */
export class MemoryReplayCache implements ReplayStore {
  private readonly seen = new Map<string, number>();
  private latestExpiry = Number.NEGATIVE_INFINITY;
  private readonly now: () => number;

  constructor(private readonly options: MemoryReplayCacheOptions) {
    this.now = options.now ?? Date.now;
  }

  claim(jti: string, expiresAt: number): boolean {
    const now = this.now() / 1000;
    // An id is kept through its last acceptable second (`expiresAt` itself), dropped after it.
    for (const [id, expiry] of this.seen) {
      if (expiry >= now) break;
      this.seen.delete(id);
    }
    if (this.seen.has(jti)) return false;
    // Every entry left is live: dropping one would let its proof be replayed.
    if (this.seen.size >= this.options.maxEntries) throw new DpopReplayStoreUnavailableError("the DPoP replay cache is full of live proof ids");
    this.latestExpiry = Math.max(this.latestExpiry, expiresAt);
    this.seen.set(jti, this.latestExpiry);
    return true;
  }

  /** Ids remembered now (for tests and metrics). */
  get size(): number {
    return this.seen.size;
  }
}
