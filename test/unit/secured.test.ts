import { afterAll, afterEach, beforeAll, describe, expect, jest, test } from "@jest/globals";
import type { APIGatewayAuthorizerResult, APIGatewayProxyResult, Context } from "aws-lambda";
import { createAuthorizerHandler } from "../../lib/authorizer/authorizer-handler.js";
import type { AuthorizerContext } from "../../lib/apigateway/context.js";
import { createAccessTokenVerifier } from "../../lib/token/access-token-verifier.js";
import { startIdpStub, type IdpStub } from "../helpers/idp-stub.js";
import { testConfig } from "../helpers/config.js";
import { EVENT_KINDS, authorizerEvent } from "../helpers/events.js";
import { accessToken, generateRsaKey, type TestKey } from "../helpers/tokens.js";
import { API_ROUTES } from "../../functions/routes.js";
import { protectedHandler } from "../../lib/lambda-handlers.js";
import { captureOutput } from "../helpers/captured-output.js";
import { payloadOf } from "../helpers/verification.js";
import { gatewayChecked } from "../helpers/gateway.js";

let idp: IdpStub;
let key: TestKey;
let authorizer: ReturnType<typeof createAuthorizerHandler>;
let securedHandler: (event: never, context: Context) => Promise<unknown>;
const lambdaContext = { awsRequestId: "test", getRemainingTimeInMillis: () => 3000 } as unknown as Context;

beforeAll(async () => {
  process.env.AUTH_REALM = "demo";
  // As a stage with DPoP on configures the secured function: its 401/403 to DPoP requests are DPoP challenges.
  process.env.KEYCLOAK_DPOP = "allowed";
  process.env.KEYCLOAK_ISSUER ??= "https://keycloak.example.com/realms/demo";
  ({ handler: securedHandler } = (await import("../../functions/secured.js")) as unknown as { handler: typeof securedHandler });
  key = generateRsaKey();
  idp = await startIdpStub([key.jwk]);
  authorizer = gatewayChecked(createAuthorizerHandler({ verifier: createAccessTokenVerifier(testConfig(idp.issuer)), routes: API_ROUTES }));
});
afterAll(() => idp.close());
afterEach(() => {
  jest.restoreAllMocks();
});

/** A proxy event as API Gateway builds it from an authorizer's answer, per API kind. */
function proxyEvent(kind: (typeof EVENT_KINDS)[number], context: AuthorizerContext | undefined, principalId?: string): never {
  if (kind === "http-v2") {
    const requestContext: Record<string, unknown> = { http: { method: "GET", path: "/secured" }, routeKey: "GET /secured" };
    if (context !== undefined) requestContext.authorizer = { lambda: context };
    return { version: "2.0", routeKey: "GET /secured", rawPath: "/secured", headers: {}, requestContext } as never;
  }
  const requestContext: Record<string, unknown> = { httpMethod: "GET", resourcePath: "/secured" };
  if (context !== undefined) requestContext.authorizer = { ...context, principalId, integrationLatency: 12 };
  return { resource: "/secured", path: "/secured", httpMethod: "GET", headers: {}, requestContext } as never;
}

async function callSecured(event: never): Promise<APIGatewayProxyResult> {
  return (await securedHandler(event, lambdaContext)) as APIGatewayProxyResult;
}

describe.each(EVENT_KINDS)("claims round trip through %s", (kind) => {
  test("authorizer -> context -> /secured gives back every claim with its JSON type", async () => {
    const claims = {
      realm_access: { roles: ["user", "admin"] },
      resource_access: { "secured-api": { roles: ["writer"] } },
      email_verified: true,
      auth_time: 1_700_000_000,
      acr: "1",
      "allowed-origins": ["http://localhost:3000"],
      address: { country: "NL", lines: ["a", "b"] },
      nothing: null,
      ratio: 0.25,
      unicode: 'ÆØÅ \u2603 "quoted"',
    };
    const token = accessToken(key, idp.issuer, { claims });
    const result = await authorizer(authorizerEvent(kind, `Bearer ${token}`));
    const context = (result as { context: AuthorizerContext }).context;
    const response = await callSecured(proxyEvent(kind, context, (result as APIGatewayAuthorizerResult).principalId));
    expect(response.statusCode).toBe(200);
    expect(response.headers?.["Content-Type"]).toBe("application/json");
    const body = JSON.parse(response.body) as { claims: Record<string, unknown> };
    expect(body.claims).toStrictEqual(payloadOf(token));
    expect(typeof body.claims.exp).toBe("number");
    expect(Array.isArray((body.claims.realm_access as { roles: unknown }).roles)).toBe(true);
  });

  test("no authorizer context is a JSON 401, never a 200 with empty claims", async () => {
    const output = captureOutput();
    const response = await callSecured(proxyEvent(kind, undefined));
    expect(output.records()).toEqual([expect.objectContaining({ level: "ERROR", reason: "missing_authorizer_context" })]);
    expect(response.statusCode).toBe(401);
    expect(response.headers?.["Content-Type"]).toBe("application/json");
    expect(response.headers?.["WWW-Authenticate"]).toBe('Bearer realm="demo", error="invalid_token"');
    expect(JSON.parse(response.body)).toMatchObject({ error: "invalid_token" });
  });

  test.each([
    ["an unparsable claims value", { kc_claims: "{not json" }],
    ["claims that are an array", { kc_claims: "[1,2]" }],
    ["empty claims", { kc_claims: "{}" }],
    ["claims under another key", { claims: '{"sub":"x"}' }],
  ])("%s is a JSON 401", async (_name, context) => {
    captureOutput();
    const response = await callSecured(proxyEvent(kind, context as AuthorizerContext));
    expect(response.statusCode).toBe(401);
    expect(JSON.parse(response.body)).toMatchObject({ error: "invalid_token" });
  });
});

describe.each(EVENT_KINDS)("RFC 9449 section 7.1 on %s: a request made with the DPoP scheme is challenged in the DPoP scheme", (kind) => {
  /** A proxy event for GET /admin (realm role admin) carrying `claims` and an Authorization header. */
  const adminEvent = (authorization: string, claims: Record<string, unknown>): never => {
    const context = { kc_claims: JSON.stringify(claims), realm: "demo" };
    const headers = { Authorization: authorization };
    if (kind === "http-v2") {
      return {
        version: "2.0",
        routeKey: "GET /admin",
        rawPath: "/admin",
        headers,
        requestContext: { http: { method: "GET", path: "/admin" }, authorizer: { lambda: context } },
      } as never;
    }
    return { resource: "/admin", path: "/admin", httpMethod: "GET", headers, requestContext: { authorizer: context } } as never;
  };
  const now = (): number => Math.floor(Date.now() / 1000);
  const claims = (extra: Record<string, unknown> = {}) => ({
    iss: "https://keycloak.example.com/realms/demo",
    aud: "secured-api",
    sub: "bob",
    exp: now() + 60,
    ...extra,
  });
  const ALL_ALGS = "ES256 ES384 ES512 PS256 PS384 PS512 RS256 RS384 RS512 EdDSA Ed25519 Ed448";

  test("403 for a DPoP-bound token lacking the route's role: a DPoP challenge naming the proof algorithms", async () => {
    captureOutput();
    const response = await callSecured(adminEvent("DPoP x.y.z", claims({ typ: "DPoP", cnf: { jkt: "thumbprint" } })));
    expect(response.statusCode).toBe(403);
    expect(response.headers?.["WWW-Authenticate"]).toBe(`DPoP realm="demo", error="insufficient_scope", algs="${ALL_ALGS}"`);
    expect(JSON.parse(response.body)).toEqual({ error: "insufficient_scope", message: "This route requires realm role admin." });
  });

  test("401 for an expired DPoP-bound token: a DPoP invalid_token challenge", async () => {
    captureOutput();
    const response = await callSecured(adminEvent("DPoP x.y.z", claims({ typ: "DPoP", cnf: { jkt: "thumbprint" }, exp: now() - 3600 })));
    expect(response.statusCode).toBe(401);
    expect(response.headers?.["WWW-Authenticate"]).toBe(`DPoP realm="demo", error="invalid_token", algs="${ALL_ALGS}"`);
  });

  test("with DPoP off, a request claiming the DPoP scheme gets the Bearer challenge: DPoP is not on offer", async () => {
    captureOutput();
    const handler = protectedHandler(API_ROUTES, async () => ({ statusCode: 200, body: "{}" }), {
      AUTH_REALM: "demo",
      KEYCLOAK_ISSUER: "https://keycloak.example.com/realms/demo",
      KEYCLOAK_DPOP: "off",
    });
    const response = (await handler(
      adminEvent("DPoP x.y.z", claims({ typ: "DPoP", cnf: { jkt: "thumbprint" } })),
      lambdaContext as never,
    )) as APIGatewayProxyResult;
    expect(response.statusCode).toBe(403);
    expect(response.headers?.["WWW-Authenticate"]).toBe('Bearer realm="demo", error="insufficient_scope"');
  });

  test("a Bearer request keeps its Bearer challenge", async () => {
    captureOutput();
    const response = await callSecured(adminEvent("Bearer x.y.z", claims()));
    expect(response.statusCode).toBe(403);
    expect(response.headers?.["WWW-Authenticate"]).toBe('Bearer realm="demo", error="insufficient_scope"');
  });
});
