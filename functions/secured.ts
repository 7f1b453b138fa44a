import middy from "@middy/core";
import httpCors from "@middy/http-cors";
import httpErrorHandler from "@middy/http-error-handler";
import type { APIGatewayProxyResult, Context } from "aws-lambda";
import { loadApiConfig } from "../lib/api-config.js";
import { routeAccess, type ProxyEvent, type RouteAccessContext } from "../lib/route-access.js";

const config = loadApiConfig(process.env);

async function securedHandler(_event: ProxyEvent, context: RouteAccessContext & Context): Promise<APIGatewayProxyResult> {
  return {
    statusCode: 200,
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ claims: context.claims }),
  };
}

/**
 * The protected routes of lib/routes.ts (`GET /secured`, `/admin`, `/reports`, `POST /reports`):
 * the caller's verified claims, exactly as the token carried them, once the route's requirement is
 * met. Behind either authorizer kind; errors leave as JSON (401/403 with `WWW-Authenticate`).
 */
export const handler = middy<ProxyEvent, APIGatewayProxyResult, Error, RouteAccessContext & Context>()
  .use(httpCors({ origins: [...config.corsOrigins], headers: "Authorization,Content-Type", exposeHeaders: "WWW-Authenticate" }))
  .use(httpErrorHandler({ logger: false, fallbackMessage: JSON.stringify({ error: "internal_error" }) }))
  .use(routeAccess({ realm: config.realm, clockSkewSeconds: config.clockSkewSeconds }))
  .handler(securedHandler);
