/**
 * Introspection answers remembered per token, so a strict route costs Keycloak one request per
 * token per period, not one per API call. An answer is kept at most `periodMs`, and an active one
 * never past the token's `exp`: the period is the longest a logout goes unseen on a strict route.
 * Requests for the same token while one is being asked wait for that one. Failures are not kept:
 * the next request asks again. Bounded: the least recently used token goes first.
 */
import type { Introspect, IntrospectionResult } from "./introspection-client.js";

export interface IntrospectionCacheOptions {
  readonly periodMs: number;
  readonly maxEntries: number;
  readonly now?: () => number;
}

interface Entry {
  readonly result: IntrospectionResult;
  readonly until: number;
}

export function cachedIntrospection(introspect: Introspect, options: IntrospectionCacheOptions): Introspect & { readonly size: () => number } {
  const now = options.now ?? Date.now;
  const entries = new Map<string, Entry>();
  const pending = new Map<string, Promise<IntrospectionResult>>();
  const remember = (token: string, result: IntrospectionResult): void => {
    if (options.periodMs <= 0 || options.maxEntries <= 0) return;
    const exp = result.active ? result.claims.exp : undefined;
    const until = Math.min(now() + options.periodMs, typeof exp === "number" ? exp * 1000 : Number.POSITIVE_INFINITY);
    if (until <= now()) return;
    entries.delete(token);
    if (entries.size >= options.maxEntries) {
      const oldest = entries.keys().next();
      if (oldest.done !== true) entries.delete(oldest.value);
    }
    entries.set(token, { result, until });
  };
  const cached = async (token: string, issuer: string): Promise<IntrospectionResult> => {
    const entry = entries.get(token);
    if (entry !== undefined) {
      if (entry.until > now()) {
        // Used: moves to the young end of the eviction order.
        entries.delete(token);
        entries.set(token, entry);
        return entry.result;
      }
      entries.delete(token);
    }
    const asked = pending.get(token);
    if (asked !== undefined) return asked;
    const asking = introspect(token, issuer).finally(() => pending.delete(token));
    pending.set(token, asking);
    const result = await asking;
    remember(token, result);
    return result;
  };
  return Object.assign(cached, { size: () => entries.size });
}
