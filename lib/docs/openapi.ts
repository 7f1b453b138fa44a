/**
 * The API's OpenAPI 3 document, generated from its route table (the list serverless.yml builds its
 * events from) so the docs cannot drift from the wiring, plus the docs function's own routes.
 * Served at `GET /openapi.json` and rendered by Swagger UI at `GET /docs` (lib/docs/docs-handler.ts).
 */
import type { OpenAPIV3 } from "openapi-types";
import { bearerChallenge, forbidden, unauthorized } from "../apigateway/http-errors.js";
import { discoveryUrl } from "../keys/discovery.js";
import { describeRequirement, type Requirement } from "../routes/requirements.js";
import type { Route, RouteTable } from "../routes/route.js";
import { DOCS_ASSETS } from "./swagger-assets.js";

/** What the docs page asks for: Keycloak's default user scopes. */
export const DOCS_SCOPES = ["openid", "profile", "email"] as const;

/** The security scheme names in `components.securitySchemes`. */
const OAUTH2_SCHEME = "keycloak";
const BEARER_SCHEME = "bearerToken";

/** A route of the docs function itself: public, no authorizer. */
export interface DocsRoute {
  readonly method: "GET";
  readonly path: string;
  readonly summary: string;
}

/** The docs function's routes. serverless.yml lists them (test/unit/openapi.test.ts keeps the two equal). */
export const DOCS_ROUTES: readonly DocsRoute[] = [
  { method: "GET", path: "/openapi.json", summary: "This OpenAPI document" },
  { method: "GET", path: "/docs", summary: "Swagger UI for this API" },
  { method: "GET", path: "/docs/{asset}", summary: "Swagger UI's scripts, styles and OAuth 2 redirect page" },
];

export interface OpenApiOptions {
  /** The protected routes. */
  readonly routes: RouteTable;
  /** `KEYCLOAK_ISSUER`, e.g. `http://localhost:8080/realms/demo`. */
  readonly issuer: string;
  /** The public client Swagger UI logs in with (authorization code + PKCE S256, no secret). */
  readonly clientId: string;
  /** The realm named in `WWW-Authenticate` challenges. */
  readonly realm: string;
  /**
   * Where the API is, as the caller reached it: `/dev` (REST API stage), `` (HTTP API `$default`
   * stage). A path, resolved by clients against the document's own URL, so the page calls the
   * same API (kind, host, custom domain) it was loaded from.
   */
  readonly basePath: string;
  /** Which API kind served the request, for the server's description. */
  readonly apiKind: "rest" | "http";
  /** The REST stage or HTTP API stage name, for the description. */
  readonly stage?: string;
}

/** `GET /reports/{id}` -> `getReportsById`: stable, unique per method and path. */
export function operationId(route: Pick<Route, "method" | "path">): string {
  const words = route.path
    .split("/")
    .filter(Boolean)
    .map((segment) => {
      const param = /^\{(.+)\}$/.exec(segment)?.[1];
      const word = (param === undefined ? segment : `by-${param}`).replace(/[^A-Za-z0-9]+(.)?/g, (_m, next: string | undefined) => (next ?? "").toUpperCase());
      return word.charAt(0).toUpperCase() + word.slice(1);
    });
  return `${route.method.toLowerCase()}${words.join("")}`;
}

/** Scopes every token must carry for the requirement (a scope leaf, or scope leaves of an all-of). */
export function requiredScopes(requirement: Requirement | undefined): string[] {
  if (requirement === undefined) return [];
  if ("scope" in requirement) return [requirement.scope];
  if ("allOf" in requirement) return [...new Set(requirement.allOf.flatMap((inner) => requiredScopes(inner)))];
  return [];
}

/** Every scope named anywhere in the requirement (for the OAuth 2 flow's scope list). */
function scopesNamed(requirement: Requirement | undefined): string[] {
  if (requirement === undefined) return [];
  if ("scope" in requirement) return [requirement.scope];
  if ("anyOf" in requirement) return requirement.anyOf.flatMap(scopesNamed);
  if ("allOf" in requirement) return requirement.allOf.flatMap(scopesNamed);
  return [];
}

function pathParameters(path: string): OpenAPIV3.ParameterObject[] {
  return [...path.matchAll(/\{([^}]+)\}/g)].map(([, name]) => ({ name: name as string, in: "path", required: true, schema: { type: "string" } }));
}

const ERROR_BODY = { $ref: "#/components/schemas/ErrorBody" } as const;
const WWW_AUTHENTICATE = { $ref: "#/components/headers/WWW-Authenticate" } as const;

function protectedOperation(route: Route, realm: string): OpenAPIV3.OperationObject {
  const needs = route.requires === undefined ? undefined : describeRequirement(route.requires);
  const responses: OpenAPIV3.ResponsesObject = {
    "200": { $ref: "#/components/responses/Claims" },
    "401": { $ref: "#/components/responses/Unauthorized" },
  };
  if (route.requires !== undefined && needs !== undefined) {
    const denied = forbidden(realm, needs);
    responses["403"] = {
      description: `The token is valid but lacks ${needs}. (On a deployed REST API the authorizer's policy refuses first, with the same challenge and error code and a generic message.)`,
      headers: { "WWW-Authenticate": challengeHeader(denied.headers["WWW-Authenticate"] ?? "") },
      content: { "application/json": { schema: ERROR_BODY, example: denied.body } },
    };
  }
  const operation: OpenAPIV3.OperationObject & Record<`x-${string}`, unknown> = {
    operationId: operationId(route),
    tags: ["api"],
    summary: route.summary,
    description:
      needs === undefined ? "Needs a valid access token of the realm; no particular role." : `Needs a valid access token of the realm with **${needs}**.`,
    ...(route.path.includes("{") ? { parameters: pathParameters(route.path) } : {}),
    security: [{ [OAUTH2_SCHEME]: requiredScopes(route.requires) }, { [BEARER_SCHEME]: [] }],
    responses,
  };
  if (route.requires !== undefined && needs !== undefined) {
    operation["x-required-roles"] = needs;
    operation["x-requirement"] = route.requires;
  }
  return operation;
}

function challengeHeader(example: string): OpenAPIV3.HeaderObject {
  return {
    description: "RFC 6750 section 3 challenge.",
    schema: { type: "string" },
    example,
  };
}

function docsOperation(route: DocsRoute): OpenAPIV3.OperationObject {
  const ok: Record<string, OpenAPIV3.ResponseObject> = {
    "/openapi.json": { description: "The OpenAPI document, with this API as its server.", content: { "application/json": { schema: { type: "object" } } } },
    "/docs": { description: "The Swagger UI page.", content: { "text/html": { schema: { type: "string" } } } },
    "/docs/{asset}": {
      description: "The file.",
      content: { "text/javascript": { schema: { type: "string" } }, "text/css": { schema: { type: "string" } }, "text/html": { schema: { type: "string" } } },
    },
  };
  const responses: OpenAPIV3.ResponsesObject = { "200": ok[route.path] ?? { description: "OK" } };
  if (route.path === "/docs/{asset}") responses["404"] = { description: "No such asset.", content: { "application/json": { schema: ERROR_BODY } } };
  return {
    operationId: operationId(route),
    tags: ["docs"],
    summary: route.summary,
    // Public: no authorizer in front of these.
    security: [],
    ...(route.path === "/docs/{asset}"
      ? { parameters: [{ name: "asset", in: "path", required: true, schema: { type: "string", enum: [...DOCS_ASSETS] } }] }
      : {}),
    responses,
  };
}

/** The OpenAPI 3.0 document for every route of the API and of the docs function. */
export function buildOpenApiDocument(options: OpenApiOptions): OpenAPIV3.Document {
  const issuer = options.issuer.replace(/\/+$/, "");
  const discovery = discoveryUrl(issuer);
  const { routes } = options.routes;
  const clientId = options.clientId;
  const tokenUrl = `${issuer}/protocol/openid-connect/token`;
  const scopes: Record<string, string> = {
    openid: "OpenID Connect sign-in",
    profile: "Name and preferred_username in the token",
    email: "email and email_verified in the token",
  };
  for (const route of routes) for (const name of scopesNamed(route.requires)) scopes[name] ??= `Required by ${route.method} ${route.path}`;

  const paths: OpenAPIV3.PathsObject = {};
  for (const route of routes) {
    paths[route.path] ??= {};
    (paths[route.path] as Record<string, OpenAPIV3.OperationObject>)[route.method.toLowerCase()] = protectedOperation(route, options.realm);
  }
  for (const route of DOCS_ROUTES) {
    paths[route.path] ??= {};
    (paths[route.path] as Record<string, OpenAPIV3.OperationObject>)[route.method.toLowerCase()] = docsOperation(route);
  }

  const missing = unauthorized(options.realm);
  const apiKind =
    options.apiKind === "rest"
      ? `REST API${options.stage ? ` (stage ${options.stage})` : ""}, TOKEN authorizer`
      : `HTTP API${options.basePath === "" ? "" : ` (${options.basePath})`}, payload 2.0 authorizer`;
  return {
    openapi: "3.0.3",
    info: {
      title: "keycloak-lambda-authorizer",
      version: "0.1.0",
      description: [
        `Routes protected by Keycloak access tokens of the realm \`${options.realm}\` (issuer \`${issuer}\`).`,
        `**Authorize** signs in with the public client \`${clientId}\` (authorization code with PKCE), or paste an access token (\`npm run token -- --user alice\`).`,
        `OpenID Connect discovery: ${discovery}`,
        "Every protected route answers `200 {\"claims\": {...}}` with the verified token's payload; 401 without a valid token, 403 when the token lacks the route's roles or scopes.",
      ].join("\n\n"),
    },
    servers: [{ url: options.basePath === "" ? "/" : options.basePath, description: `This ${apiKind}` }],
    tags: [
      { name: "api", description: "Protected routes" },
      { name: "docs", description: "This documentation (public)" },
    ],
    paths,
    components: {
      securitySchemes: {
        [OAUTH2_SCHEME]: {
          type: "oauth2",
          description: `Keycloak realm \`${options.realm}\`: authorization code with PKCE (S256) for the public client \`${clientId}\`. OpenID Connect discovery: ${discovery}`,
          flows: {
            authorizationCode: {
              authorizationUrl: `${issuer}/protocol/openid-connect/auth`,
              tokenUrl,
              refreshUrl: tokenUrl,
              scopes,
            },
          },
        },
        [BEARER_SCHEME]: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "JWT",
          description: "A Keycloak access token of the realm, pasted as is (e.g. from `npm run token -- --user alice`).",
        },
      },
      headers: {
        "WWW-Authenticate": challengeHeader(bearerChallenge(options.realm, "invalid_token")),
      },
      schemas: {
        Claims: {
          type: "object",
          required: ["claims"],
          properties: {
            claims: {
              type: "object",
              description: "The verified access token's payload, every claim with its JSON type as the token carried it.",
              additionalProperties: true,
              properties: {
                iss: { type: "string" },
                sub: { type: "string" },
                aud: { oneOf: [{ type: "string" }, { type: "array", items: { type: "string" } }] },
                azp: { type: "string" },
                exp: { type: "integer" },
                iat: { type: "integer" },
                typ: { type: "string", example: "Bearer" },
                scope: { type: "string", example: "openid profile email" },
                preferred_username: { type: "string" },
                realm_access: { type: "object", properties: { roles: { type: "array", items: { type: "string" } } } },
                resource_access: {
                  type: "object",
                  additionalProperties: { type: "object", properties: { roles: { type: "array", items: { type: "string" } } } },
                },
              },
            },
          },
          example: {
            claims: {
              iss: issuer,
              sub: "6f1c2a0e-8a53-4c8e-9d4b-0a1f3e7c2b11",
              aud: "secured-api",
              azp: clientId,
              typ: "Bearer",
              scope: "openid profile email",
              preferred_username: "alice",
              realm_access: { roles: ["user", "admin"] },
              resource_access: { "secured-api": { roles: ["writer"] } },
            },
          },
        },
        ErrorBody: {
          type: "object",
          required: ["message"],
          properties: {
            error: { type: "string", enum: ["invalid_token", "insufficient_scope"], description: "RFC 6750 error code." },
            message: { type: "string", description: "What is missing, never what the token holds." },
          },
        },
      },
      responses: {
        Claims: {
          description: "The caller's verified claims.",
          content: { "application/json": { schema: { $ref: "#/components/schemas/Claims" } } },
        },
        Unauthorized: {
          description:
            'No token, or a bad one. REST API: API Gateway\'s gateway response, with the challenge. HTTP API: API Gateway\'s own `{"message":"Unauthorized"}`, without a challenge.',
          headers: { "WWW-Authenticate": WWW_AUTHENTICATE },
          content: { "application/json": { schema: ERROR_BODY, example: missing.body } },
        },
      },
    },
  };
}
