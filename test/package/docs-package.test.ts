/**
 * The docs as `serverless package` ships them: the OpenAPI document lists exactly the routes the
 * packaged REST and HTTP APIs have, the docs routes are public, and the docs zip serves Swagger UI
 * from its own files in a plain Node process, as on Lambda.
 */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { execFile } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { OpenAPIV3 } from "openapi-types";
import { DOCS_ROUTES } from "../../lib/docs/openapi.js";
import { routeKey } from "../../lib/routes/route.js";
import { httpDocument, ISSUER, operationKeys } from "../helpers/openapi-documents.js";
import { packageService, resourcesOf, restRouteKeys, type PackagedService } from "../helpers/serverless-package.js";
import { unzip } from "../helpers/unzip.js";

const run = promisify(execFile);
/** The back-channel logout receiver (revocation, on in the dev stage): public, for Keycloak only, so not in the API's document. */
const RECEIVER = "POST /backchannel-logout";

describe("serverless package", () => {
  let packaged: PackagedService;
  let unpacked: string;
  beforeAll(async () => {
    packaged = await packageService([], { KEYCLOAK_ISSUER: ISSUER });
    unpacked = await mkdtemp(join(tmpdir(), "docs-zip-"));
  }, 180_000);
  afterAll(async () => {
    await packaged?.remove();
    if (unpacked !== undefined) await rm(unpacked, { recursive: true, force: true });
  });

  test("the document lists exactly the routes of the REST API and of the HTTP API", () => {
    const documented = [...operationKeys(httpDocument()), RECEIVER].sort();
    expect(
      restRouteKeys(packaged.template)
        .map((route) => route.key)
        .sort(),
    ).toEqual(documented);
    const httpRoutes = resourcesOf(packaged.template, "AWS::ApiGatewayV2::Route").map(([, route]) => String(route.RouteKey));
    expect(httpRoutes.sort()).toEqual(documented);
  });

  test("the docs routes (and the back-channel logout receiver) are public on both APIs; the others are behind the authorizer", () => {
    const docsKeys = new Set([...DOCS_ROUTES.map(routeKey), RECEIVER]);
    for (const { key, authorization } of restRouteKeys(packaged.template)) expect([key, authorization]).toEqual([key, docsKeys.has(key) ? "NONE" : "CUSTOM"]);
    for (const [, route] of resourcesOf(packaged.template, "AWS::ApiGatewayV2::Route")) {
      const key = String(route.RouteKey);
      expect([key, route.AuthorizationType ?? "NONE"]).toEqual([key, docsKeys.has(key) ? "NONE" : "CUSTOM"]);
    }
  });

  test("the docs function gets the realm's issuer", () => {
    const docsFunction = packaged.template.Resources.DocsLambdaFunction?.Properties as { Environment: { Variables: Record<string, string> } };
    expect(docsFunction.Environment.Variables).toMatchObject({ KEYCLOAK_ISSUER: ISSUER, DOCS_REALM: "" });
  });

  test("docs.zip holds the bundle and Swagger UI's files, and stays small", async () => {
    const zip = join(packaged.dir, "docs.zip");
    const names = await unzip(zip, unpacked);
    expect(names).toEqual(
      expect.arrayContaining([
        "functions/docs.mjs",
        "node_modules/swagger-ui-dist/swagger-ui-bundle.js",
        "node_modules/swagger-ui-dist/swagger-ui.css",
        "node_modules/swagger-ui-dist/oauth2-redirect.html",
        "node_modules/swagger-ui-dist/oauth2-redirect.js",
      ]),
    );
    expect(names.filter((name) => name.endsWith(".map") || name.endsWith(".ts") || name.startsWith("test/") || name.startsWith("local/"))).toEqual([]);
    // Swagger UI's bundle is ~1.7 MB; the zip stays far below Lambda's 50 MB and loads fast.
    expect((await stat(zip)).size).toBeLessThan(1024 * 1024);
  });

  test("the packaged function serves the page, its assets and the document from its own zip", async () => {
    await unzip(join(packaged.dir, "docs.zip"), unpacked);
    // A plain Node process, as on Lambda: the bundle imported by URL, no project node_modules near it.
    const script = `
      const docs = await import(${JSON.stringify(`file://${join(unpacked, "functions", "docs.mjs")}`)});
      const http = (rawPath, routeKey, asset) => ({ version: "2.0", routeKey, rawPath, headers: {}, pathParameters: asset ? { asset } : undefined, requestContext: { stage: "$default" } });
      const page = await docs.handler(http("/docs", "GET /docs"));
      const bundle = await docs.handler(http("/docs/swagger-ui-bundle.js", "GET /docs/{asset}", "swagger-ui-bundle.js"));
      const redirect = await docs.handler(http("/docs/oauth2-redirect.html", "GET /docs/{asset}", "oauth2-redirect.html"));
      const document = await docs.handler(http("/openapi.json", "GET /openapi.json"));
      console.log(JSON.stringify({ page: page.statusCode, bundle: [bundle.statusCode, bundle.body.length], redirect: redirect.body, document: JSON.parse(document.body) }));
    `;
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], {
      cwd: unpacked,
      env: { PATH: process.env.PATH ?? "", KEYCLOAK_ISSUER: ISSUER, AUTH_REALM: "demo" },
    });
    const result = JSON.parse(stdout) as { page: number; bundle: [number, number]; redirect: string; document: OpenAPIV3.Document };
    expect(result.page).toBe(200);
    expect(result.bundle[0]).toBe(200);
    expect(result.bundle[1]).toBeGreaterThan(1_000_000);
    expect(result.redirect).toContain("oauth2-redirect.js");
    expect(operationKeys(result.document).sort()).toEqual(operationKeys(httpDocument()).sort());
    expect(((result.document.components?.securitySchemes ?? {}).keycloak as OpenAPIV3.OAuth2SecurityScheme).flows.authorizationCode?.tokenUrl).toBe(
      `${ISSUER}/protocol/openid-connect/token`,
    );
  });
});
