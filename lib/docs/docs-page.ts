/** The Swagger UI page and the security headers it and its OAuth 2 redirect page are served with. */
import { escapeHtml } from "./html.js";

/** The page may call the realm (its token endpoint) and this API; it loads nothing from elsewhere. */
export function pageHeaders(issuerOrigin: string): Readonly<Record<string, string>> {
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
  return { "Content-Security-Policy": contentSecurityPolicy, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer" };
}

export interface PageSettings {
  readonly realm: string;
  /** `/dev` on REST, `` at the HTTP API root. */
  readonly basePath: string;
  /** `?realm=acme` when the page was asked for a realm: the document is fetched for the same one. */
  readonly openapiQuery: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
  /** The versioned URL of an asset: `<basePath>/docs/<name>?v=<version>`. */
  assetUrl(name: "swagger-ui.css" | "swagger-ui-bundle.js" | "swagger-initializer.js"): string;
}

export function docsPage(settings: PageSettings): string {
  const base = settings.basePath;
  const config = {
    openapiPath: `${base}/openapi.json${settings.openapiQuery}`,
    oauth2RedirectPath: `${base}/docs/oauth2-redirect.html`,
    clientId: settings.clientId,
    scopes: settings.scopes.join(" "),
  };
  // JSON in a <script> block: "<" escaped so no value can close the element.
  const configJson = JSON.stringify(config).replace(/</g, "\\u003c");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>API docs (realm ${escapeHtml(settings.realm)})</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${escapeHtml(settings.assetUrl("swagger-ui.css"))}">
</head>
<body>
<div id="swagger-ui"></div>
<script id="docs-config" type="application/json">${configJson}</script>
<script src="${escapeHtml(settings.assetUrl("swagger-ui-bundle.js"))}" charset="utf-8"></script>
<script src="${escapeHtml(settings.assetUrl("swagger-initializer.js"))}" charset="utf-8"></script>
</body>
</html>
`;
}
