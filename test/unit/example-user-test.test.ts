// An example of a service's own tests, as docs/troubleshooting.md shows it: copy it into your
// service and replace the routes and the handler with yours. (This copy runs in our suite, so it
// is known to pass.)
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { authorizerHandler, protectedHandler, realmRole, routeTable } from "keycloak-lambda-authorizer";
import {
  authorizerEvent,
  gatewayViolations,
  generateRsaKey,
  keycloakAccessClaims,
  lambdaContext,
  mintAccessToken,
  protectedEvent,
  startJwksServer,
  type JwksServer,
} from "keycloak-lambda-authorizer/testing";

const ISSUER = "https://keycloak.example.com/realms/demo";
const routes = routeTable([
  { method: "GET", path: "/orders", summary: "List orders" },
  { method: "DELETE", path: "/orders/{id}", summary: "Delete an order", requires: realmRole("admin") },
]);

describe("my protected handler", () => {
  const handler = protectedHandler(
    routes,
    async (event, { claims }) => ({ statusCode: 200, body: JSON.stringify({ by: claims.preferred_username, deleted: event.pathParameters?.id }) }),
    { KEYCLOAK_ISSUER: ISSUER },
  );

  test.each(["rest", "http"] as const)("an admin deletes an order (%s API)", async (api) => {
    const claims = keycloakAccessClaims(ISSUER); // alice: realm roles user and admin
    const event = protectedEvent(api, { method: "DELETE", route: "/orders/{id}", pathParameters: { id: "42" }, claims });
    const response = await handler(event, lambdaContext());
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ by: "alice", deleted: "42" });
  });

  test("a user without the admin role gets 403", async () => {
    const claims = keycloakAccessClaims(ISSUER, { realm_access: { roles: ["user"] } });
    const response = await handler(protectedEvent("http", { method: "DELETE", route: "/orders/{id}", pathParameters: { id: "42" }, claims }), lambdaContext());
    expect(response.statusCode).toBe(403);
  });

  test("a request that did not pass the authorizer gets 401", async () => {
    const response = await handler(protectedEvent("http", { route: "/orders", claims: undefined }), lambdaContext());
    expect(response.statusCode).toBe(401);
  });
});

describe("my authorizer, against a local JWKS", () => {
  const key = generateRsaKey();
  let realm: JwksServer;
  beforeAll(async () => {
    realm = await startJwksServer([key.jwk], "/realms/demo");
  });
  afterAll(() => realm.close());

  test("allows the realm's access token, in an answer API Gateway accepts", async () => {
    const authorizer = authorizerHandler(routes, { KEYCLOAK_ISSUER: realm.issuer, KEYCLOAK_AUDIENCE: "secured-api" });
    const result = await authorizer(authorizerEvent("rest-token", `Bearer ${mintAccessToken(key, realm.issuer)}`), lambdaContext());
    expect(gatewayViolations("rest-token", { result })).toEqual([]);
    expect(JSON.stringify(result)).toContain('"Effect":"Allow"');
  });

  test("refuses a token signed by another key with exactly Unauthorized (a 401)", async () => {
    const authorizer = authorizerHandler(routes, { KEYCLOAK_ISSUER: realm.issuer, KEYCLOAK_AUDIENCE: "secured-api" });
    const forged = mintAccessToken(generateRsaKey({ kid: key.kid }), realm.issuer);
    await expect(authorizer(authorizerEvent("http-v2", `Bearer ${forged}`), lambdaContext())).rejects.toThrow(/^Unauthorized$/);
  });
});
