/**
 * A route of a protected API and the table of them. The table is the one declaration everything
 * reads: serverless.yml builds the API Gateway events from it (infra/route-events.cjs), the REST
 * authorizer its policies, the protected handler its checks, and the docs their OpenAPI document.
 */
import type { Requirement } from "./requirements.js";

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** One route of the API. `requires` absent: any valid access token will do. */
export interface Route {
  readonly method: HttpMethod;
  /** API Gateway path syntax, without the stage: `/reports`, `/reports/{id}`. */
  readonly path: string;
  readonly summary: string;
  readonly requires?: Requirement;
  /**
   * A strict route: every request's token is checked with Keycloak's token introspection (RFC
   * 7662), which sees logouts, disabled users and revoked consents at once, and the route's
   * requirement is judged on Keycloak's answer (lib/introspection/strict-route-check.ts).
   */
  readonly introspect?: boolean;
}

/** `GET /reports`: the form HTTP APIs use as `routeKey`. */
export const routeKey = (route: Pick<Route, "method" | "path">): string => `${route.method} ${route.path}`;

export interface RouteTable {
  readonly routes: readonly Route[];
  /** The route for a method and an API Gateway resource path (`/reports/{id}`), if declared. */
  find(method: string, path: string): Route | undefined;
}

const PATH = /^\/(?:[A-Za-z0-9._~-]+|\{[A-Za-z0-9_]+\+?\})?(?:\/(?:[A-Za-z0-9._~-]+|\{[A-Za-z0-9_]+\+?\}))*$/;

/**
 * Check and index a route table once (at cold start). Throws on a path API Gateway would not take
 * or on a route declared twice.
 */
export function routeTable(routes: readonly Route[]): RouteTable {
  const byKey = new Map<string, Route>();
  for (const route of routes) {
    if (!PATH.test(route.path)) throw new TypeError(`route ${routeKey(route)}: not an API Gateway resource path`);
    if (byKey.has(routeKey(route))) throw new TypeError(`route ${routeKey(route)} is declared twice`);
    byKey.set(routeKey(route), route);
  }
  return Object.freeze({ routes: Object.freeze([...routes]), find: (method: string, path: string) => byKey.get(`${method.toUpperCase()} ${path}`) });
}
