/**
 * One verifier per trusted realm (its key cache, its aws-jwt-verify verifier, its rules), found
 * by the realm the token's issuer matched. Exact issuers are held for good; realms of a `{realm}`
 * pattern come and go, so they are held in a bounded set (least recently used dropped), new ones
 * are discovered at a bounded rate, and realms Keycloak does not know (404) are remembered for a
 * while so that a flood of tokens for deleted or invented realms fetches nothing.
 *
 * Two budgets of that rate, not one: anyone can send a token naming an invented realm (its claims
 * are the sender's to write, its signature is checked only once the realm's keys are there), so a
 * flood of such names spends the budget of realms never seen. A realm that has signed a token this
 * instance verified is *proven*; when it was dropped (least recently used) and comes back, it is
 * discovered again from a budget of its own, which invented names cannot reach. So a flood delays
 * only realms new to the instance, and Keycloak sees at most twice the rate (each budget's);
 * KEYCLOAK_REALMS_ALLOW keeps a flood from spending anything.
 */
import type { TrustedRealm } from "../config/trusted-issuers.js";
import { RealmDiscoveryThrottledError, UnknownRealmError } from "../errors.js";

export interface RealmVerifiersOptions<V> {
  /** Builds the state of one realm (its keys, its verifier); called once per realm held. */
  readonly create: (realm: TrustedRealm) => V;
  /** Pattern realms held at once. */
  readonly maxRealms: number;
  /** First fetches of pattern realms not held, per second (a burst of as many). */
  readonly discoveriesPerSecond: number;
  /** How long a realm Keycloak answered 404 for is refused without a fetch. */
  readonly unknownRealmMs: number;
  readonly now?: () => number;
}

interface Held<V> {
  readonly value: V;
  /** Set by a use: a used entry survives one pass of eviction (CLOCK). */
  used: boolean;
}

/** How many absent realms are remembered, at most (a flood of names cannot grow it further). */
const MAX_UNKNOWN = 10_000;
/** How many proven realms are remembered, at most (names only; past it the oldest is forgotten). */
const MAX_PROVEN = 10_000;

/** A token bucket: `rate` a second, a burst of as many. */
class Budget {
  private tokens: number;
  private refilledAt: number;
  constructor(
    private readonly rate: number,
    private readonly now: () => number,
  ) {
    this.tokens = rate;
    this.refilledAt = now();
  }
  take(): boolean {
    const now = this.now();
    this.tokens = Math.min(this.rate, this.tokens + ((now - this.refilledAt) / 1000) * this.rate);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export class RealmVerifiers<V> {
  private readonly exact = new Map<string, V>();
  private readonly held = new Map<string, Held<V>>();
  private readonly unknown = new Map<string, number>();
  private readonly proven = new Set<string>();
  private readonly now: () => number;
  private readonly newRealms: Budget;
  private readonly provenRealms: Budget;

  constructor(private readonly options: RealmVerifiersOptions<V>) {
    this.now = options.now ?? Date.now;
    this.newRealms = new Budget(options.discoveriesPerSecond, this.now);
    this.provenRealms = new Budget(options.discoveriesPerSecond, this.now);
  }

  /** How many pattern realms are held now. */
  get size(): number {
    return this.held.size;
  }

  /**
   * The realm's state when it is already had (an exact issuer's, built once without any budget;
   * a held pattern realm's): for checks that must not spend the discovery budget.
   */
  peek(realm: TrustedRealm): V | undefined {
    if (!realm.fromPattern) return this.get(realm);
    const held = this.held.get(realm.issuer);
    if (held !== undefined) held.used = true;
    return held?.value;
  }

  /** The realm's state; throws UnknownRealmError or RealmDiscoveryThrottledError for a pattern realm that cannot be had now. */
  get(realm: TrustedRealm): V {
    if (!realm.fromPattern) {
      let value = this.exact.get(realm.issuer);
      if (value === undefined) {
        value = this.options.create(realm);
        this.exact.set(realm.issuer, value);
      }
      return value;
    }
    const held = this.held.get(realm.issuer);
    if (held !== undefined) {
      held.used = true;
      return held.value;
    }
    const absentUntil = this.unknown.get(realm.issuer);
    if (absentUntil !== undefined) {
      if (this.now() < absentUntil) throw new UnknownRealmError("Keycloak has no such realm (remembered)");
      this.unknown.delete(realm.issuer);
    }
    const budget = this.proven.has(realm.issuer) ? this.provenRealms : this.newRealms;
    if (!budget.take()) throw new RealmDiscoveryThrottledError("too many new realms this second: try again shortly");
    const value = this.options.create(realm);
    this.held.set(realm.issuer, { value, used: false });
    // Never the realm just made: it would be discovered again at its next token.
    if (this.held.size > this.options.maxRealms) this.evictOne(realm.issuer);
    return value;
  }

  /** Keycloak answered 404 for this pattern realm: drop it and refuse it for a while. */
  forgetAbsent(realm: TrustedRealm): void {
    if (!realm.fromPattern) return;
    this.held.delete(realm.issuer);
    // A deleted realm is proven no more: tokens naming it (no signature needed) would spend the proven budget.
    this.proven.delete(realm.issuer);
    if (this.options.unknownRealmMs === 0) return;
    if (this.unknown.size >= MAX_UNKNOWN) {
      const oldest = this.unknown.keys().next();
      if (oldest.done !== true) this.unknown.delete(oldest.value);
    }
    this.unknown.set(realm.issuer, this.now() + this.options.unknownRealmMs);
  }

  /**
   * A token of this pattern realm verified (its signature by the realm's key): the realm is real,
   * and is discovered from the proven realms' budget should it be dropped and needed again.
   */
  confirm(realm: TrustedRealm): void {
    if (!realm.fromPattern || this.proven.has(realm.issuer)) return;
    if (this.proven.size >= MAX_PROVEN) {
      const oldest = this.proven.values().next();
      if (oldest.done !== true) this.proven.delete(oldest.value);
    }
    this.proven.add(realm.issuer);
  }

  private evictOne(keep: string): void {
    for (const [issuer, entry] of this.held) {
      if (issuer === keep) continue;
      this.held.delete(issuer);
      if (!entry.used) return;
      entry.used = false;
      this.held.set(issuer, entry);
    }
  }
}
