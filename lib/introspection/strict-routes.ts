/**
 * The protected handler's strict-route check assembled from its configuration: introspection
 * with the API's client, cached per token. None when no client is configured; the route table's
 * strict routes then fail the cold start (lib/protected/route-access.ts).
 */
import type { ApiConfig } from "../config/api-config.js";
import { createFetchJson, createPostForm } from "../keys/fetch-json.js";
import { cachedIntrospection } from "./introspection-cache.js";
import { createIntrospectionClient } from "./introspection-client.js";
import { strictRouteCheck, type StrictRouteCheck } from "./strict-route-check.js";

/** Tokens whose answers one instance keeps: about 2 KB each with Keycloak's claims (at most 64 KB: 32 MB). */
const MAX_CACHED_TOKENS = 500;
/** A larger introspection answer is refused (503): a user in very many groups, or not Keycloak. */
const MAX_ANSWER_BYTES = 64 * 1024;

export function strictRoutesFrom(config: ApiConfig): StrictRouteCheck | undefined {
  if (config.introspectionClientId === undefined || config.introspectionClientSecret === undefined) return undefined;
  const http = { timeoutMs: config.introspectionTimeoutMs, allowHttp: config.allowHttp, maxBytes: MAX_ANSWER_BYTES };
  const introspect = createIntrospectionClient({
    clientId: config.introspectionClientId,
    clientSecret: config.introspectionClientSecret,
    fetchJson: createFetchJson(http),
    postForm: createPostForm(http, "token introspection"),
    timeoutMs: config.introspectionTimeoutMs,
  });
  return strictRouteCheck({
    introspect: cachedIntrospection(introspect, { periodMs: config.introspectionCacheSeconds * 1000, maxEntries: MAX_CACHED_TOKENS }),
    clockSkewSeconds: config.clockSkewSeconds,
    audiencesOf: (realm) => config.realmRules.get(realm)?.audiences ?? config.audiences,
  });
}
