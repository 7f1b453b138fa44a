/**
 * The authorizer under serverless-offline (local/offline/authorizer.ts): every feature built in, and every answer
 * checked against API Gateway's rules (lib/apigateway/gateway-rules.ts), because serverless-offline
 * accepts answers that API Gateway would turn into a 500. Never deployed: stage checks refuse it.
 */
import { eventKind } from "../../lib/apigateway/events.js";
import { enforceGatewayRules } from "../../lib/apigateway/gateway-rules.js";
import { lambdaAuthorizer, type LambdaAuthorizer } from "../../lib/authorizer/lambda-authorizer.js";
import type { Env } from "../../lib/config/settings.js";
import { dpopFeature } from "../../lib/dpop/dpop-feature.js";
import { createLogger } from "../../lib/operations/logger.js";
import { revocationFeature } from "../../lib/revocation/revocation-feature.js";
import type { RouteTable } from "../../lib/routes/route.js";

/** The full authorizer for `routes`, failing (an ERROR line, then a 500) on any answer API Gateway would refuse. */
export function offlineAuthorizer(routes: RouteTable, env: Env = process.env): LambdaAuthorizer {
  const logger = createLogger();
  return enforceGatewayRules(lambdaAuthorizer(routes, env, { dpop: dpopFeature(), revocation: revocationFeature }), eventKind, (violations, kind) => {
    logger.error("authorizer answer API Gateway would refuse", { reason: "gateway_rules", event: kind, violations: violations.join("; ") });
  });
}
