/**
 * The deployed Lambda authorizer for this API's routes (REST TOKEN/REQUEST and HTTP API 2.0), as a
 * stage with DPoP and revocation off deploys it: built without either (infra/authorizer-entry.cjs
 * picks functions/authorizer-full.ts when a stage turns one on), so the bundle holds only what runs.
 */
import { lambdaAuthorizer } from "../lib/authorizer/lambda-authorizer.js";
import { API_ROUTES } from "./routes.js";

export const handler = lambdaAuthorizer(API_ROUTES);
