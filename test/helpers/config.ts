import { loadAuthorizerConfig, type AuthorizerConfig } from "../../lib/config/authorizer-config.js";
import { TEST_AUDIENCE } from "./tokens.js";

/** Config for a verifier pointed at a local stub; `env` overrides any variable. */
export function testConfig(issuer: string, env: Record<string, string> = {}): AuthorizerConfig {
  return loadAuthorizerConfig({ KEYCLOAK_ISSUER: issuer, KEYCLOAK_AUDIENCE: TEST_AUDIENCE, ...env });
}
