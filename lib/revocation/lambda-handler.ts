/**
 * Revocation's part of the Lambda handlers (lib/lambda-handlers.ts): the authorizer's request
 * check, built only when revocation is configured, and the back-channel logout receiver
 * (functions/backchannel-logout.ts).
 */
import type { APIGatewayProxyResult } from "aws-lambda";
import type { ProxyEvent } from "../apigateway/events.js";
import type { RequestCheck } from "../authorizer/authorizer-handler.js";
import type { AuthorizerConfig } from "../config/authorizer-config.js";
import { loadLogoutReceiverConfig } from "../config/logout-receiver-config.js";
import type { Env } from "../config/settings.js";
import { createFetchJson } from "../keys/fetch-json.js";
import { createLogger, type Logger } from "../operations/logger.js";
import { createLogoutTokenVerifier, type LogoutRealm } from "../token/logout-token-verifier.js";
import { RealmVerifiers } from "../token/realm-verifiers.js";
import { createBackchannelLogoutHandler } from "./backchannel-logout-handler.js";
import { createRevocationCheck } from "./revocation-check.js";
import { createRevocationStore } from "./revocation-store.js";
import { failOpenReporter } from "./revocation-telemetry.js";
import { realmJwksCache } from "../keys/realm-jwks.js";

/** The authorizer's revocation check, or none when KEYCLOAK_REVOCATION_TABLE is unset. */
export function revocationChecks(config: AuthorizerConfig, logger: Logger, namespace: string | undefined): RequestCheck[] {
  if (config.revocationTable === undefined) return [];
  const reader = createRevocationStore({ table: config.revocationTable, endpoint: config.revocationEndpoint, timeoutMs: config.revocationTimeoutMs });
  // Load the SDK during init, as the keys are: the first request should not pay for it.
  reader
    .warm()
    .catch((error: { message?: string }) => logger.warn("revocation store client not loaded", { reason: "revocation_unavailable", detail: error.message }));
  return [
    createRevocationCheck({
      reader,
      cacheMs: config.revocationCacheSeconds * 1000,
      failOpen: config.revocationFailOpen,
      maxTokenLifetimeSeconds: config.maxTokenLifetimeSeconds,
      onFailOpen: failOpenReporter({ logger, ...(namespace ? { namespace } : {}) }),
    }),
  ];
}

/**
 * The back-channel logout receiver: Keycloak POSTs logout tokens here (no authorizer in front).
 *
 * @example
 * export const handler = backchannelLogoutHandler(); // functions/backchannel-logout.ts
 */
export function backchannelLogoutHandler(env: Env = process.env): (event: ProxyEvent) => Promise<APIGatewayProxyResult> {
  const config = loadLogoutReceiverConfig(env);
  const logger = createLogger();
  const fetchJson = createFetchJson({ timeoutMs: config.fetchTimeoutMs, allowHttp: config.allowHttp });
  // Every realm the authorizer trusts may end its sessions here, each with its own keys, held
  // and discovered under the authorizer's bounds (lib/token/realm-verifiers.ts).
  const realms: RealmVerifiers<LogoutRealm> = new RealmVerifiers<LogoutRealm>({
    create: (realm) => ({
      realm,
      keys: realmJwksCache(realm, config, fetchJson),
      forgetAbsent: () => realms.forgetAbsent(realm),
      confirm: () => realms.confirm(realm),
    }),
    maxRealms: config.maxRealms,
    discoveriesPerSecond: config.realmDiscoveriesPerSecond,
    unknownRealmMs: config.unknownRealmSeconds * 1000,
  });
  const realmOf = (iss: unknown): LogoutRealm | undefined => {
    const realm = config.issuers.match(iss);
    return realm === undefined ? undefined : realms.get(realm);
  };
  const store = createRevocationStore({ table: config.revocationTable, endpoint: config.revocationEndpoint, timeoutMs: config.revocationTimeoutMs });
  for (const realm of config.issuers.exact) {
    realms
      .get(realm)
      .keys.prefetch()
      .catch((error: { code?: string; message?: string }) =>
        logger.warn("key prefetch failed", { realm: realm.name, reason: error.code, detail: error.message }),
      );
  }
  store
    .warm()
    .catch((error: { message?: string }) => logger.warn("revocation store client not loaded", { reason: "revocation_unavailable", detail: error.message }));
  const skew = config.clockSkewSeconds;
  const handler = createBackchannelLogoutHandler({
    verifier: createLogoutTokenVerifier({
      realmOf,
      clients: config.logoutClients,
      algorithms: config.algorithms,
      clockSkewSeconds: skew,
      maxAgeSeconds: config.logoutTokenMaxAgeSeconds,
      ecdsaAllowHighS: config.ecdsaAllowHighS,
    }),
    writer: store,
    logger,
    // An access token of the ended session lives at most its lifetime past the logout (plus the skew).
    retentionSeconds: config.maxTokenLifetimeSeconds + skew + 60,
    endsAllSessions: config.logoutEndsAllSessions,
    // A replay passes the age check for at most maxAge + 2 skews past iat.
    jtiRetentionSeconds: config.logoutTokenMaxAgeSeconds + 2 * skew + 60,
  });
  return handler;
}
