import { createAuthorizerHandler } from "../lib/authorizer-handler.js";
import { loadConfig } from "../lib/config.js";
import { createTelemetry } from "../lib/telemetry.js";
import { createAccessTokenVerifier } from "../lib/verifier.js";

// Module scope: config is validated and the verifier (with its key cache) built once per cold
// start; warm invocations reuse both.
const config = loadConfig(process.env);
const telemetry = createTelemetry({
  logClaims: (process.env.KEYCLOAK_LOG_CLAIMS ?? "").split(",").map((name) => name.trim()).filter(Boolean),
});
const verifier = createAccessTokenVerifier(config, { onKeyFetch: telemetry.keyFetch, onTokenCacheHit: telemetry.tokenCacheHit });

// Start fetching the realm's keys during init instead of on the first request. A failure here is
// only logged: the first request retries (after the failure backoff) and answers for itself.
verifier.hydrate().catch((error: { code?: string; message?: string }) => {
  telemetry.log("WARN", "key prefetch failed", { reason: error.code, detail: error.message });
});

/** API Gateway Lambda authorizer for REST (TOKEN, REQUEST) and HTTP API (payload 2.0) events. */
export const handler = telemetry.wrap(createAuthorizerHandler({ verifier, observer: telemetry.observer }));
