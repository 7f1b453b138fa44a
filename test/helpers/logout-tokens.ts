/** Logout tokens as Keycloak 26.4 writes them (header `typ: logout+jwt`, payload `typ: Logout`), and the requests that carry them. */
import { randomUUID } from "node:crypto";
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from "aws-lambda";
import { signJwt, type TestKey } from "./tokens.js";

export const LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout";

export function logoutClaims(issuer: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    exp: now + 120,
    iat: now,
    jti: randomUUID(),
    iss: issuer,
    aud: "api-client",
    sub: "5c0f8e0e-1d1a-4e4b-9b0a-6d2b3f1e9a01",
    typ: "Logout",
    sid: randomUUID(),
    events: { [LOGOUT_EVENT]: {} },
    ...overrides,
  };
}

export function logoutToken(key: TestKey, issuer: string, options: { header?: Record<string, unknown>; claims?: Record<string, unknown> } = {}): string {
  return signJwt({ alg: "RS256", typ: "logout+jwt", kid: key.kid, ...options.header }, logoutClaims(issuer, options.claims), key.privateKey);
}

export type ApiKind = "rest" | "http";

/** POST /backchannel-logout as API Gateway hands it to the function. */
export function logoutRequest(
  kind: ApiKind,
  body: string,
  options: { contentType?: string | undefined; base64?: boolean } = {},
): APIGatewayProxyEvent | APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  const contentType = "contentType" in options ? options.contentType : "application/x-www-form-urlencoded";
  if (contentType !== undefined) headers["content-type"] = contentType;
  const encoded = options.base64 === true ? Buffer.from(body).toString("base64") : body;
  if (kind === "http") {
    return {
      version: "2.0",
      routeKey: "POST /backchannel-logout",
      rawPath: "/backchannel-logout",
      rawQueryString: "",
      headers,
      body: encoded,
      isBase64Encoded: options.base64 === true,
      requestContext: {} as APIGatewayProxyEventV2["requestContext"],
    } as APIGatewayProxyEventV2;
  }
  return {
    resource: "/backchannel-logout",
    path: "/backchannel-logout",
    httpMethod: "POST",
    headers,
    multiValueHeaders: {},
    body: encoded,
    isBase64Encoded: options.base64 === true,
    pathParameters: null,
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    requestContext: {} as APIGatewayProxyEvent["requestContext"],
  } as APIGatewayProxyEvent;
}

export const form = (token: string): string => new URLSearchParams({ logout_token: token }).toString();
