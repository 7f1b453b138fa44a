/**
 * The authorizer under serverless-offline (the local stack sets KLA_LOCAL_AUTHORIZER, and
 * infra/authorizer-entry.cjs then names this file): every feature built in, and every answer
 * checked against API Gateway's rules (lib/apigateway/gateway-rules.ts), because serverless-offline
 * accepts answers that API Gateway would turn into a 500. Never deployed: stage checks refuse it.
 */
import { eventKind } from "../../lib/apigateway/events.js";
import { enforceGatewayRules } from "../../lib/apigateway/gateway-rules.js";
import { lambdaAuthorizer } from "../../lib/authorizer/lambda-authorizer.js";
import { dpopFeature } from "../../lib/dpop/dpop-feature.js";
import { createLogger } from "../../lib/operations/logger.js";
import { revocationFeature } from "../../lib/revocation/revocation-feature.js";
import { API_ROUTES } from "../../functions/routes.js";

const logger = createLogger();

export const handler = enforceGatewayRules(
  lambdaAuthorizer(API_ROUTES, process.env, { dpop: dpopFeature(), revocation: revocationFeature }),
  eventKind,
  (violations, kind) => {
    logger.error("authorizer answer API Gateway would refuse", { reason: "gateway_rules", event: kind, violations: violations.join("; ") });
  },
);
