/**
 * This API's routes: the one list. serverless.yml builds its REST and HTTP API events from it
 * (through infra/route-events.cjs), the authorizer builds REST policies from it, the handler
 * enforces it and the docs describe it. To protect a new route, add it here; that is all.
 */
import { anyOf, clientRole, realmRole } from "../lib/routes/requirements.js";
import { routeTable, type Route } from "../lib/routes/route.js";

const readsReports = anyOf(clientRole("secured-api", "reader"), clientRole("secured-api", "writer"));

export const ROUTES: readonly Route[] = [
  { method: "GET", path: "/secured", summary: "The caller's verified claims" },
  {
    method: "GET",
    path: "/secured/strict",
    summary: "The caller's claims as Keycloak's token introspection gives them now: refused at once after a logout (a strict route)",
    introspect: true,
  },
  { method: "GET", path: "/admin", summary: "Administration (realm role admin)", requires: realmRole("admin") },
  { method: "GET", path: "/reports", summary: "Read reports (secured-api reader or writer)", requires: readsReports },
  { method: "POST", path: "/reports", summary: "Write a report (secured-api writer)", requires: clientRole("secured-api", "writer") },
  { method: "GET", path: "/reports/{id}", summary: "Read one report (secured-api reader or writer)", requires: readsReports },
  { method: "GET", path: "/reports/{id}/audit", summary: "A report's audit trail (realm role admin)", requires: realmRole("admin") },
];

export const API_ROUTES = routeTable(ROUTES);
