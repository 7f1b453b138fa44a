import type middy from "@middy/core";
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, Context } from "aws-lambda";
import { claimsFromEvent, type EventWithAuthorizer } from "./context.js";
import { MissingAuthorizerContextError } from "./errors.js";
import { forbidden, unauthorized } from "./http-error.js";
import { jsonLogger } from "./log.js";
import { describeRequirement, isSatisfied } from "./requirements.js";
import { findRoute, type Route } from "./routes.js";
import type { KeycloakClaims } from "./verifier.js";

export type ProxyEvent = APIGatewayProxyEvent | APIGatewayProxyEventV2;

/** What the handler gets once access is checked. */
export interface RouteAccessContext {
  claims: KeycloakClaims;
  route: Route;
}

/** The declared route an API Gateway proxy event is for (REST: method + resource; HTTP API: routeKey). */
export function routeOfEvent(event: ProxyEvent): Route | undefined {
  if ("routeKey" in event && typeof event.routeKey === "string") {
    const [method, path] = event.routeKey.split(" ");
    return method !== undefined && path !== undefined ? findRoute(method, path) : undefined;
  }
  const rest = event as APIGatewayProxyEvent;
  return typeof rest.httpMethod === "string" && typeof rest.resource === "string" ? findRoute(rest.httpMethod, rest.resource) : undefined;
}

/**
 * middy middleware: the claims from the authorizer context, checked against the route's declared
 * requirement. The REST authorizer's policy already lists only the routes a token may call; HTTP
 * API authorizers answer per token, not per route (their result cache is keyed by the token), so
 * this is where HTTP API routes are enforced, and where REST gets a second check.
 * 401 without a usable identity or once the token has expired (a cached Allow can outlive it),
 * 403 when the claims lack the route's rights.
 */
export function routeAccess(options: { realm: string; clockSkewSeconds: number }): middy.MiddlewareObj<ProxyEvent, unknown, Error, RouteAccessContext & Context> {
  const routeAccessBefore: middy.MiddlewareFn<ProxyEvent, unknown, Error, RouteAccessContext & Context> = (request) => {
    let claims: KeycloakClaims;
    try {
      claims = claimsFromEvent(request.event as EventWithAuthorizer);
    } catch (error) {
      if (!(error instanceof MissingAuthorizerContextError)) throw error;
      // Reaching here without claims means the route is not behind the authorizer: answer as an
      // unauthenticated request (never 200 with empty claims) and tell the operator why.
      jsonLogger("ERROR", "no verified identity reached the handler", { reason: error.code });
      throw unauthorized(options.realm, { cause: error });
    }
    // API Gateway replays a cached Allow for the authorizer's result TTL, which may outlast the
    // token: the expiry is checked again here, with the authorizer's own skew.
    if (typeof claims.exp !== "number" || claims.exp + options.clockSkewSeconds < Date.now() / 1000) {
      jsonLogger("WARN", "request refused", { reason: "token_expired", stage: "handler" });
      throw unauthorized(options.realm);
    }
    const route = routeOfEvent(request.event);
    if (route === undefined) {
      // Wired in serverless.yml but not declared in lib/routes.ts: refuse rather than guess.
      jsonLogger("ERROR", "route not declared in lib/routes.ts", { reason: "undeclared_route" });
      throw forbidden(options.realm, "a route declaration");
    }
    if (route.requires !== undefined && !isSatisfied(route.requires, claims)) {
      // No claims in the log line: operators choose those for the authorizer's logs only.
      jsonLogger("WARN", "request forbidden", { reason: "insufficient_rights", route: `${route.method} ${route.path}` });
      throw forbidden(options.realm, describeRequirement(route.requires));
    }
    request.context.claims = claims;
    request.context.route = route;
  };
  return { before: routeAccessBefore };
}
