import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { ROUTES } from "../../functions/routes.js";
import { routeKey } from "../../lib/routes/route.js";
import { packageService, resourcesOf, type PackagedService } from "../helpers/serverless-package.js";

// serverless-offline emulates neither gateway responses nor API Gateway's own CORS handling of
// errors, so what a deployed API answers is checked here, in the generated CloudFormation.
let packaged: PackagedService;
/** The dev stage has revocation on: API Gateway's TTL is its window (60 s) less the lookup cache (15 s) (docs/revocation.md). */
const DEV_TTL = 45;
beforeAll(async () => {
  packaged = await packageService();
}, 180_000);
afterAll(() => packaged?.remove());

describe("routes come from functions/routes.ts on both APIs", () => {
  test("every declared route is on the REST API behind the TOKEN authorizer", () => {
    // The protected routes are the ones served by the `secured` function (public ones, like the
    // docs, are checked in cloudformation-deploy.test.ts).
    const methods = resourcesOf(packaged.template, "AWS::ApiGateway::Method").filter(
      ([, method]) => method.HttpMethod !== "OPTIONS" && JSON.stringify(method.Integration).includes("SecuredLambdaFunction"),
    );
    expect(methods).toHaveLength(ROUTES.length);
    for (const [, method] of methods) {
      expect(method.AuthorizationType).toBe("CUSTOM");
      expect(method.AuthorizerId).toEqual({ Ref: "AuthorizerApiGatewayAuthorizer" });
    }
    const [, authorizer] = resourcesOf(packaged.template, "AWS::ApiGateway::Authorizer")[0] ?? [];
    expect(authorizer).toMatchObject({ Type: "TOKEN", IdentitySource: "method.request.header.Authorization", AuthorizerResultTtlInSeconds: DEV_TTL });
  });

  test("every declared route is on the HTTP API behind the payload 2.0 authorizer", () => {
    const routes = resourcesOf(packaged.template, "AWS::ApiGatewayV2::Route").filter(([, route]) =>
      JSON.stringify(route.Target).includes("HttpApiIntegrationSecured"),
    );
    expect(routes.map(([, route]) => route.RouteKey).sort()).toEqual(ROUTES.map(routeKey).sort());
    for (const [, route] of routes) {
      expect(route.AuthorizationType).toBe("CUSTOM");
      expect(route.AuthorizerId).toEqual({ Ref: "HttpApiAuthorizerKeycloak" });
    }
    const [, authorizer] = resourcesOf(packaged.template, "AWS::ApiGatewayV2::Authorizer")[0] ?? [];
    expect(authorizer).toMatchObject({
      AuthorizerType: "REQUEST",
      AuthorizerPayloadFormatVersion: "2.0",
      EnableSimpleResponses: true,
      IdentitySource: ["$request.header.Authorization"],
      AuthorizerResultTtlInSeconds: DEV_TTL,
    });
  });
});

describe("gateway responses (REST)", () => {
  const response = (type: string): Record<string, unknown> | undefined =>
    resourcesOf(packaged.template, "AWS::ApiGateway::GatewayResponse").find(([, properties]) => properties.ResponseType === type)?.[1];

  test.each([
    ["UNAUTHORIZED", "401", `'Bearer realm="demo", error="invalid_token"'`, "invalid_token"],
    ["ACCESS_DENIED", "403", `'Bearer realm="demo", error="insufficient_scope"'`, "insufficient_scope"],
  ])("%s answers %s with an RFC 6750 challenge, a JSON body and CORS", (type, status, challenge, error) => {
    const properties = response(type);
    expect(properties?.StatusCode).toBe(status);
    const parameters = properties?.ResponseParameters as Record<string, string>;
    expect(parameters["gatewayresponse.header.WWW-Authenticate"]).toBe(challenge);
    expect(parameters["gatewayresponse.header.Access-Control-Allow-Origin"]).toBe("method.request.header.Origin");
    expect(parameters["gatewayresponse.header.Access-Control-Expose-Headers"]).toBe("'WWW-Authenticate'");
    const body = JSON.parse(((properties ?? {}).ResponseTemplates as Record<string, string>)["application/json"] as string) as { error: string };
    expect(body.error).toBe(error);
  });

  test("authorizer failures are server errors with CORS, never 401 or 403", () => {
    expect(response("AUTHORIZER_FAILURE")?.StatusCode).toBe("503");
    expect(response("AUTHORIZER_CONFIGURATION_ERROR")?.StatusCode).toBe("500");
    for (const type of ["AUTHORIZER_FAILURE", "AUTHORIZER_CONFIGURATION_ERROR"]) {
      expect(((response(type) ?? {}).ResponseParameters as Record<string, string>)["gatewayresponse.header.Access-Control-Allow-Origin"]).toBeDefined();
    }
  });
});

describe("CORS", () => {
  test("REST routes have preflight methods without an authorizer", () => {
    const options = resourcesOf(packaged.template, "AWS::ApiGateway::Method").filter(([, method]) => method.HttpMethod === "OPTIONS");
    expect(options.length).toBeGreaterThanOrEqual(new Set(ROUTES.map((route) => route.path)).size);
    for (const [, method] of options) expect(method.AuthorizationType).toBe("NONE");
  });

  test("the HTTP API allows the configured origins and exposes WWW-Authenticate", () => {
    const [, api] = resourcesOf(packaged.template, "AWS::ApiGatewayV2::Api")[0] ?? [];
    expect(api?.CorsConfiguration).toMatchObject({
      AllowOrigins: ["http://localhost:3000"],
      AllowHeaders: ["Authorization", "Content-Type", "DPoP"],
      ExposeHeaders: ["WWW-Authenticate"],
    });
  });

  test("origins are configurable per deploy", async () => {
    const custom = await packageService(["--param", "corsOrigins=https://app.example.com,https://docs.example.com"]);
    try {
      const [, api] = resourcesOf(custom.template, "AWS::ApiGatewayV2::Api")[0] ?? [];
      expect(((api ?? {}).CorsConfiguration as { AllowOrigins: string[] }).AllowOrigins).toEqual(["https://app.example.com", "https://docs.example.com"]);
      const [, fn] = resourcesOf(custom.template, "AWS::Lambda::Function").find(([name]) => name.startsWith("Secured")) ?? [];
      expect(((fn ?? {}).Environment as { Variables: Record<string, string> }).Variables.CORS_ORIGINS).toBe("https://app.example.com,https://docs.example.com");
    } finally {
      await custom.remove();
    }
  }, 180_000);
});
