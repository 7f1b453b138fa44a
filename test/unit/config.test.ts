import { describe, expect, test } from "@jest/globals";
import { loadAuthorizerConfig } from "../../lib/config/authorizer-config.js";
import { ConfigError } from "../../lib/errors.js";

const base = { KEYCLOAK_ISSUER: "http://localhost:8080/realms/demo", KEYCLOAK_AUDIENCE: "secured-api" };

describe("loadAuthorizerConfig", () => {
  test("defaults are strict and documented", () => {
    const config = loadAuthorizerConfig(base);
    expect(config.issuers.single).toEqual({ issuer: base.KEYCLOAK_ISSUER, name: "demo", fromPattern: false });
    expect(config).toMatchObject({
      audiences: ["secured-api"],
      jwksUri: undefined,
      allowedClients: [],
      algorithms: ["RS256"],
      clockSkewSeconds: 30,
      allowHttp: false,
      maxTokenBytes: 16384,
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.audiences)).toBe(true);
  });

  test("lists are comma-separated and trimmed", () => {
    const config = loadAuthorizerConfig({
      ...base,
      KEYCLOAK_AUDIENCE: "secured-api, other",
      KEYCLOAK_ALLOWED_CLIENTS: "api-client,api-docs",
      KEYCLOAK_ALGORITHMS: "RS256,ES256",
    });
    expect(config.audiences).toEqual(["secured-api", "other"]);
    expect(config.allowedClients).toEqual(["api-client", "api-docs"]);
    expect(config.algorithms).toEqual(["RS256", "ES256"]);
  });

  test.each([
    ["KEYCLOAK_ISSUER", { KEYCLOAK_ISSUER: undefined }],
    ["KEYCLOAK_ISSUER", { KEYCLOAK_ISSUER: "not a url" }],
    ["KEYCLOAK_ISSUER", { KEYCLOAK_ISSUER: "ftp://x/realms/demo" }],
    ["KEYCLOAK_AUDIENCE", { KEYCLOAK_AUDIENCE: undefined }],
    ["KEYCLOAK_AUDIENCE", { KEYCLOAK_AUDIENCE: "a,,b" }],
    ["KEYCLOAK_JWKS_URI", { KEYCLOAK_JWKS_URI: "certs" }],
    ["KEYCLOAK_ALGORITHMS", { KEYCLOAK_ALGORITHMS: "HS256" }],
    ["KEYCLOAK_ALGORITHMS", { KEYCLOAK_ALGORITHMS: "none" }],
    ["KEYCLOAK_CLOCK_SKEW_SECONDS", { KEYCLOAK_CLOCK_SKEW_SECONDS: "61" }],
    ["KEYCLOAK_CLOCK_SKEW_SECONDS", { KEYCLOAK_CLOCK_SKEW_SECONDS: "-1" }],
    ["KEYCLOAK_CLOCK_SKEW_SECONDS", { KEYCLOAK_CLOCK_SKEW_SECONDS: "ten" }],
    ["KEYCLOAK_ALLOW_HTTP", { KEYCLOAK_ALLOW_HTTP: "yes" }],
  ])("a bad %s fails with a message naming it", (name, override) => {
    const attempt = (): unknown => loadAuthorizerConfig({ ...base, ...override });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(name);
  });
});
