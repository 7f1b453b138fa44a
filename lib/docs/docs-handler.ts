/**
 * The API's own documentation, public (no authorizer), behind both API kinds:
 *   GET /openapi.json    the OpenAPI document, its server being the API the request came through
 *   GET /docs            Swagger UI, logging in with the realm's public docs client (PKCE)
 *   GET /docs/{asset}    Swagger UI's files (lib/docs/swagger-assets.ts)
 */
import type { APIGatewayProxyResult } from "aws-lambda";
import { headerOf, placeOf, queryOf, type ProxyEvent } from "../apigateway/events.js";
import type { DocsConfig } from "../config/docs-config.js";
import { REALM_NAME, type TrustedRealm } from "../config/trusted-issuers.js";
import { ConfigError } from "../errors.js";
import type { RouteTable } from "../routes/route.js";
import { docsPage, pageHeaders } from "./docs-page.js";
import { buildOpenApiDocument, DOCS_SCOPES } from "./openapi.js";
import { CONTENT_TYPES, DOCS_ASSETS, swaggerAssets } from "./swagger-assets.js";

export interface DocsHandlerOptions extends Pick<DocsConfig, "issuers" | "defaultRealm" | "clientId"> {
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
  const { issuers } = options;
  /** The trusted realm of this name: an exact issuer's, or a pattern's (`/docs?realm=acme`). */
  const realmNamed = (name: string): TrustedRealm | undefined => {
    const exact = issuers.exact.find((realm) => realm.name === name);
    if (exact !== undefined) return exact;
    if (!REALM_NAME.test(name)) return undefined;
    for (const pattern of issuers.patterns) {
      const realm = issuers.match(`${pattern.slice(0, -"{realm}".length)}${name}`);
      if (realm !== undefined) return realm;
    }
    return undefined;
  };
  const fallback = options.defaultRealm === undefined ? issuers.exact[0] : realmNamed(options.defaultRealm);
  if (fallback === undefined) throw new ConfigError(`DOCS_REALM "${options.defaultRealm ?? ""}" is not a realm KEYCLOAK_ISSUER trusts`);
  const defaultRealm = fallback;
  const asset = swaggerAssets(options.assetDir);
  const securityFor = (realm: TrustedRealm): Readonly<Record<string, string>> => pageHeaders(new URL(realm.issuer).origin);

  /** The realm the request names (`?realm=`), or the default; undefined for one not trusted. */
  const realmOf = (event: ProxyEvent): { realm: TrustedRealm; chosen: boolean } | undefined => {
    const asked = queryOf(event, "realm");
    if (asked === undefined || asked === "") return { realm: defaultRealm, chosen: false };
    const realm = realmNamed(asked);
    return realm === undefined ? undefined : { realm, chosen: true };
  };

  const page = (basePath: string, realm: TrustedRealm, chosen: boolean): APIGatewayProxyResult => {
    const html = docsPage({
      realm: realm.name,
      basePath,
      openapiQuery: chosen ? `?realm=${encodeURIComponent(realm.name)}` : "",
      clientId: options.clientId,
      scopes: DOCS_SCOPES,
      assetUrl: (name) => `${basePath}/docs/${name}?v=${asset(name).version}`,
    });
    return { statusCode: 200, headers: { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache", ...securityFor(realm) }, body: html };
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
      ...(name === "oauth2-redirect.html" ? securityFor(defaultRealm) : {}),
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
    if (place.route === "/docs/{asset}") return assetResponse(event, place.apiKind);
    const named = realmOf(event);
    if (named === undefined) return json(404, { error: "unknown_realm", message: "No such realm." });
    switch (place.route) {
      case "/openapi.json": {
        const document = buildOpenApiDocument({
          routes: options.routes,
          issuer: named.realm.issuer,
          clientId: options.clientId,
          realm: named.realm.name,
          basePath: place.basePath,
          apiKind: place.apiKind,
          ...(place.stage === undefined ? {} : { stage: place.stage }),
        });
        // The document names the API it was fetched through, so it is not shared between them.
        return json(200, document, { "Cache-Control": "no-cache", "Access-Control-Allow-Origin": "*" });
      }
      case "/docs":
        return page(place.basePath, named.realm, named.chosen);
      default:
        return json(404, { error: "not_found", message: "Not a docs route." });
    }
  };
}
