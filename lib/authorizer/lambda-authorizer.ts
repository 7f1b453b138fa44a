/**
 * The Lambda authorizer assembled from the environment: configuration read and validated once (at
 * cold start), keys prefetched, telemetry around the handler. DPoP proofs and session revocation
 * are features passed in (lib/dpop/dpop-feature.ts, lib/revocation/revocation-feature.ts), so that
 * an authorizer built without them bundles none of their code: functions/authorizer.ts, what a
 * stage with both off deploys (infra/authorizer-entry.cjs). Configuring a feature that was not
 * built in is an error at cold start, never a silently weaker authorizer.
 */
import type { Context } from "aws-lambda";
import type { AuthorizerEvent } from "../apigateway/events.js";
import { loadAuthorizerConfig, type AuthorizerConfig } from "../config/authorizer-config.js";
import type { Env } from "../config/settings.js";
import { ConfigError } from "../errors.js";
import { namesRole } from "../operations/hints.js";
import { createLogger, type Logger } from "../operations/logger.js";
import { createAuthorizerTelemetry } from "../operations/telemetry.js";
import type { RouteTable } from "../routes/route.js";
import { createAccessTokenVerifier } from "../token/access-token-verifier.js";
import { createAuthorizerHandler, type AuthorizerResult, type RequestCheck } from "./authorizer-handler.js";
import { checkRealmScopes } from "./realm-scope-check.js";

/** What a feature is given to build its request check(s), once, at cold start. */
export interface FeatureContext {
  readonly config: AuthorizerConfig;
  readonly routes: RouteTable;
  readonly logger: Logger;
  readonly env: Env;
}

export interface AuthorizerFeatures {
  /** DPoP (RFC 9449): the key-binding check for `KEYCLOAK_DPOP`. Without it, DPoP must be off. */
  readonly dpop?: (context: FeatureContext) => RequestCheck;
  /** Session revocation: checks for `KEYCLOAK_REVOCATION_TABLE`. Without it, that must be unset. */
  readonly revocation?: (context: FeatureContext) => readonly RequestCheck[];
}

export type LambdaAuthorizer = (event: AuthorizerEvent, context: Context) => Promise<AuthorizerResult>;

/**
 * @example
 * export const handler = lambdaAuthorizer(API_ROUTES); // functions/authorizer.ts: DPoP and revocation off
 */
export function lambdaAuthorizer(routes: RouteTable, env: Env = process.env, features: AuthorizerFeatures = {}): LambdaAuthorizer {
  const config = loadAuthorizerConfig(env);
  if (config.dpop !== "off" && features.dpop === undefined) {
    throw new ConfigError(
      `KEYCLOAK_DPOP is ${config.dpop}, but this authorizer was built without DPoP: deploy with --param keycloakDpop=${config.dpop} (infra/authorizer-entry.cjs then builds functions/authorizer-full.ts), or use authorizerHandler`,
    );
  }
  if (config.revocationTable !== undefined && features.revocation === undefined) {
    throw new ConfigError(
      "KEYCLOAK_REVOCATION_TABLE is set, but this authorizer was built without revocation: deploy with --param revocation=true (infra/authorizer-entry.cjs), or use authorizerHandler",
    );
  }
  if (config.lightweightTokens && !routes.routes.some((route) => route.introspect === true)) {
    throw new ConfigError(
      "KEYCLOAK_LIGHTWEIGHT_TOKENS is true, but no route has introspect: true: lightweight access tokens are accepted on strict routes only (docs/revocation.md)",
    );
  }
  const logger = createLogger();
  checkRealmScopes(routes, config.issuers, logger);
  const telemetry = createAuthorizerTelemetry({
    logger,
    logClaims: config.logClaims,
    refusalLogsPerSecond: config.refusalLogsPerSecond,
    metricRealms: config.metricRealms,
    hints: config,
    rolesRequired: routes.routes.some((route) => route.requires !== undefined && namesRole(route.requires)),
    // Powertools' own variable, honoured as Powertools documents it.
    ...(env.POWERTOOLS_METRICS_NAMESPACE ? { namespace: env.POWERTOOLS_METRICS_NAMESPACE } : {}),
  });
  const verifier = createAccessTokenVerifier(config, { onKeyFetch: telemetry.keyFetch });
  const featureContext: FeatureContext = { config, routes, logger, env };
  // Without the feature the handler's default applies: key-bound tokens and the DPoP scheme refused.
  const keyBinding = features.dpop?.(featureContext);
  if (config.algorithms.some((alg) => alg.startsWith("ES")) && !config.ecdsaAllowHighS) {
    // Not an error: issuers that normalise s exist. But Keycloak's does not, and then about half
    // of its ECDSA tokens would be refused as non_canonical_token: say so once, at cold start.
    logger.warn("ECDSA allowed with high-S signatures refused", {
      reason: "ecdsa_low_s_only",
      hint: "Keycloak does not normalise ECDSA signatures: set KEYCLOAK_ECDSA_ALLOW_HIGH_S=true for a Keycloak realm that signs with ES256/384/512",
    });
  }
  // Fetch the realm's keys during init instead of on the first request. A failure here is only
  // logged: the first request retries (after the failure backoff) and answers for itself.
  verifier.prefetch().catch((error: { code?: string; message?: string }) => {
    logger.warn("key prefetch failed", { reason: error.code, detail: error.message });
  });
  const checks = features.revocation?.(featureContext) ?? [];
  return telemetry.wrap(
    createAuthorizerHandler({ verifier, routes, observer: telemetry.observer, ...(keyBinding === undefined ? {} : { keyBinding }), checks }),
  );
}
