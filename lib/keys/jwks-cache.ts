/**
 * The realm's signing keys, found through OIDC discovery and held for a bounded time. This is the
 * one place that decides when Keycloak is asked: a key lifetime, one in-flight fetch shared by
 * every caller, at most one refetch for unknown `kid`s per cooldown, a backoff after failures, and
 * stale-if-error; so neither a cold burst nor a flood of forged `kid`s hammers Keycloak.
 * Verification is not its business: lib/token/access-token-verifier.ts asks it for a key.
 */
import type { Jwks, JwkWithKid } from "aws-jwt-verify/jwk";
import { assertIsJwk } from "aws-jwt-verify/jwk";
import { KeyAlgorithmMismatchError, KeyNotUsableError, KeysUnavailableError, UnknownKidError } from "../errors.js";
import { discoverJwksUri } from "./discovery.js";
import type { FetchJson } from "./fetch-json.js";
import { judgeKey, jwkThumbprint, type KeyVerdict } from "./key-rules.js";

export interface KeyFetch {
  readonly kind: "discovery" | "jwks";
  readonly ok: boolean;
}

export interface JwksCacheOptions {
  readonly issuer: string;
  /** Refuse a discovered jwks_uri on another origin than the issuer's (realms of a pattern). */
  readonly sameOriginKeys?: boolean;
  /** Skip discovery and fetch keys here. */
  readonly jwksUri?: string | undefined;
  readonly fetchJson: FetchJson;
  /** Keys older than this are refreshed before use. */
  readonly maxAgeMs: number;
  /** At most one refetch for unknown `kid`s per this period, for the whole process. */
  readonly cooldownMs: number;
  /** After a failed refresh, known keys stay usable this long past their max age. */
  readonly maxStaleMs?: number;
  /** After a failed fetch, no new fetch is attempted for this long. */
  readonly failureBackoffMs?: number;
  readonly now?: () => number;
  /** Told of every discovery and JWKS fetch and whether it succeeded (for metrics). */
  readonly onFetch?: (fetch: KeyFetch) => void;
}

/** One published key, judged once when the key set is loaded. */
interface PublishedKey {
  /**
   * The JWK as handed to aws-jwt-verify: the published one under a `kid` that also names its
   * material (`<kid>#<RFC 7638 thumbprint>`). aws-jwt-verify keeps converted public keys keyed by
   * issuer, kid and alg for the life of the verifier; with the material in the kid, a key that the
   * realm replaces under the same kid is a different key to it, never the withdrawn one.
   */
  readonly jwk: JwkWithKid;
  readonly verdict: KeyVerdict;
}

interface KeySet {
  /** Every key published under a kid (RFC 7517 4.5 lets keys of different types share one). */
  readonly byKid: ReadonlyMap<string, readonly PublishedKey[]>;
  readonly fetchedAt: number;
}

export class JwksCache {
  private readonly options: Required<Omit<JwksCacheOptions, "jwksUri" | "onFetch" | "sameOriginKeys">>;
  private readonly sameOriginKeys: boolean;
  private readonly onFetch: JwksCacheOptions["onFetch"];
  private readonly listeners: (() => void)[] = [];
  private jwksUri: string | undefined;
  private keys: KeySet | undefined;
  private inflight: Promise<KeySet> | undefined;
  private lastUnknownKidRefetch = Number.NEGATIVE_INFINITY;
  private retryAt = Number.NEGATIVE_INFINITY;
  private lastFailure: KeysUnavailableError | undefined;

  constructor(options: JwksCacheOptions) {
    const { sameOriginKeys: _sameOrigin, jwksUri: _jwksUri, onFetch: _onFetch, ...policy } = options;
    this.options = { maxStaleMs: 0, failureBackoffMs: 5000, now: Date.now, ...policy };
    this.jwksUri = options.jwksUri;
    this.onFetch = options.onFetch;
    this.sameOriginKeys = options.sameOriginKeys ?? false;
  }

  /** Called whenever a new key set replaces the current one (anything derived from keys must go). */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /**
   * The synchronous fast path: the key for `kid` when the current key set is fresh and has it;
   * undefined when a fetch is needed. Throws for a key that may not verify a token of `alg`.
   */
  lookup(kid: string, alg: string): JwkWithKid | undefined {
    const keys = this.keys;
    if (keys === undefined || !this.isFresh(keys)) return undefined;
    return usableKey(keys, kid, alg);
  }

  /** The key for `kid`, fetching keys when they are missing, too old or lack `kid`. */
  async load(kid: string, alg: string): Promise<JwkWithKid> {
    const now = this.options.now();
    const keys = this.keys;
    if (keys !== undefined && this.isFresh(keys)) {
      return usableKey(keys, kid, alg) ?? this.refetchForUnknownKid(kid, alg, now);
    }
    let current: KeySet;
    try {
      current = await this.refresh();
    } catch (error) {
      // A short Keycloak outage must not lock everyone out: keys we already trust stay usable
      // for a bounded stale period. Past it, fail closed; and at once when Keycloak says the
      // realm is gone (404): its keys must stop verifying.
      const gone = error instanceof KeysUnavailableError && error.httpStatus === 404;
      if (keys === undefined || gone || now - keys.fetchedAt >= this.options.maxAgeMs + this.options.maxStaleMs) throw error;
      current = keys;
    }
    const jwk = usableKey(current, kid, alg);
    if (jwk === undefined) throw new UnknownKidError("no key with this kid in the realm's JWKS");
    return jwk;
  }

  /** True while the current keys are used without a refresh. */
  hasFreshKeys(): boolean {
    return this.keys !== undefined && this.isFresh(this.keys);
  }

  /** Fetch the keys now (ahead of the first request, at cold start). */
  async prefetch(): Promise<void> {
    await this.refresh();
  }

  /** One in-flight refresh (discovery if needed, then the JWKS) shared by every caller. */
  private refresh(): Promise<KeySet> {
    if (this.inflight !== undefined) return this.inflight;
    if (this.options.now() < this.retryAt && this.lastFailure !== undefined) return Promise.reject(this.lastFailure);
    this.inflight = this.fetchKeySet().then(
      (keys) => {
        this.keys = keys;
        this.lastFailure = undefined;
        this.inflight = undefined;
        for (const listener of this.listeners) listener();
        return keys;
      },
      (cause: unknown) => {
        const failure = cause instanceof KeysUnavailableError ? cause : new KeysUnavailableError("could not load the realm's keys", { cause });
        this.lastFailure = failure;
        this.retryAt = this.options.now() + this.options.failureBackoffMs;
        this.inflight = undefined;
        throw failure;
      },
    );
    return this.inflight;
  }

  private isFresh(keys: KeySet): boolean {
    return this.options.now() - keys.fetchedAt < this.options.maxAgeMs;
  }

  private async refetchForUnknownKid(kid: string, alg: string, now: number): Promise<JwkWithKid> {
    if (this.inflight === undefined) {
      if (now - this.lastUnknownKidRefetch < this.options.cooldownMs) {
        throw new UnknownKidError("unknown kid; refetch cooldown in effect");
      }
      this.lastUnknownKidRefetch = now;
    }
    // Callers that arrive while a refresh is under way share it instead of being turned away.
    const jwk = usableKey(await this.refresh(), kid, alg);
    if (jwk === undefined) throw new UnknownKidError("no key with this kid in the realm's JWKS");
    return jwk;
  }

  private async fetchKeySet(): Promise<KeySet> {
    if (this.jwksUri === undefined) {
      this.jwksUri = await this.counted("discovery", () => discoverJwksUri(this.options.issuer, this.options.fetchJson, { sameOrigin: this.sameOriginKeys }));
    }
    const jwksUri = this.jwksUri;
    return this.counted("jwks", async () => indexKeys(await this.options.fetchJson(jwksUri), this.options.now()));
  }

  private async counted<T>(kind: KeyFetch["kind"], fetch: () => Promise<T>): Promise<T> {
    try {
      const result = await fetch();
      this.onFetch?.({ kind, ok: true });
      return result;
    } catch (error) {
      this.onFetch?.({ kind, ok: false });
      throw error;
    }
  }
}

/**
 * The key for `kid`, undefined when unknown; throws for a key we refuse to verify with, and for a
 * token whose `alg` does not fit the key's material (an RS256 label on an ECDSA signature, say).
 */
function usableKey(keys: KeySet, kid: string, alg: string): JwkWithKid | undefined {
  const published = keys.byKid.get(kid);
  if (published === undefined) return undefined;
  const fitting = published.find(({ verdict }) => verdict.problem === undefined && verdict.algorithms.has(alg));
  if (fitting !== undefined) return fitting.jwk;
  const problem = published.find(({ verdict }) => verdict.problem !== undefined)?.verdict.problem;
  if (problem !== undefined && published.every(({ verdict }) => verdict.problem !== undefined)) {
    throw new KeyNotUsableError(`the key named by kid is not usable (${problem})`, { detail: { keyProblem: problem } });
  }
  throw new KeyAlgorithmMismatchError(`token alg ${JSON.stringify(alg)} does not fit the key named by kid`);
}

/** Keycloak publishes one key per kid; a few more are tolerated, not a flood. */
const MAX_KEYS_PER_KID = 4;

/**
 * Check the JWKS shape before use. Entries that are not well-formed JWKs or lack a `kid` are
 * skipped rather than poisoning the whole set; keys we refuse (encryption keys, weak RSA, a label
 * that contradicts the material) are kept with their verdict, so that a token naming one is refused
 * as "key not usable" rather than triggering refetches.
 */
function indexKeys(document: unknown, fetchedAt: number): KeySet {
  if (typeof document !== "object" || document === null || !Array.isArray((document as Partial<Jwks>).keys)) {
    throw new KeysUnavailableError("JWKS document has no keys array");
  }
  const byKid = new Map<string, PublishedKey[]>();
  for (const candidate of (document as { keys: unknown[] }).keys) {
    try {
      assertIsJwk(candidate as never);
    } catch {
      continue;
    }
    const jwk = candidate as JwkWithKid;
    if (typeof jwk.kid !== "string" || jwk.kid === "") continue;
    const verdict = judgeKey(jwk);
    const material = verdict.problem === undefined ? jwkThumbprint(jwk) : "unusable";
    const entry = { jwk: { ...jwk, kid: `${jwk.kid}#${material}` }, verdict };
    const sameKid = byKid.get(jwk.kid);
    if (sameKid === undefined) byKid.set(jwk.kid, [entry]);
    else if (sameKid.length < MAX_KEYS_PER_KID) sameKid.push(entry);
  }
  return { byKid, fetchedAt };
}
