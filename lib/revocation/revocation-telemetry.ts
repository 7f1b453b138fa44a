/**
 * What an instance says when it allows tokens without being able to read the revocation store
 * (KEYCLOAK_REVOCATION_FAIL_OPEN=true): the metric `RevocationFailOpen` for every such request,
 * and an ERROR line at most once a second with the count since the last one. (Refusals for the
 * same outage, the default, are the authorizer's failures: `AuthorizerFailures` with reason
 * `revocation_unavailable`, and its ERROR line.)
 */
import type { RevocationUnavailableError } from "../errors.js";
import type { Logger } from "../operations/logger.js";
import { SERVICE_NAME } from "../operations/logger.js";
import { emfCounter } from "../operations/emf.js";

export function failOpenReporter(options: { logger: Logger; namespace?: string; now?: () => number }): (error: RevocationUnavailableError) => void {
  const { logger, namespace = "KeycloakAuthorizer", now = Date.now } = options;
  const metric = emfCounter({ namespace, service: SERVICE_NAME });
  let lastLine = Number.NEGATIVE_INFINITY;
  let suppressed = 0;
  return (error) => {
    metric("RevocationFailOpen", {});
    if (now() - lastLine < 1000) {
      suppressed += 1;
      return;
    }
    lastLine = now();
    logger.error("revocation store unavailable: allowed (fail-open)", {
      reason: error.code,
      decision: "allow",
      detail: error.message,
      error: error.cause as Error,
      ...(suppressed > 0 ? { suppressed } : {}),
    });
    suppressed = 0;
  };
}
