/**
 * Swagger UI's files, read from the swagger-ui-dist package (shipped in the docs function's zip
 * through `package.patterns` in serverless.yml), plus the page's own initializer. Each is loaded
 * once per instance, with an ETag and a content version for immutable caching. Nothing is fetched
 * at run time: no CDN.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";

/** What `GET /docs/{asset}` serves. */
export const DOCS_ASSETS = ["swagger-ui.css", "swagger-ui-bundle.js", "oauth2-redirect.html", "oauth2-redirect.js", "swagger-initializer.js"] as const;
export type DocsAsset = (typeof DOCS_ASSETS)[number];

export const CONTENT_TYPES: Readonly<Record<DocsAsset, string>> = {
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

export interface LoadedAsset {
  readonly body: string;
  readonly etag: string;
  /** First 12 hex digits of the content's SHA-256: the `?v=` of the page's asset URLs. */
  readonly version: string;
  /** Gzipped and base64-encoded, on first demand. */
  gzipped(): string;
}

/** The folder of swagger-ui-dist: node_modules next to the bundle in the zip, the project's locally. */
export function swaggerUiDir(): string {
  // createRequire rather than a bundled import: esbuild leaves the lookup to run time, and
  // swagger-ui-dist's own entry point (absolute-path.js) relies on CommonJS __dirname.
  return dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/swagger-ui-bundle.js"));
}

/** The assets of one docs function; `assetDir` defaults to where Node's module resolution finds swagger-ui-dist. */
export function swaggerAssets(assetDir?: string): (name: DocsAsset) => LoadedAsset {
  const loaded = new Map<DocsAsset, LoadedAsset>();
  let dir = assetDir;
  return (name) => {
    let asset = loaded.get(name);
    if (asset === undefined) {
      let body: string;
      if (name === "swagger-initializer.js") body = INITIALIZER;
      else {
        dir ??= swaggerUiDir();
        body = readFileSync(join(dir, name), "utf8");
      }
      const digest = createHash("sha256").update(body).digest("hex");
      let zipped: string | undefined;
      asset = { body, etag: `"${digest.slice(0, 32)}"`, version: digest.slice(0, 12), gzipped: () => (zipped ??= gzipSync(body).toString("base64")) };
      loaded.set(name, asset);
    }
    return asset;
  };
}
