import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { loadAuthorizerConfig } from "../../lib/config/authorizer-config.js";
import { packageService, resourcesOf, type PackagedService } from "../helpers/serverless-package.js";

// `serverless package` with DPoP on (docs/dpop.md): a DPoP proof is single-use, and API Gateway's
// result cache would serve a cached Allow again without the authorizer ever seeing the replay,
// so the cache is off; the REST API needs a REQUEST authorizer (a TOKEN one never sees the DPoP
// header); identity sources include the DPoP header only when every request must carry one.
const ISSUER = "https://keycloak.example.com/realms/demo";
const prod = (...more: string[]) => ["--stage", "prod", "--param", `keycloakIssuer=${ISSUER}`, ...more];
let allowed: PackagedService;
let required: PackagedService;
beforeAll(async () => {
  // One after the other: each package has its own esbuild work folder, named by the time it starts.
  // An explicit TTL too: with DPoP on it is overridden, never honoured.
  allowed = await packageService(prod("--param", "keycloakDpop=allowed", "--param", "authorizerCacheTtlSeconds=600"), { KEYCLOAK_ISSUER: "" });
  required = await packageService(prod("--param", "keycloakDpop=required", "--param", "keycloakDpopAlgorithms=ES256,PS256"), { KEYCLOAK_ISSUER: "" });
}, 240_000);
afterAll(async () => {
  await allowed?.remove();
  await required?.remove();
});

const restAuthorizer = (packaged: PackagedService) => resourcesOf(packaged.template, "AWS::ApiGateway::Authorizer")[0]?.[1];
const httpAuthorizer = (packaged: PackagedService) => resourcesOf(packaged.template, "AWS::ApiGatewayV2::Authorizer")[0]?.[1];
const challenge = (packaged: PackagedService): string | undefined => {
  const unauthorized = resourcesOf(packaged.template, "AWS::ApiGateway::GatewayResponse").find(([, response]) => response.ResponseType === "UNAUTHORIZED");
  return (unauthorized?.[1].ResponseParameters as Record<string, string> | undefined)?.["gatewayresponse.header.WWW-Authenticate"];
};
const authorizerEnv = (packaged: PackagedService) =>
  (
    (resourcesOf(packaged.template, "AWS::Lambda::Function").find(([name]) => name.startsWith("Authorizer"))?.[1].Environment ?? {}) as {
      Variables: Record<string, string>;
    }
  ).Variables;

describe("keycloakDpop=allowed", () => {
  test("REST: a REQUEST authorizer, no result cache, Authorization as its only identity source (Bearer clients send no proof)", () => {
    expect(restAuthorizer(allowed)).toMatchObject({ Type: "REQUEST", IdentitySource: "method.request.header.Authorization", AuthorizerResultTtlInSeconds: 0 });
  });

  test("HTTP API: no result cache, Authorization as its only identity source", () => {
    expect(httpAuthorizer(allowed)).toMatchObject({ IdentitySource: ["$request.header.Authorization"], AuthorizerResultTtlInSeconds: 0 });
  });

  test("the REST 401 challenges both schemes, DPoP with its algorithms (one static value: no per-refusal error code)", () => {
    expect(challenge(allowed)).toBe(
      `'Bearer realm="demo", error="invalid_token", DPoP realm="demo", error="invalid_token", algs="ES256 ES384 ES512 PS256 PS384 PS512 RS256 RS384 RS512 EdDSA Ed25519 Ed448"'`,
    );
  });

  test("the authorizer is told, and its packaged environment loads", () => {
    expect(authorizerEnv(allowed)).toMatchObject({ KEYCLOAK_DPOP: "allowed" });
    expect(loadAuthorizerConfig(authorizerEnv(allowed))).toMatchObject({ dpop: "allowed", dpopProofMaxAgeSeconds: 120, dpopReplayCacheSize: 100_000 });
  });
});

describe("keycloakDpop=required", () => {
  test("the DPoP header is an identity source too on both API kinds: API Gateway answers 401 without it, before the authorizer", () => {
    expect(restAuthorizer(required)).toMatchObject({
      Type: "REQUEST",
      IdentitySource: "method.request.header.Authorization,method.request.header.DPoP",
      AuthorizerResultTtlInSeconds: 0,
    });
    expect(httpAuthorizer(required)).toMatchObject({
      IdentitySource: ["$request.header.Authorization", "$request.header.DPoP"],
      AuthorizerResultTtlInSeconds: 0,
    });
  });

  test("the REST 401 challenges DPoP only, with the configured algorithms", () => {
    expect(challenge(required)).toBe(`'DPoP realm="demo", error="invalid_token", algs="ES256 PS256"'`);
    expect(loadAuthorizerConfig(authorizerEnv(required))).toMatchObject({ dpop: "required", dpopAlgorithms: ["ES256", "PS256"] });
  });
});

test("a DPoP mode the authorizer would refuse fails the package, naming the setting", async () => {
  const failure = await packageService(prod("--param", "keycloakDpop=sometimes"), { KEYCLOAK_ISSUER: "" }).then(
    () => "packaged",
    (error: { stdout?: string; stderr?: string }) => `${error.stdout ?? ""}${error.stderr ?? ""}`,
  );
  expect(failure).toContain('KEYCLOAK_DPOP must be one of off, allowed, required, got "sometimes"');
}, 120_000);
