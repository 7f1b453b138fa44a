import type { Jwks, JwksCache, JwkWithKid } from "aws-jwt-verify/jwk";
import { assertIsJwk } from "aws-jwt-verify/jwk";
import { JwksNotAvailableInCacheError } from "aws-jwt-verify/error";
import type { DecomposedJwt } from "aws-jwt-verify/jwt";
import { discoverJwksUri } from "./discovery.js";
import { KeyAlgorithmMismatchError, KeyNotUsableError, KeysUnavailableError, MissingKidError, UnknownKidError } from "./errors.js";
import type { FetchJson } from "./fetch-json.js";
import { judgeKey, jwkThumbprint, type KeyVerdict } from "./key-rules.js";

export interface KeycloakJwksCacheOptions {
  readonly issuer: string;
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
  readonly onFetch?: (fetch: { kind: "discovery" | "jwks"; ok: boolean }) => void;
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
  readonly jwks: Jwks;
  readonly byKid: ReadonlyMap<string, PublishedKey>;
  readonly fetchedAt: number;
}

/**
 * The realm's signing keys, found through OIDC discovery, behind aws-jwt-verify's `JwksCache`
 * interface. It replaces `SimpleJwksCache` because Keycloak needs discovery (the default
 * `/.well-known/jwks.json` guess is wrong for it) and because an authorizer needs a key lifetime,
 * one shared in-flight fetch, a per-process cooldown on unknown `kid`s and a backoff after
 * failures, so that neither a cold burst nor a flood of forged `kid`s hammers Keycloak.
 *
 * One instance serves one issuer, so the `jwksUri` argument of the interface is ignored.
 */
export class KeycloakJwksCache implements JwksCache {
  private readonly options: Required<Omit<KeycloakJwksCacheOptions, "jwksUri" | "onFetch">>;
  private readonly onFetch: KeycloakJwksCacheOptions["onFetch"];
  private jwksUri: string | undefined;
  private keys: KeySet | undefined;
  private inflight: Promise<KeySet> | undefined;
  private lastUnknownKidRefetch = Number.NEGATIVE_INFINITY;
  private retryAt = Number.NEGATIVE_INFINITY;
  private lastFailure: KeysUnavailableError | undefined;
  /** Fetches started, discovery and JWKS alike; read by tests and benchmarks. */
  fetchCount = 0;
  /**
   * Bumped whenever a key set replaces the previous one, so anything derived from the old keys
   * (the verified-token cache) can tell that it is out of date without a callback.
   */
  generation = 0;

  constructor(options: KeycloakJwksCacheOptions) {
    this.options = { maxStaleMs: 0, failureBackoffMs: 5000, now: Date.now, ...options };
    this.jwksUri = options.jwksUri;
    this.onFetch = options.onFetch;
  }

  async getJwk(_jwksUri: string, decomposedJwt: DecomposedJwt): Promise<JwkWithKid> {
    const kid = requireKid(decomposedJwt);
    const alg = decomposedJwt.header.alg ?? "";
    const now = this.options.now();
    const keys = this.keys;
    if (keys !== undefined && now - keys.fetchedAt < this.options.maxAgeMs) {
      return lookup(keys, kid, alg) ?? this.refetchForUnknownKid(kid, alg, now);
    }
    let fresh: KeySet;
    try {
      fresh = await this.refresh();
    } catch (error) {
      // A short Keycloak outage must not lock everyone out: keys we already trust stay usable
      // for a bounded stale period. Past it, fail closed.
      if (keys !== undefined && now - keys.fetchedAt < this.options.maxAgeMs + this.options.maxStaleMs) {
        fresh = keys;
      } else {
        throw error;
      }
    }
    const jwk = lookup(fresh, kid, alg);
    if (jwk === undefined) throw new UnknownKidError("no key with this kid in the realm's JWKS");
    return jwk;
  }

  /** The synchronous fast path: only fresh, already known keys. */
  getCachedJwk(_jwksUri: string, decomposedJwt: DecomposedJwt): JwkWithKid {
    const kid = requireKid(decomposedJwt);
    const keys = this.keys;
    const jwk = keys === undefined ? undefined : lookup(keys, kid, decomposedJwt.header.alg ?? "");
    if (keys === undefined || jwk === undefined || this.options.now() - keys.fetchedAt >= this.options.maxAgeMs) {
      throw new JwksNotAvailableInCacheError("key not cached or too old");
    }
    return jwk;
  }

  addJwks(_jwksUri: string, jwks: Jwks): void {
    this.keys = indexKeys(jwks, this.options.now());
    this.generation += 1;
  }

  /** True while the current keys are used without a refresh (by this cache's own clock). */
  hasFreshKeys(): boolean {
    return this.keys !== undefined && this.options.now() - this.keys.fetchedAt < this.options.maxAgeMs;
  }

  async getJwks(_jwksUri?: string): Promise<Jwks> {
    return (await this.refresh()).jwks;
  }

  private async refetchForUnknownKid(kid: string, alg: string, now: number): Promise<JwkWithKid> {
    if (this.inflight === undefined) {
      if (now - this.lastUnknownKidRefetch < this.options.cooldownMs) {
        throw new UnknownKidError("unknown kid; refetch cooldown in effect");
      }
      this.lastUnknownKidRefetch = now;
    }
    // Callers that arrive while a refresh is under way share it instead of being turned away.
    const keys = await this.refresh();
    const jwk = lookup(keys, kid, alg);
    if (jwk === undefined) throw new UnknownKidError("no key with this kid in the realm's JWKS");
    return jwk;
  }

  /** One in-flight refresh (discovery if needed, then the JWKS) shared by every caller. */
  private refresh(): Promise<KeySet> {
    if (this.inflight !== undefined) return this.inflight;
    const now = this.options.now();
    if (now < this.retryAt && this.lastFailure !== undefined) {
      return Promise.reject(this.lastFailure);
    }
    this.inflight = this.load().then(
      (keys) => {
        this.keys = keys;
        this.generation += 1;
        this.lastFailure = undefined;
        this.inflight = undefined;
        return keys;
      },
      (cause: unknown) => {
        const failure =
          cause instanceof KeysUnavailableError ? cause : new KeysUnavailableError("could not load the realm's keys", { cause });
        this.lastFailure = failure;
        this.retryAt = this.options.now() + this.options.failureBackoffMs;
        this.inflight = undefined;
        throw failure;
      },
    );
    return this.inflight;
  }

  private async load(): Promise<KeySet> {
    if (this.jwksUri === undefined) {
      this.jwksUri = await this.counted("discovery", () => discoverJwksUri(this.options.issuer, this.options.fetchJson));
    }
    const jwksUri = this.jwksUri;
    return this.counted("jwks", async () => indexKeys(await this.options.fetchJson(jwksUri), this.options.now()));
  }

  private async counted<T>(kind: "discovery" | "jwks", fetch: () => Promise<T>): Promise<T> {
    this.fetchCount += 1;
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
function lookup(keys: KeySet, kid: string, alg: string): JwkWithKid | undefined {
  const published = keys.byKid.get(kid);
  if (published === undefined) return undefined;
  const { problem, algorithms } = published.verdict;
  if (problem !== undefined) throw new KeyNotUsableError(`the key named by kid is not usable (${problem})`);
  if (!algorithms.has(alg)) throw new KeyAlgorithmMismatchError(`token alg ${JSON.stringify(alg)} does not fit the key named by kid`);
  return published.jwk;
}

function requireKid(decomposedJwt: DecomposedJwt): string {
  const kid = decomposedJwt.header.kid;
  if (typeof kid !== "string" || kid === "") throw new MissingKidError("token header has no kid");
  return kid;
}

/**
 * Check the JWKS shape before use. Entries that are not well-formed JWKs or lack a `kid` are
 * skipped rather than poisoning the whole set; keys we refuse (encryption keys, weak RSA, a label
 * that contradicts the material) are kept with their verdict, so that a token naming one is refused
 * as "key not usable" rather than triggering refetches.
 */
function indexKeys(document: unknown, fetchedAt: number): KeySet {
  if (typeof document !== "object" || document === null || !Array.isArray((document as { keys?: unknown }).keys)) {
    throw new KeysUnavailableError("JWKS document has no keys array");
  }
  const byKid = new Map<string, PublishedKey>();
  for (const candidate of (document as { keys: unknown[] }).keys) {
    try {
      assertIsJwk(candidate as never);
    } catch {
      continue;
    }
    const jwk = candidate as JwkWithKid;
    if (typeof jwk.kid !== "string" || jwk.kid === "" || byKid.has(jwk.kid)) continue;
    const verdict = judgeKey(jwk);
    const material = verdict.problem === undefined ? jwkThumbprint(jwk) : "unusable";
    byKid.set(jwk.kid, { jwk: { ...jwk, kid: `${jwk.kid}#${material}` }, verdict });
  }
  const jwks = { keys: [...byKid.values()].map(({ jwk }) => jwk) } as Jwks;
  return { jwks, byKid, fetchedAt };
}
