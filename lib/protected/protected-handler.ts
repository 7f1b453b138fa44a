/**
 * A protected API handler as middy builds it: CORS, errors as HTTP answers (401/403 with
 * `WWW-Authenticate`, every 5xx logged with its cause), and the route's access check, around the
 * user's own handler, which receives the verified claims in `context.claims`.
 */
import middy from "@middy/core";
import httpCors from "@middy/http-cors";
import httpErrorHandler from "@middy/http-error-handler";
import type { APIGatewayProxyResult, Context } from "aws-lambda";
import type { ProxyEvent } from "../apigateway/events.js";
import { HttpError } from "../apigateway/http-errors.js";
import type { StrictRouteCheck } from "../introspection/strict-route-check.js";
import type { Logger } from "../operations/logger.js";
import type { RouteTable } from "../routes/route.js";
import { routeAccess, type RouteAccessContext } from "./route-access.js";

export type ProtectedContext = RouteAccessContext & Context;
export type ProtectedHandler = (event: ProxyEvent, context: ProtectedContext) => Promise<APIGatewayProxyResult>;

export interface ProtectOptions {
  readonly routes: RouteTable;
  readonly realm: string;
  /** With DPoP on: the proof algorithms named in the challenges to DPoP requests. Without, every challenge is Bearer. */
  readonly dpopAlgorithms?: readonly string[];
  readonly clockSkewSeconds: number;
  /** Origins allowed to call from a browser; none by default. */
  readonly corsOrigins?: readonly string[];
  readonly logger: Logger;
  /** How strict routes (`introspect: true`) ask Keycloak; required when the table has one. */
  readonly strict?: StrictRouteCheck;
}

/**
 * @example
 * export const handler = protect(async (_event, context) => ({ statusCode: 200, body: JSON.stringify(context.claims) }), options);
 */
export function protect(handler: ProtectedHandler, options: ProtectOptions) {
  const { logger } = options;
  return middy<ProxyEvent, APIGatewayProxyResult, Error, ProtectedContext>()
    .use({
      before: (request) => {
        logger.addContext(request.context);
      },
    })
    .use(httpCors({ origins: [...(options.corsOrigins ?? [])], headers: "Authorization,Content-Type", exposeHeaders: "WWW-Authenticate" }))
    .use(
      httpErrorHandler({
        // 4xx answers are logged where they are decided, with their reason code; what reaches
        // here unexposed is a 500, and its cause must not be lost.
        logger: (error: unknown) => {
          const status = (error as { statusCode?: unknown }).statusCode;
          const exposed = (error as { expose?: unknown }).expose === true;
          if (typeof status === "number" && status < 500 && exposed) return;
          // A 5xx we answer on purpose (503: introspection unavailable) names its reason and cause.
          if (error instanceof HttpError && error.reason !== undefined) {
            logger.error("request failed", { reason: error.reason, error: (error.cause ?? error) as Error });
            return;
          }
          logger.error("request failed", { reason: "internal_error", error: error as Error });
        },
        fallbackMessage: JSON.stringify({ error: "internal_error" }),
      }),
    )
    .use(routeAccess(options))
    .handler(handler);
}
