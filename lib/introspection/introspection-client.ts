/**
 * Token introspection (RFC 7662) against the realm that issued the token: its
 * `introspection_endpoint` from discovery (once per realm), asked with the API's confidential
 * client (HTTP Basic, RFC 7662 section 2.1). Keycloak's answer reflects the session as it is now:
 * a logout, a disabled user or a revoked consent makes it `active: false` at once.
 *
 * No caching here (lib/introspection/introspection-cache.ts does that), and no judgement of the
 * claims beyond what the answer itself must say (lib/introspection/strict-route-check.ts).
 */
import { IntrospectionUnavailableError, KeysUnavailableError } from "../errors.js";
import { discoverIntrospectionEndpoint } from "../keys/discovery.js";
import type { FetchJson, PostForm } from "../keys/fetch-json.js";

/** What Keycloak said: the token's claims as it sees them now, or that it is not active. */
export type IntrospectionResult = { readonly active: true; readonly claims: Readonly<Record<string, unknown>> } | { readonly active: false };

export type Introspect = (token: string, issuer: string) => Promise<IntrospectionResult>;

export interface IntrospectionClientOptions {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly fetchJson: FetchJson;
  readonly postForm: PostForm;
  /** The whole budget of one question, discovery included: past it, IntrospectionUnavailableError. */
  readonly timeoutMs: number;
}

/** RFC 7662's Basic credentials: client id and secret each form-urlencoded first (RFC 6749 section 2.3.1). */
function basicCredentials(clientId: string, clientSecret: string): string {
  const encode = (value: string): string => encodeURIComponent(value).replace(/%20/g, "+");
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString("base64")}`;
}

export function createIntrospectionClient(options: IntrospectionClientOptions): Introspect {
  const authorization = basicCredentials(options.clientId, options.clientSecret);
  // Per realm (the verified `iss`), the endpoint's URL; a failed discovery is forgotten so the next request retries.
  const endpoints = new Map<string, Promise<string>>();
  const endpointOf = (issuer: string): Promise<string> => {
    let endpoint = endpoints.get(issuer);
    if (endpoint === undefined) {
      endpoint = discoverIntrospectionEndpoint(issuer, options.fetchJson);
      endpoints.set(issuer, endpoint);
      endpoint.catch(() => endpoints.delete(issuer));
    }
    return endpoint;
  };
  return async (token, issuer) => {
    let answer: unknown;
    let deadline: NodeJS.Timeout | undefined;
    try {
      const asking = (async () => {
        const endpoint = await endpointOf(issuer);
        return options.postForm(endpoint, new URLSearchParams({ token, token_type_hint: "access_token" }), { authorization });
      })();
      // Each request has its own timeout; this bounds them together (discovery, a retry, the question).
      const expired = new Promise<never>((_, reject) => {
        deadline = setTimeout(() => reject(new Error(`no answer within ${options.timeoutMs} ms`)), options.timeoutMs);
      });
      asking.catch(() => undefined);
      answer = await Promise.race([asking, expired]);
    } catch (error) {
      const httpStatus = error instanceof KeysUnavailableError ? error.httpStatus : undefined;
      throw new IntrospectionUnavailableError(`token introspection failed: ${(error as Error).message}`, {
        cause: error,
        ...(httpStatus === undefined ? {} : { httpStatus }),
      });
    } finally {
      clearTimeout(deadline);
    }
    if (typeof answer !== "object" || answer === null || Array.isArray(answer)) {
      throw new IntrospectionUnavailableError("token introspection answered something other than a JSON object");
    }
    const { active, ...claims } = answer as Record<string, unknown>;
    // RFC 7662 section 2.2: `active` is required and boolean; anything else is not an answer.
    if (active === false) return { active: false };
    if (active !== true) throw new IntrospectionUnavailableError("token introspection answered without a boolean `active`");
    return { active: true, claims };
  };
}
