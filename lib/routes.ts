import { anyOf, clientRole, realmRole, type Requirement } from "./requirements.js";

/** One route of the API. `requires` absent: any valid access token will do. */
export interface Route {
  readonly method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** API Gateway path syntax, without the stage: `/reports`, `/reports/{id}`. */
  readonly path: string;
  readonly summary: string;
  readonly requires?: Requirement;
}

/**
 * The single list of protected routes. `serverless.yml` builds its REST and HTTP API events from
 * it (through infra/route-events.cjs), the authorizer builds REST policies from it, and the
 * handler enforces it: one place, so wiring and decisions cannot drift apart.
 * To protect a new route, add it here; that is all.
 */
export const ROUTES: readonly Route[] = [
  { method: "GET", path: "/secured", summary: "The caller's verified claims" },
  { method: "GET", path: "/admin", summary: "Administration (realm role admin)", requires: realmRole("admin") },
  {
    method: "GET",
    path: "/reports",
    summary: "Read reports (secured-api reader or writer)",
    requires: anyOf(clientRole("secured-api", "reader"), clientRole("secured-api", "writer")),
  },
  { method: "POST", path: "/reports", summary: "Write a report (secured-api writer)", requires: clientRole("secured-api", "writer") },
  {
    method: "GET",
    path: "/reports/{id}",
    summary: "Read one report (secured-api reader or writer)",
    requires: anyOf(clientRole("secured-api", "reader"), clientRole("secured-api", "writer")),
  },
  { method: "GET", path: "/reports/{id}/audit", summary: "A report's audit trail (realm role admin)", requires: realmRole("admin") },
];

/** `GET /reports`, the form HTTP APIs use as `routeKey`. */
export const routeKey = (route: Pick<Route, "method" | "path">): string => `${route.method} ${route.path}`;

const byKey = new Map(ROUTES.map((route) => [routeKey(route), route]));

/** The route for a method and API Gateway resource path, if it is one of ours. */
export function findRoute(method: string, path: string): Route | undefined {
  return byKey.get(`${method.toUpperCase()} ${path}`);
}
