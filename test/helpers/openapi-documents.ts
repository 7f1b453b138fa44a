/** The demo API's OpenAPI documents as the docs function builds them, and how to read their operations. */
import type { OpenAPIV3 } from "openapi-types";
import { API_ROUTES } from "../../functions/routes.js";
import { buildOpenApiDocument } from "../../lib/docs/openapi.js";

export const ISSUER = "https://keycloak.example.com/realms/demo";

export const restDocument = (): OpenAPIV3.Document =>
  buildOpenApiDocument({ routes: API_ROUTES, issuer: ISSUER, clientId: "api-docs", realm: "demo", basePath: "/dev", apiKind: "rest", stage: "dev" });
export const httpDocument = (): OpenAPIV3.Document =>
  buildOpenApiDocument({ routes: API_ROUTES, issuer: ISSUER, clientId: "api-docs", realm: "demo", basePath: "", apiKind: "http", stage: "$default" });

/** `GET /secured`-style keys of a document's operations. */
export function operationKeys(document: OpenAPIV3.Document): string[] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.keys(item ?? {})
      .filter((key) => ["get", "put", "post", "delete", "patch", "head", "options", "trace"].includes(key))
      .map((method) => `${method.toUpperCase()} ${path}`),
  );
}
