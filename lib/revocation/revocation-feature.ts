/**
 * Session revocation as an authorizer feature (lib/authorizer/lambda-authorizer.ts): the cached
 * revocation-store check, only when KEYCLOAK_REVOCATION_TABLE is set.
 */
import type { AuthorizerFeatures } from "../authorizer/lambda-authorizer.js";
import { revocationChecks } from "./lambda-handler.js";

export const revocationFeature: NonNullable<AuthorizerFeatures["revocation"]> = ({ config, logger, env }) =>
  revocationChecks(config, logger, env.POWERTOOLS_METRICS_NAMESPACE);
