/**
 * The OpenAPI document (lib/docs/openapi.ts) and the docs function (functions/docs.ts): the document
 * is valid OpenAPI 3 for an offline validator (@readme/openapi-parser), it says what each route
 * needs and answers; the docs function serves Swagger UI from swagger-ui-dist.
 * (test/package/docs-package.test.ts: the same, as `serverless package` ships it.)
 */
import { describe, expect, test } from "@jest/globals";
import { compileErrors, dereference, validate } from "@readme/openapi-parser";
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, APIGatewayProxyResult } from "aws-lambda";
import type { OpenAPIV3 } from "openapi-types";
import { placeOf } from "../../lib/apigateway/events.js";
import { createDocsHandler } from "../../lib/docs/docs-handler.js";
import { bearerChallenge, forbidden, unauthorized } from "../../lib/apigateway/http-errors.js";
import { DOCS_ROUTES, operationId, requiredScopes } from "../../lib/docs/openapi.js";
import { DOCS_ASSETS } from "../../lib/docs/swagger-assets.js";
import { allOf, anyOf, describeRequirement, realmRole, scope } from "../../lib/routes/requirements.js";
import { API_ROUTES, ROUTES } from "../../functions/routes.js";
import { routeKey } from "../../lib/routes/route.js";
import { httpDocument, ISSUER, operationKeys, restDocument } from "../helpers/openapi-documents.js";
import { parseTrustedIssuers } from "../../lib/config/trusted-issuers.js";

function operation(document: OpenAPIV3.Document, method: string, path: string): OpenAPIV3.OperationObject & Record<string, unknown> {
  const found = (document.paths[path] as Record<string, OpenAPIV3.OperationObject> | undefined)?.[method.toLowerCase()];
  if (found === undefined) throw new Error(`no ${method} ${path} in the document`);
  return found as OpenAPIV3.OperationObject & Record<string, unknown>;
}

describe("the OpenAPI document", () => {
  test.each([
    ["REST API", restDocument],
    ["HTTP API", httpDocument],
  ])("is valid OpenAPI 3 (%s), with no warnings, for @readme/openapi-parser (offline)", async (_kind, build) => {
    // validate() dereferences in place: give it a copy. No external $ref, so no network.
    const result = await validate(structuredClone(build()) as never, { resolve: { external: false } });
    expect(result.valid ? "" : compileErrors(result)).toBe("");
    expect(result.warnings).toEqual([]);
  });

  test("the validator does catch a broken document", async () => {
    const broken = structuredClone(restDocument()) as unknown as { paths: Record<string, Record<string, { responses?: unknown }>> };
    delete broken.paths["/secured"]?.get?.responses;
    expect((await validate(broken as never, { resolve: { external: false } })).valid).toBe(false);
  });

  test("has every route of functions/routes.ts and of the docs function, nothing else", () => {
    expect(operationKeys(restDocument()).sort()).toEqual([...ROUTES.map(routeKey), ...DOCS_ROUTES.map(routeKey)].sort());
  });

  test("its server is the API the request came through: the REST stage or the HTTP API root", () => {
    expect(restDocument().servers).toEqual([{ url: "/dev", description: expect.stringContaining("REST API (stage dev)") }]);
    expect(httpDocument().servers).toEqual([{ url: "/", description: expect.stringContaining("HTTP API") }]);
  });

  test("the security scheme is the realm's authorization code flow, discovery URL included; a pasted token works too", () => {
    const schemes = restDocument().components?.securitySchemes as Record<string, OpenAPIV3.SecuritySchemeObject>;
    const oauth2 = schemes.keycloak as OpenAPIV3.OAuth2SecurityScheme;
    expect(oauth2.type).toBe("oauth2");
    expect(oauth2.flows.authorizationCode).toMatchObject({
      authorizationUrl: `${ISSUER}/protocol/openid-connect/auth`,
      tokenUrl: `${ISSUER}/protocol/openid-connect/token`,
      scopes: { openid: expect.any(String), profile: expect.any(String), email: expect.any(String) },
    });
    expect(oauth2.description).toContain(`${ISSUER}/.well-known/openid-configuration`);
    expect(oauth2.description).toContain("api-docs");
    expect(schemes.bearerToken).toMatchObject({ type: "http", scheme: "bearer", bearerFormat: "JWT" });
  });

  test.each(ROUTES.map((route) => [routeKey(route), route] as const))("%s requires the realm's token and says what it needs", (_key, route) => {
    const op = operation(restDocument(), route.method, route.path);
    expect(op.operationId).toBe(operationId(route));
    expect(op.summary).toBe(route.summary);
    expect(op.security).toEqual([{ keycloak: requiredScopes(route.requires) }, { bearerToken: [] }]);
    expect(op.responses["200"]).toEqual({ $ref: "#/components/responses/Claims" });
    expect(op.responses["401"]).toEqual({ $ref: "#/components/responses/Unauthorized" });
    if (route.requires === undefined) {
      expect(op.responses["403"]).toBeUndefined();
      expect(op["x-required-roles"]).toBeUndefined();
      return;
    }
    const needs = describeRequirement(route.requires);
    expect(op.description).toContain(needs);
    expect(op["x-required-roles"]).toBe(needs);
    expect(op["x-requirement"]).toEqual(route.requires);
    const denied = op.responses["403"] as OpenAPIV3.ResponseObject;
    const expected = forbidden("demo", needs);
    expect(denied.content?.["application/json"]?.example).toEqual(expected.body);
    expect(((denied.headers ?? {})["WWW-Authenticate"] as OpenAPIV3.HeaderObject).example).toBe(expected.headers["WWW-Authenticate"]);
  });

  test("a challenge's realm cannot break the header: quotes, backslashes and control characters are left out", () => {
    const challenge = unauthorized('de"mo\r\nX-Evil: 1\\').headers["WWW-Authenticate"];
    expect(challenge).toBe('Bearer realm="demoX-Evil: 1", error="invalid_token"');
    expect(forbidden({ realm: "de\nmo", dpopAlgorithms: ["ES256"] }, "x").headers["WWW-Authenticate"]).toBe(
      'DPoP realm="demo", error="insufficient_scope", algs="ES256"',
    );
  });

  test("401 carries the RFC 6750 challenge and the JSON body of lib/http-error.ts; 200 the claims", async () => {
    const document = (await dereference(structuredClone(restDocument()) as never, { resolve: { external: false } })) as unknown as OpenAPIV3.Document;
    const secured = operation(document, "GET", "/secured");
    const missing = secured.responses["401"] as OpenAPIV3.ResponseObject;
    expect(((missing.headers ?? {})["WWW-Authenticate"] as OpenAPIV3.HeaderObject).example).toBe(bearerChallenge("demo", "invalid_token"));
    expect(missing.content?.["application/json"]?.example).toEqual(unauthorized("demo").body);
    const body = missing.content?.["application/json"]?.schema as OpenAPIV3.SchemaObject;
    expect(body.required).toEqual(["message"]);
    expect(Object.keys(body.properties ?? {})).toEqual(["error", "message"]);
    const ok = (secured.responses["200"] as OpenAPIV3.ResponseObject).content?.["application/json"]?.schema as OpenAPIV3.SchemaObject;
    expect(ok.required).toEqual(["claims"]);
    expect(((ok.properties ?? {}).claims as OpenAPIV3.SchemaObject).type).toBe("object");
  });

  test("the docs routes are public", () => {
    for (const route of DOCS_ROUTES) expect(operation(restDocument(), route.method, route.path).security).toEqual([]);
  });

  test("operation ids and required scopes", () => {
    expect(operationId({ method: "GET", path: "/reports/{id}" })).toBe("getReportsById");
    expect(operationId({ method: "POST", path: "/openapi.json" })).toBe("postOpenapiJson");
    expect(requiredScopes(allOf(scope("a"), realmRole("admin"), scope("b")))).toEqual(["a", "b"]);
    // An any-of needs no one scope in particular.
    expect(requiredScopes(anyOf(scope("a"), scope("b")))).toEqual([]);
  });
});

describe("where the request came from", () => {
  const rest = (path: string, resource: string, requestPath: string, asset?: string): APIGatewayProxyEvent =>
    ({
      resource,
      path,
      httpMethod: "GET",
      headers: {},
      pathParameters: asset === undefined ? null : { asset },
      requestContext: { stage: "dev", path: requestPath },
    }) as unknown as APIGatewayProxyEvent;
  const http = (rawPath: string, routeKey: string, stage = "$default", asset?: string): APIGatewayProxyEventV2 =>
    ({
      version: "2.0",
      routeKey,
      rawPath,
      headers: {},
      ...(asset === undefined ? {} : { pathParameters: { asset } }),
      requestContext: { stage },
    }) as unknown as APIGatewayProxyEventV2;

  test.each([
    ["REST API on execute-api", rest("/docs", "/docs", "/dev/docs"), "/dev"],
    ["REST API, an asset", rest("/docs/swagger-ui.css", "/docs/{asset}", "/dev/docs/swagger-ui.css", "swagger-ui.css"), "/dev"],
    ["REST API behind a custom domain's base path", rest("/docs", "/docs", "/v1/docs"), "/v1"],
    ["REST API behind a custom domain's root", rest("/docs", "/docs", "/docs"), ""],
    ["HTTP API, $default stage", http("/docs", "GET /docs"), ""],
    ["HTTP API, a named stage", http("/prod/openapi.json", "GET /openapi.json", "prod"), "/prod"],
    ["HTTP API, an asset", http("/docs/swagger-ui-bundle.js", "GET /docs/{asset}", "$default", "swagger-ui-bundle.js"), ""],
  ])("%s", (_case, event, basePath) => {
    expect(placeOf(event, false).basePath).toBe(basePath);
  });

  test("serverless-offline's REST events lack the stage in requestContext.path; its URLs have it", () => {
    expect(placeOf(rest("/docs", "/docs", "/docs"), true)).toMatchObject({ basePath: "/dev", apiKind: "rest", route: "/docs" });
    expect(placeOf(http("/docs", "GET /docs", "dev"), true)).toMatchObject({ basePath: "", apiKind: "http" });
  });
});

describe("the docs function", () => {
  const docs = createDocsHandler({ routes: API_ROUTES, issuers: parseTrustedIssuers(ISSUER, [], []), defaultRealm: undefined, clientId: "api-docs" });
  const httpEvent = (
    rawPath: string,
    routeKey: string,
    options: { asset?: string; headers?: Record<string, string>; v?: string } = {},
  ): APIGatewayProxyEventV2 =>
    ({
      version: "2.0",
      routeKey,
      rawPath,
      headers: options.headers ?? {},
      ...(options.asset === undefined ? {} : { pathParameters: { asset: options.asset } }),
      ...(options.v === undefined ? {} : { queryStringParameters: { v: options.v } }),
      requestContext: { stage: "$default" },
    }) as unknown as APIGatewayProxyEventV2;
  const restEvent = (resource: string, path: string, asset?: string): APIGatewayProxyEvent =>
    ({
      resource,
      path,
      httpMethod: "GET",
      headers: {},
      pathParameters: asset === undefined ? null : { asset },
      requestContext: { stage: "dev", path: `/dev${path}` },
    }) as unknown as APIGatewayProxyEvent;
  const header = (result: APIGatewayProxyResult, name: string): string | undefined => result.headers?.[name] as string | undefined;

  test("the page loads Swagger UI from this API only, with the api-docs client and PKCE", async () => {
    const page = await docs(restEvent("/docs", "/docs"));
    expect(page.statusCode).toBe(200);
    expect(header(page, "Content-Type")).toBe("text/html; charset=utf-8");
    const urls = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]);
    expect(urls).toEqual([
      "data:,",
      expect.stringMatching(/^\/dev\/docs\/swagger-ui\.css\?v=[0-9a-f]{12}$/),
      expect.stringMatching(/^\/dev\/docs\/swagger-ui-bundle\.js\?v=/),
      expect.stringMatching(/^\/dev\/docs\/swagger-initializer\.js\?v=/),
    ]);
    const config = JSON.parse(/<script id="docs-config" type="application\/json">(.*?)<\/script>/.exec(page.body)?.[1] ?? "") as Record<string, string>;
    expect(config).toEqual({
      openapiPath: "/dev/openapi.json",
      oauth2RedirectPath: "/dev/docs/oauth2-redirect.html",
      clientId: "api-docs",
      scopes: "openid profile email",
    });
    const csp = header(page, "Content-Security-Policy") ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self' https://keycloak.example.com");
    const script = await docs(restEvent("/docs/{asset}", "/docs/swagger-initializer.js", "swagger-initializer.js"));
    expect(script.body).toContain("usePkceWithAuthorizationCodeGrant: true");
    expect(script.body).toContain("validatorUrl: null");
  });

  test.each(DOCS_ASSETS.map((asset) => [asset]))("serves %s", async (asset) => {
    const result = await docs(httpEvent(`/docs/${asset}`, "GET /docs/{asset}", { asset }));
    expect(result.statusCode).toBe(200);
    expect(result.body.length).toBeGreaterThan(50);
    expect(header(result, "ETag")).toMatch(/^"[0-9a-f]{32}"$/);
  });

  test("an unknown asset is a 404; nothing outside the list is read", async () => {
    for (const asset of ["index.html", "../package.json", "swagger-ui-bundle.js.map", "%2e%2e%2fpackage.json"]) {
      expect((await docs(httpEvent(`/docs/${asset}`, "GET /docs/{asset}", { asset }))).statusCode).toBe(404);
    }
  });

  test("versioned asset URLs are cached for good, others revalidated with the ETag", async () => {
    const page = await docs(httpEvent("/docs", "GET /docs"));
    const version = /swagger-ui\.css\?v=([0-9a-f]+)/.exec(page.body)?.[1];
    const css = await docs(
      httpEvent("/docs/swagger-ui.css", "GET /docs/{asset}", { asset: "swagger-ui.css", ...(version === undefined ? {} : { v: version }) }),
    );
    expect(header(css, "Cache-Control")).toBe("public, max-age=31536000, immutable");
    const unversioned = await docs(httpEvent("/docs/swagger-ui.css", "GET /docs/{asset}", { asset: "swagger-ui.css" }));
    expect(header(unversioned, "Cache-Control")).toBe("no-cache");
    const again = await docs(
      httpEvent("/docs/swagger-ui.css", "GET /docs/{asset}", { asset: "swagger-ui.css", headers: { "if-none-match": header(css, "ETag") ?? "" } }),
    );
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe("");
  });

  test("large assets are gzipped for HTTP API callers that accept it, never on REST (no binaryMediaTypes there)", async () => {
    const zipped = await docs(
      httpEvent("/docs/swagger-ui-bundle.js", "GET /docs/{asset}", { asset: "swagger-ui-bundle.js", headers: { "Accept-Encoding": "gzip, deflate, br" } }),
    );
    expect(zipped).toMatchObject({ statusCode: 200, isBase64Encoded: true });
    expect(header(zipped, "Content-Encoding")).toBe("gzip");
    const { gunzipSync } = await import("node:zlib");
    const plain = await docs(httpEvent("/docs/swagger-ui-bundle.js", "GET /docs/{asset}", { asset: "swagger-ui-bundle.js" }));
    expect(gunzipSync(Buffer.from(zipped.body, "base64")).toString("utf8")).toBe(plain.body);
    const rest = await docs({ ...restEvent("/docs/{asset}", "/docs/swagger-ui-bundle.js", "swagger-ui-bundle.js"), headers: { "Accept-Encoding": "gzip" } });
    expect(rest.isBase64Encoded).toBeFalsy();
    expect(header(rest, "Content-Encoding")).toBeUndefined();
  });

  test("GET /openapi.json names the API it was fetched through", async () => {
    const fromRest = await docs(restEvent("/openapi.json", "/openapi.json"));
    expect(fromRest.statusCode).toBe(200);
    expect((JSON.parse(fromRest.body) as OpenAPIV3.Document).servers?.[0]?.url).toBe("/dev");
    const fromHttp = await docs(httpEvent("/openapi.json", "GET /openapi.json"));
    expect((JSON.parse(fromHttp.body) as OpenAPIV3.Document).servers?.[0]?.url).toBe("/");
  });
});
