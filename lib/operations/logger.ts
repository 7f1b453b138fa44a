/**
 * The one logger of every function: Powertools Logger, JSON lines with the Lambda context.
 * `POWERTOOLS_LOG_LEVEL` (INFO by default) and `POWERTOOLS_SERVICE_NAME` are read by Powertools.
 * Callers pass reason codes and identifiers only: never a token, a secret or a whole claims set.
 */
import { Logger } from "@aws-lambda-powertools/logger";

export type { Logger };

export const SERVICE_NAME = "keycloak-lambda-authorizer";

export function createLogger(): Logger {
  return new Logger({ serviceName: SERVICE_NAME });
}
