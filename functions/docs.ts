/**
 * The API's own documentation, public (no authorizer), behind both API kinds:
 *   GET /openapi.json    the OpenAPI document of lib/openapi.ts, its server being the API the
 *                        request came through (REST `/<stage>` or HTTP API root)
 *   GET /docs            Swagger UI, logging in with the realm's public `api-docs` client (PKCE)
 *   GET /docs/{asset}    Swagger UI's files, read from the swagger-ui-dist package (shipped in
 *                        this function's zip through `package.patterns` in serverless.yml)
 * Nothing is fetched at run time: no CDN, no validator badge.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, APIGatewayProxyResult } from "aws-lambda";
import { loadApiConfig } from "../lib/api-config.js";
import { ConfigError } from "../lib/errors.js";
import { buildOpenApiDocument, DOCS_ASSETS, DOCS_CLIENT_ID, DOCS_SCOPES } from "../lib/openapi.js";

type DocsEvent = APIGatewayProxyEvent | APIGatewayProxyEventV2;
type Asset = (typeof DOCS_ASSETS)[number];

export interface DocsOptions {
  readonly issuer: string;
  readonly realm: string;
  /** Where swagger-ui-dist's files are; by default found by Node's module resolution. */
  readonly assetDir?: string;
}

/** The folder of swagger-ui-dist: node_modules next to the bundle in the zip, the project's locally. */
export function swaggerUiDir(): string {
  // createRequire rather than a bundled import: esbuild leaves the lookup to run time, and
  // swagger-ui-dist's own entry point (absolute-path.js) relies on CommonJS __dirname.
  return dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/swagger-ui-bundle.js"));
}

const CONTENT_TYPES: Record<Asset, string> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  "oauth2-redirect.html": "text/html; charset=utf-8",
  "oauth2-redirect.js": "text/javascript; charset=utf-8",
  "swagger-initializer.js": "text/javascript; charset=utf-8",
};

/**
 * The page's own script (not the package's swagger-initializer.js, which points at the petstore):
 * its settings come from a JSON block in the page, so the Content-Security-Policy needs no inline
 * script. URLs are resolved against the page's own location: the same host, API kind and stage.
 */
const INITIALIZER = `"use strict";
(function () {
  var config = JSON.parse(document.getElementById("docs-config").textContent);
  var here = window.location.href;
  window.ui = SwaggerUIBundle({
    url: new URL(config.openapiPath, here).href,
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    oauth2RedirectUrl: new URL(config.oauth2RedirectPath, here).href,
    validatorUrl: null,
    displayRequestDuration: true,
    persistAuthorization: false
  });
  window.ui.initOAuth({
    clientId: config.clientId,
    usePkceWithAuthorizationCodeGrant: true,
    scopes: config.scopes
  });
})();
`;

interface LoadedAsset {
  readonly body: string;
  readonly etag: string;
  /** First 12 hex digits of the content's SHA-256: the `?v=` of the page's asset URLs. */
  readonly version: string;
  gzipped?: string;
}

/** Where a request is, as the caller sees it. */
export interface RequestPlace {
  /** `GET /docs/{asset}`: which of the docs routes. */
  readonly route: string;
  readonly asset: string | undefined;
  /** The path before the route, as the caller reached it: `/dev` on REST, `` at the HTTP API root. */
  readonly basePath: string;
  readonly apiKind: "rest" | "http";
  readonly stage: string | undefined;
}

function isHttpApi(event: DocsEvent): event is APIGatewayProxyEventV2 {
  return (event as APIGatewayProxyEventV2).version === "2.0" && typeof (event as APIGatewayProxyEventV2).routeKey === "string";
}

/**
 * The route and the base path of the API from the event. REST: `requestContext.path` is the path
 * the caller used (`/dev/docs`, or a custom domain's `/v1/docs`), `resource` the route; HTTP API:
 * `rawPath` (`/docs`, or `/prod/docs` on a named stage) and `routeKey`. serverless-offline
 * (`offline`, its IS_OFFLINE=true) leaves the stage out of a REST event's `requestContext.path`
 * although its URLs carry it, so there the stage is put back.
 */
export function placeOf(event: DocsEvent, offline = process.env.IS_OFFLINE === "true"): RequestPlace {
  const http = isHttpApi(event);
  const route = http ? (event.routeKey.split(" ")[1] ?? "") : event.resource;
  const asset = event.pathParameters?.asset;
  const stage = event.requestContext?.stage;
  const tail = asset === undefined ? route : route.replace("{asset}", asset);
  const seen = http ? event.rawPath : (event.requestContext?.path ?? event.path);
  const restStage = !http && stage !== undefined ? `/${stage}` : "";
  let basePath: string;
  if (typeof seen === "string" && seen.endsWith(tail)) basePath = seen.slice(0, seen.length - tail.length).replace(/\/+$/, "");
  else basePath = restStage;
  if (offline && !http && basePath === "") basePath = restStage;
  return { route, asset, basePath, apiKind: http ? "http" : "rest", stage };
}

function header(event: DocsEvent, name: string): string | undefined {
  const headers = (event.headers ?? {}) as Record<string, string | undefined>;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === wanted) return value;
  return undefined;
}

function query(event: DocsEvent, name: string): string | undefined {
  return event.queryStringParameters?.[name] ?? undefined;
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return { statusCode, headers: { "Content-Type": "application/json", ...headers }, body: JSON.stringify(body) };
}

/** The docs handler for one configuration (tests build their own; `handler` reads the environment). */
export function createDocsHandler(options: DocsOptions): (event: DocsEvent) => Promise<APIGatewayProxyResult> {
  const issuer = options.issuer.replace(/\/+$/, "");
  let issuerOrigin: string;
  try {
    issuerOrigin = new URL(issuer).origin;
  } catch {
    throw new ConfigError(`KEYCLOAK_ISSUER is not a URL: ${issuer}`);
  }
  const loaded = new Map<Asset, LoadedAsset>();
  let assetDir = options.assetDir;

  const load = (name: Asset): LoadedAsset => {
    let asset = loaded.get(name);
    if (asset === undefined) {
      let body: string;
      if (name === "swagger-initializer.js") body = INITIALIZER;
      else {
        assetDir ??= swaggerUiDir();
        body = readFileSync(join(assetDir, name), "utf8");
      }
      const digest = createHash("sha256").update(body).digest("hex");
      asset = { body, etag: `"${digest.slice(0, 32)}"`, version: digest.slice(0, 12) };
      loaded.set(name, asset);
    }
    return asset;
  };

  // The page may call the realm (token endpoint) and this API; it loads nothing from elsewhere.
  const contentSecurityPolicy = [
    "default-src 'none'",
    "script-src 'self'",
    // Swagger UI sets style attributes from script.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    `connect-src 'self' ${issuerOrigin}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
  const pageHeaders = {
    "Content-Security-Policy": contentSecurityPolicy,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
  };

  const page = (place: RequestPlace): APIGatewayProxyResult => {
    const base = place.basePath;
    const url = (name: Asset): string => `${base}/docs/${name}?v=${load(name).version}`;
    const config = {
      openapiPath: `${base}/openapi.json`,
      oauth2RedirectPath: `${base}/docs/oauth2-redirect.html`,
      clientId: DOCS_CLIENT_ID,
      scopes: DOCS_SCOPES.join(" "),
    };
    // JSON in a <script> block: "<" escaped so no value can close the element.
    const configJson = JSON.stringify(config).replace(/</g, "\\u003c");
    const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>API docs (realm ${escapeHtml(options.realm)})</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${escapeHtml(url("swagger-ui.css"))}">
</head>
<body>
<div id="swagger-ui"></div>
<script id="docs-config" type="application/json">${configJson}</script>
<script src="${escapeHtml(url("swagger-ui-bundle.js"))}" charset="utf-8"></script>
<script src="${escapeHtml(url("swagger-initializer.js"))}" charset="utf-8"></script>
</body>
</html>
`;
    return { statusCode: 200, headers: { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache", ...pageHeaders }, body: html };
  };

  const assetResponse = (event: DocsEvent, place: RequestPlace): APIGatewayProxyResult => {
    const name = DOCS_ASSETS.find((candidate) => candidate === place.asset);
    if (name === undefined) return json(404, { error: "not_found", message: "No such asset." });
    const asset = load(name);
    const headers: Record<string, string> = {
      "Content-Type": CONTENT_TYPES[name],
      ETag: asset.etag,
      // Asset URLs carry a content hash (?v=), so a versioned URL never changes content.
      "Cache-Control": query(event, "v") === asset.version ? "public, max-age=31536000, immutable" : "no-cache",
      "X-Content-Type-Options": "nosniff",
      ...(name === "oauth2-redirect.html" ? pageHeaders : {}),
    };
    if (header(event, "if-none-match") === asset.etag) return { statusCode: 304, headers, body: "" };
    // HTTP APIs decode base64 bodies on their own; REST APIs only for their binaryMediaTypes,
    // so compressed answers go to HTTP API callers only.
    if (place.apiKind === "http" && /\bgzip\b/.test(header(event, "accept-encoding") ?? "") && asset.body.length > 1024) {
      asset.gzipped ??= gzipSync(asset.body).toString("base64");
      return { statusCode: 200, headers: { ...headers, "Content-Encoding": "gzip", Vary: "Accept-Encoding" }, body: asset.gzipped, isBase64Encoded: true };
    }
    return { statusCode: 200, headers: { ...headers, ...(place.apiKind === "http" ? { Vary: "Accept-Encoding" } : {}) }, body: asset.body };
  };

  return async (event) => {
    const place = placeOf(event);
    switch (place.route) {
      case "/openapi.json": {
        const document = buildOpenApiDocument({
          issuer,
          realm: options.realm,
          basePath: place.basePath,
          apiKind: place.apiKind,
          ...(place.stage === undefined ? {} : { stage: place.stage }),
        });
        // The document names the API it was fetched through, so it is not shared between them.
        return json(200, document, { "Cache-Control": "no-cache", "Access-Control-Allow-Origin": "*" });
      }
      case "/docs":
        return page(place);
      case "/docs/{asset}":
        return assetResponse(event, place);
      default:
        return json(404, { error: "not_found", message: "Not a docs route." });
    }
  };
}

/** Reads KEYCLOAK_ISSUER (required) and AUTH_REALM (default: the issuer's last path segment). */
export function docsOptionsFromEnv(env: Readonly<Record<string, string | undefined>>): DocsOptions {
  const issuer = env.KEYCLOAK_ISSUER?.trim();
  if (!issuer) throw new ConfigError("KEYCLOAK_ISSUER is required: the realm's issuer, e.g. https://keycloak.example.com/realms/demo");
  return { issuer, realm: loadApiConfig(env).realm };
}

let configured: ((event: DocsEvent) => Promise<APIGatewayProxyResult>) | undefined;

/** The Lambda handler: configured from the environment on the first (cold) invocation. */
export const handler = (event: DocsEvent): Promise<APIGatewayProxyResult> => {
  configured ??= createDocsHandler(docsOptionsFromEnv(process.env));
  return configured(event);
};
