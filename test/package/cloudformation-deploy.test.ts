import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { ROUTES } from "../../functions/routes.js";
import { routeKey } from "../../lib/routes/route.js";
import { API_SETTINGS, loadApiConfig } from "../../lib/config/api-config.js";
import { AUTHORIZER_SETTINGS, loadAuthorizerConfig } from "../../lib/config/authorizer-config.js";
import { DOCS_SETTINGS, loadDocsConfig } from "../../lib/config/docs-config.js";
import { packageService, resourcesOf, restRouteKeys, type PackagedService } from "../helpers/serverless-package.js";

// `serverless package --stage prod` as an operator would run it before `deploy`: no AWS
// credentials, no network. Everything short of the call to AWS is checked on the template
// (and .ci/run validates the same template with AWS's cfn-lint).
const ISSUER = "https://keycloak.example.com/realms/demo";
let prod: PackagedService;
beforeAll(async () => {
  prod = await packageService(
    [
      "--stage",
      "prod",
      "--param",
      `keycloakIssuer=${ISSUER}`,
      "--param",
      "keycloakAllowedClients=api-client,api-docs",
      "--param",
      "corsOrigins=https://app.example.com",
    ],
    { KEYCLOAK_ISSUER: "" },
  );
}, 180_000);
afterAll(() => prod?.remove());

const functions = (): Array<[string, Record<string, unknown>]> => resourcesOf(prod.template, "AWS::Lambda::Function");
const fn = (prefix: string): Record<string, unknown> => (functions().find(([name]) => name.startsWith(prefix)) ?? [])[1] as Record<string, unknown>;
const variables = (prefix: string): Record<string, string> => (fn(prefix).Environment as { Variables: Record<string, string> }).Variables;

describe("functions", () => {
  test("nodejs22.x on arm64, with memory and timeouts set deliberately", () => {
    for (const [, properties] of functions()) {
      expect(properties.Runtime).toBe("nodejs22.x");
      expect(properties.Architectures).toEqual(["arm64"]);
    }
    expect(fn("Authorizer")).toMatchObject({ MemorySize: 256, Timeout: 10 });
    expect(fn("Secured")).toMatchObject({ MemorySize: 128, Timeout: 3 });
  });

  test("prod logs are kept 90 days", () => {
    const groups = resourcesOf(prod.template, "AWS::Logs::LogGroup");
    expect(groups.length).toBe(functions().length);
    for (const [, group] of groups) expect(group.RetentionInDays).toBe(90);
  });

  test("the authorizer's environment carries the stage parameters; unset ones are '' (the code's default)", () => {
    expect(variables("Authorizer")).toMatchObject({
      KEYCLOAK_ISSUER: ISSUER,
      KEYCLOAK_AUDIENCE: "secured-api",
      KEYCLOAK_ALLOWED_CLIENTS: "api-client,api-docs",
      KEYCLOAK_ALGORITHMS: "",
      KEYCLOAK_ALLOW_HTTP: "",
    });
    expect(variables("Secured")).toMatchObject({ KEYCLOAK_ISSUER: ISSUER, AUTH_REALM: "", CORS_ORIGINS: "https://app.example.com" });
  });

  // Each function gets exactly the variables its configuration reads (plus Powertools' level):
  // none forgotten, none left over from an earlier design.
  test.each([
    ["Authorizer", AUTHORIZER_SETTINGS, ["POWERTOOLS_LOG_LEVEL"]],
    ["Secured", API_SETTINGS, []],
    ["Docs", DOCS_SETTINGS, []],
  ] as const)("%s's environment is exactly its configuration's settings", (name, settings, extra) => {
    expect(Object.keys(variables(name)).sort()).toEqual([...Object.values(settings).map((setting) => setting.name), ...extra].sort());
  });

  test("the deployed environment loads: every function's configuration is valid as packaged", () => {
    expect(() => loadAuthorizerConfig(variables("Authorizer"))).not.toThrow();
    expect(loadApiConfig(variables("Secured"))).toMatchObject({ realm: "demo", clockSkewSeconds: 30, corsOrigins: ["https://app.example.com"] });
    expect(loadDocsConfig(variables("Docs"))).toMatchObject({ defaultRealm: undefined, clientId: "api-docs" });
    expect(loadDocsConfig(variables("Docs")).issuers.exact.map((realm) => realm.name)).toEqual(["demo"]);
  });

  test("no loopback or plain-http value reaches prod", () => {
    const everything = JSON.stringify(functions().map(([, properties]) => properties.Environment));
    expect(everything).not.toMatch(/localhost|127\.0\.0\.1|\[::1\]|http:\/\//);
    const [, api] = resourcesOf(prod.template, "AWS::ApiGatewayV2::Api")[0] ?? [];
    expect(JSON.stringify(api)).not.toMatch(/localhost|http:\/\//);
  });
});

describe("authorization wiring", () => {
  test("every protected route has the authorizer on both APIs, public routes have none", () => {
    const protectedKeys = new Set(ROUTES.map(routeKey));
    for (const { key, authorization } of restRouteKeys(prod.template)) {
      expect([key, authorization]).toEqual([key, protectedKeys.has(key) ? "CUSTOM" : "NONE"]);
    }
    for (const [, method] of resourcesOf(prod.template, "AWS::ApiGateway::Method")) {
      if (method.HttpMethod === "OPTIONS") expect(method.AuthorizationType).toBe("NONE");
    }
    for (const [, route] of resourcesOf(prod.template, "AWS::ApiGatewayV2::Route")) {
      const key = route.RouteKey as string;
      expect([key, route.AuthorizationType ?? "NONE"]).toEqual([key, protectedKeys.has(key) ? "CUSTOM" : "NONE"]);
    }
  });

  test("API Gateway may invoke the authorizer, from this API only", () => {
    const permissions = resourcesOf(prod.template, "AWS::Lambda::Permission").filter(([, permission]) =>
      JSON.stringify(permission.FunctionName).includes("AuthorizerLambdaFunction"),
    );
    expect(permissions).toHaveLength(2); // REST API and HTTP API
    for (const [, permission] of permissions) {
      expect(permission).toMatchObject({ Action: "lambda:InvokeFunction", Principal: "apigateway.amazonaws.com" });
      expect(JSON.stringify(permission.SourceArn)).toMatch(/ApiGatewayRestApi|HttpApi/);
    }
  });

  test("result caching is 300 s on both API kinds", () => {
    expect(resourcesOf(prod.template, "AWS::ApiGateway::Authorizer")[0]?.[1].AuthorizerResultTtlInSeconds).toBe(300);
    expect(resourcesOf(prod.template, "AWS::ApiGatewayV2::Authorizer")[0]?.[1].AuthorizerResultTtlInSeconds).toBe(300);
  });
});

test("IAM: the functions may only write their own logs, and no action is a wildcard", () => {
  const roles = resourcesOf(prod.template, "AWS::IAM::Role");
  expect(roles).toHaveLength(1);
  const statements = (
    (roles[0] as [string, Record<string, unknown>])[1].Policies as Array<{ PolicyDocument: { Statement: Array<{ Action: string[]; Resource: unknown[] }> } }>
  ).flatMap((policy) => policy.PolicyDocument.Statement);
  const actions = statements.flatMap((statement) => statement.Action);
  expect(actions.every((action) => action.startsWith("logs:") && !action.includes("*"))).toBe(true);
  for (const statement of statements) expect(JSON.stringify(statement.Resource)).toContain("log-group:/aws/lambda/keycloak-lambda-authorizer-prod");
});

test("revocation off (the default): no table, no receiver, no role of its own, no DynamoDB permission, and the authorizer's table variable empty", () => {
  expect(resourcesOf(prod.template, "AWS::DynamoDB::Table")).toEqual([]);
  expect(functions().map(([name]) => name)).not.toContain("BackchannelLogoutLambdaFunction");
  expect(JSON.stringify(prod.template)).not.toContain("dynamodb:");
  expect(variables("Authorizer").KEYCLOAK_REVOCATION_TABLE).toBe("");
});

describe("local values cannot reach a deployed stage", () => {
  test.each([
    ["no issuer", []],
    ["an http issuer", ["--param", "keycloakIssuer=http://keycloak.example.com/realms/demo"]],
    ["a loopback issuer", ["--param", "keycloakIssuer=https://localhost:8443/realms/demo"]],
    ["a loopback JWKS URI", ["--param", `keycloakIssuer=${ISSUER}`, "--param", "keycloakJwksUri=http://127.0.0.1:8080/certs"]],
    ["KEYCLOAK_ALLOW_HTTP", ["--param", `keycloakIssuer=${ISSUER}`, "--param", "keycloakAllowHttp=true"]],
    ["a local revocation store", ["--param", `keycloakIssuer=${ISSUER}`, "--param", "keycloakRevocationEndpoint=http://127.0.0.1:8000"]],
  ])(
    "packaging prod with %s fails with a clear message",
    async (_name, params) => {
      const failure = await packageService(["--stage", "prod", ...params], { KEYCLOAK_ISSUER: "" }).then(
        async (packaged) => {
          await packaged.remove();
          return "";
        },
        (error: { stdout?: string; stderr?: string }) => `${error.stdout ?? ""}${error.stderr ?? ""}`,
      );
      expect(failure).toContain('Stage "prod" is not a local stage');
    },
    120_000,
  );
});
