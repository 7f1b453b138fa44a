/**
 * The deployed Lambda authorizer with DPoP (keycloakDpop) and session revocation (revocation: true)
 * built in: what infra/authorizer-entry.cjs deploys when a stage turns either on.
 */
import { lambdaAuthorizer } from "../lib/authorizer/lambda-authorizer.js";
import { dpopFeature } from "../lib/dpop/dpop-feature.js";
import { revocationFeature } from "../lib/revocation/revocation-feature.js";
import { API_ROUTES } from "./routes.js";

export const handler = lambdaAuthorizer(API_ROUTES, process.env, { dpop: dpopFeature(), revocation: revocationFeature });
