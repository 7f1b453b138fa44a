/**
 * middy middleware for protected handlers: the claims from the authorizer context, checked again
 * against the token's expiry and the route's declared requirement. The REST authorizer's policy
 * already lists only the routes a token may call; HTTP API authorizers answer per token, not per
 * route (their result cache is keyed by the token), so this is where HTTP API routes are enforced,
 * and where REST gets a second check.
 * 401 without a usable identity or once the token has expired (a cached Allow can outlive it),
 * 403 when the claims lack the route's rights.
 */
import type middy from "@middy/core";
import type { Context } from "aws-lambda";
import { claimsFromEvent } from "../apigateway/context.js";
import { headerOf, routeOf, type ProxyEvent } from "../apigateway/events.js";
import { forbidden, unauthorized, unavailable, type Challenge } from "../apigateway/http-errors.js";
import { dpopThumbprint, isLightweightToken, type KeycloakClaims } from "../claims.js";
import { realmNameOf } from "../config/trusted-issuers.js";
import { IntrospectionUnavailableError, LightweightTokenNotAllowedError, MissingAuthorizerContextError, TokenRejectedError } from "../errors.js";
import type { StrictRouteCheck } from "../introspection/strict-route-check.js";
import { HintLimiter, rolesHint } from "../operations/hints.js";
import type { Logger } from "../operations/logger.js";
import { describeRequirement, isSatisfied } from "../routes/requirements.js";
import type { Route, RouteTable } from "../routes/route.js";

/** What the handler gets once access is checked. */
export interface RouteAccessContext {
  claims: KeycloakClaims;
  route: Route;
  /** The issuing realm's name (`demo`) and its issuer (the verified `iss`). */
  realm: string;
  issuer: string;
}

export interface RouteAccessOptions {
  readonly routes: RouteTable;
  /** The realm of `WWW-Authenticate` challenges. */
  readonly realm: string;
  /** With DPoP on: the proof algorithms, for the challenge to a request made with the DPoP scheme (KEYCLOAK_DPOP_ALGORITHMS). Without, every challenge is Bearer. */
  readonly dpopAlgorithms?: readonly string[];
  /** The authorizer's clock skew, for the expiry check. */
  readonly clockSkewSeconds: number;
  readonly logger: Logger;
  /** How strict routes (`introspect: true`) ask Keycloak; required when the table has one. */
  readonly strict?: StrictRouteCheck;
}

export function routeAccess(options: RouteAccessOptions): middy.MiddlewareObj<ProxyEvent, unknown, Error, RouteAccessContext & Context> {
  const { routes, realm, clockSkewSeconds, logger } = options;
  const dpopChallenge: Challenge = options.dpopAlgorithms === undefined ? realm : { realm, dpopAlgorithms: options.dpopAlgorithms };
  /**
   * RFC 9449 section 7.1: a request made with the DPoP scheme is answered with a DPoP challenge.
   * A token bound to a key (`cnf.jkt`) got here only as `DPoP <token>`, whatever the header says now.
   */
  const challengeOf = (event: ProxyEvent, claims?: KeycloakClaims): Challenge => {
    const bound = claims !== undefined && dpopThumbprint(claims.cnf) !== undefined;
    return bound || /^dpop /i.test(headerOf(event, "authorization") ?? "") ? dpopChallenge : realm;
  };
  const strictRoutes = routes.routes.filter((route) => route.introspect === true);
  let strict = options.strict;
  if (strictRoutes.length > 0 && strict === undefined) {
    // Not a failed cold start: the other routes still work. Strict routes are refused (503), never
    // served unchecked, and the operator is told once why.
    logger.error("strict routes refused: token introspection is not configured", {
      reason: "introspection_unavailable",
      routes: strictRoutes.map((route) => `${route.method} ${route.path}`).join(", "),
      hint: "set KEYCLOAK_INTROSPECTION_CLIENT_ID and KEYCLOAK_INTROSPECTION_CLIENT_SECRET to the API's confidential client (docs/revocation.md)",
    });
    strict = () => Promise.reject(new IntrospectionUnavailableError("token introspection is not configured"));
  }
  // A token without any role claim is a realm setting to change (lib/operations/hints.ts): said at most once a minute.
  const hinted = new HintLimiter();
  /** Keycloak's answer for a strict route: 401 when it says inactive, 503 when it cannot be asked. */
  const introspected = async (check: StrictRouteCheck, event: ProxyEvent, verified: KeycloakClaims): Promise<KeycloakClaims> => {
    try {
      return await check(event, verified);
    } catch (error) {
      if (error instanceof TokenRejectedError) {
        logger.warn("request refused", { reason: error.code, stage: "introspection" });
        throw unauthorized(challengeOf(event, verified), { cause: error });
      }
      if (error instanceof IntrospectionUnavailableError) {
        throw unavailable(error.code, { cause: error });
      }
      throw error;
    }
  };
  const routeAccessBefore: middy.MiddlewareFn<ProxyEvent, unknown, Error, RouteAccessContext & Context> = async (request) => {
    let claims: KeycloakClaims;
    try {
      claims = claimsFromEvent(request.event);
    } catch (error) {
      if (!(error instanceof MissingAuthorizerContextError)) throw error;
      // Reaching here without claims means the route is not behind the authorizer: answer as an
      // unauthenticated request (never 200 with empty claims) and tell the operator why.
      logger.error("no verified identity reached the handler", { reason: error.code });
      throw unauthorized(challengeOf(request.event), { cause: error });
    }
    // API Gateway replays a cached Allow for the authorizer's result TTL, which may outlast the
    // token: the expiry is checked again here, with the authorizer's own skew.
    if (typeof claims.exp !== "number" || claims.exp + clockSkewSeconds < Date.now() / 1000) {
      logger.warn("request refused", { reason: typeof claims.exp === "number" ? "token_expired" : "missing_exp", stage: "handler" });
      throw unauthorized(challengeOf(request.event, claims));
    }
    const wanted = routeOf(request.event);
    const route = wanted === undefined ? undefined : routes.find(wanted.method, wanted.path);
    if (route === undefined) {
      // Wired in serverless.yml but not declared in the route table: refuse rather than guess.
      logger.error("route not declared in the route table", {
        reason: "undeclared_route",
        route: wanted === undefined ? undefined : `${wanted.method} ${wanted.path}`,
      });
      throw forbidden(challengeOf(request.event, claims), "a route declaration");
    }
    if (route.introspect !== true && isLightweightToken(claims)) {
      // Let through by the authorizer for strict routes only (KEYCLOAK_LIGHTWEIGHT_TOKENS): it
      // carries no audience or roles for this route to judge.
      logger.warn("request refused", { reason: "lightweight_token_not_allowed", stage: "handler", route: `${route.method} ${route.path}` });
      throw unauthorized(challengeOf(request.event, claims), {
        cause: new LightweightTokenNotAllowedError("a lightweight access token on a route that does not introspect"),
      });
    }
    if (route.introspect === true && strict !== undefined) claims = await introspected(strict, request.event, claims);
    if (route.requires !== undefined && !isSatisfied(route.requires, claims)) {
      // No claims in the log line: operators choose those for the authorizer's logs only.
      const hint = hinted.due("insufficient_rights") ? rolesHint(route.requires, claims) : undefined;
      if (hint !== undefined) hinted.spent("insufficient_rights");
      logger.warn("request forbidden", { reason: "insufficient_rights", route: `${route.method} ${route.path}`, ...(hint === undefined ? {} : { hint }) });
      throw forbidden(challengeOf(request.event, claims), describeRequirement(route.requires));
    }
    request.context.claims = claims;
    request.context.route = route;
    // The authorizer verified iss against its trusted issuers: the realm is its last segment.
    request.context.issuer = String(claims.iss);
    request.context.realm = realmNameOf(String(claims.iss));
  };
  return { before: routeAccessBefore };
}
