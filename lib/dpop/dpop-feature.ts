/**
 * DPoP as an authorizer feature (lib/authorizer/lambda-authorizer.ts): the key-binding check for
 * the configured mode, with this instance's replay cache unless a shared store is given.
 */
import type { AuthorizerFeatures } from "../authorizer/lambda-authorizer.js";
import { keyBindingCheck } from "./key-binding-check.js";
import { MemoryReplayCache, type ReplayStore } from "./replay-cache.js";

export function dpopFeature(replayStore?: ReplayStore): NonNullable<AuthorizerFeatures["dpop"]> {
  return ({ config, routes, env }) =>
    keyBindingCheck({
      mode: config.dpop,
      algorithms: config.dpopAlgorithms,
      proofMaxAgeSeconds: config.dpopProofMaxAgeSeconds,
      clockSkewSeconds: config.clockSkewSeconds,
      replayStore: replayStore ?? new MemoryReplayCache({ maxEntries: config.dpopReplayCacheSize }),
      routes,
      offline: env.IS_OFFLINE === "true",
    });
}
