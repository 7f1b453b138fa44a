/**
 * The API's own documentation, public (no authorizer), behind both API kinds:
 *   GET /openapi.json    the OpenAPI document, its server being the API the request came through
 *   GET /docs            Swagger UI, logging in with the realm's public docs client (PKCE)
 *   GET /docs/{asset}    Swagger UI's files (lib/docs/swagger-assets.ts)
 */
import type { APIGatewayProxyResult } from "aws-lambda";
import { headerOf, placeOf, queryOf, type ProxyEvent } from "../apigateway/events.js";
import type { DocsConfig } from "../config/docs-config.js";
import { ConfigError } from "../errors.js";
import type { RouteTable } from "../routes/route.js";
import { docsPage, pageHeaders } from "./docs-page.js";
import { buildOpenApiDocument, DOCS_SCOPES } from "./openapi.js";
import { CONTENT_TYPES, DOCS_ASSETS, swaggerAssets } from "./swagger-assets.js";

export interface DocsHandlerOptions extends Pick<DocsConfig, "issuer" | "realm" | "clientId"> {
  readonly routes: RouteTable;
  /** Where swagger-ui-dist's files are; by default found by Node's module resolution. */
  readonly assetDir?: string;
  /** serverless-offline (IS_OFFLINE=true) leaves the stage out of REST paths: see placeOf. */
  readonly offline?: boolean;
}

function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return { statusCode, headers: { "Content-Type": "application/json", ...headers }, body: JSON.stringify(body) };
}

export function createDocsHandler(options: DocsHandlerOptions): (event: ProxyEvent) => Promise<APIGatewayProxyResult> {
  const issuer = options.issuer.replace(/\/+$/, "");
  let issuerOrigin: string;
  try {
    issuerOrigin = new URL(issuer).origin;
  } catch (cause) {
    throw new ConfigError(`KEYCLOAK_ISSUER is not a URL: ${issuer}`, { cause });
  }
  const asset = swaggerAssets(options.assetDir);
  const security = pageHeaders(issuerOrigin);

  const page = (basePath: string): APIGatewayProxyResult => {
    const html = docsPage({
      realm: options.realm,
      basePath,
      clientId: options.clientId,
      scopes: DOCS_SCOPES,
      assetUrl: (name) => `${basePath}/docs/${name}?v=${asset(name).version}`,
    });
    return { statusCode: 200, headers: { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache", ...security }, body: html };
  };

  const assetResponse = (event: ProxyEvent, apiKind: "rest" | "http"): APIGatewayProxyResult => {
    const name = DOCS_ASSETS.find((candidate) => candidate === event.pathParameters?.asset);
    if (name === undefined) return json(404, { error: "not_found", message: "No such asset." });
    const file = asset(name);
    const headers: Record<string, string> = {
      "Content-Type": CONTENT_TYPES[name],
      ETag: file.etag,
      // Asset URLs carry a content hash (?v=), so a versioned URL never changes content.
      "Cache-Control": queryOf(event, "v") === file.version ? "public, max-age=31536000, immutable" : "no-cache",
      "X-Content-Type-Options": "nosniff",
      ...(name === "oauth2-redirect.html" ? security : {}),
    };
    if (headerOf(event, "if-none-match") === file.etag) return { statusCode: 304, headers, body: "" };
    // HTTP APIs decode base64 bodies on their own; REST APIs only for their binaryMediaTypes,
    // so compressed answers go to HTTP API callers only.
    if (apiKind === "http" && /\bgzip\b/.test(headerOf(event, "accept-encoding") ?? "") && file.body.length > 1024) {
      return { statusCode: 200, headers: { ...headers, "Content-Encoding": "gzip", Vary: "Accept-Encoding" }, body: file.gzipped(), isBase64Encoded: true };
    }
    return { statusCode: 200, headers: { ...headers, ...(apiKind === "http" ? { Vary: "Accept-Encoding" } : {}) }, body: file.body };
  };

  return async (event) => {
    const place = placeOf(event, options.offline ?? false);
    switch (place.route) {
      case "/openapi.json": {
        const document = buildOpenApiDocument({
          routes: options.routes,
          issuer,
          clientId: options.clientId,
          realm: options.realm,
          basePath: place.basePath,
          apiKind: place.apiKind,
          ...(place.stage === undefined ? {} : { stage: place.stage }),
        });
        // The document names the API it was fetched through, so it is not shared between them.
        return json(200, document, { "Cache-Control": "no-cache", "Access-Control-Allow-Origin": "*" });
      }
      case "/docs":
        return page(place.basePath);
      case "/docs/{asset}":
        return assetResponse(event, place.apiKind);
      default:
        return json(404, { error: "not_found", message: "Not a docs route." });
    }
  };
}
