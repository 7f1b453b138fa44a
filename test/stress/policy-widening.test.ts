/**
 * Issue 14, finding 5, exhaustively: a REST policy cached by API Gateway for one route must not
 * allow a request the route table refuses. Every request as deep as the tables go is judged by
 * IAM's rules (test/helpers/api-gateway-model.ts), for many tables and sets of rights: thousands of
 * policy evaluations, so it runs with the stress tests. The other findings are in
 * test/unit/security-findings.test.ts.
 */
import { describe, expect, test } from "@jest/globals";
import type { APIGatewayAuthorizerResult } from "aws-lambda";
import { createAuthorizerHandler } from "../../lib/authorizer/authorizer-handler.js";
import { routeArn } from "../../lib/apigateway/method-arn.js";
import { anyOf, clientRole, isSatisfied, realmRole } from "../../lib/routes/requirements.js";
import { API_ROUTES, ROUTES } from "../../functions/routes.js";
import { routeTable, type Route } from "../../lib/routes/route.js";
import { createAccessTokenVerifier } from "../../lib/token/access-token-verifier.js";
import { testConfig } from "../helpers/config.js";
import { everyRequest, iamAllows } from "../helpers/api-gateway-model.js";
import { accessClaims, accessToken, signJwt } from "../helpers/tokens.js";
import { gatewayChecked } from "../helpers/gateway.js";
import { stubRealm } from "../helpers/stub-realm.js";

describe("finding 5: parametrised routes must not widen cached REST policies", () => {
  const STAGE = { api: "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234", stage: "dev" };
  const realm = stubRealm();

  const allows = iamAllows;

  /**
   * The policy a token gets, which must not depend on the route it was made for; then every
   * request as deep as the table's routes go, judged by IAM's rules.
   */
  const replay = async (
    routes: readonly Route[],
    claims: Record<string, unknown>,
    check: (request: string, allowed: boolean, expected: boolean) => void,
  ): Promise<number> => {
    const table = routeTable(routes);
    const handler = gatewayChecked(createAuthorizerHandler({ verifier: createAccessTokenVerifier(testConfig(realm.idp.issuer)), routes: table }));
    const token = signJwt({ alg: "RS256", typ: "JWT", kid: realm.key.kid }, claims, realm.key.privateKey);
    const policies = await Promise.all(
      routes.map(
        async (first) =>
          (await handler({ type: "TOKEN", methodArn: routeArn(STAGE, first), authorizationToken: `Bearer ${token}` })) as APIGatewayAuthorizerResult,
      ),
    );
    for (const policy of policies) expect(policy.policyDocument).toEqual(policies[0]?.policyDocument);
    const policy = policies[0] as APIGatewayAuthorizerResult;
    // Deep enough for every route; one segment deeper where a greedy parameter takes any number.
    const segmentCount = (route: Route): number => route.path.split("/").filter(Boolean).length;
    const depth = Math.max(...routes.map(segmentCount)) + (routes.some((route) => route.path.includes("+}")) ? 1 : 0);
    let checked = 0;
    for (const { request, route } of everyRequest(routes, depth)) {
      if (route === undefined) continue; // no such resource: API Gateway answers 404/403 itself
      const declared = route as Route;
      checked += 1;
      check(request, allows(policy, `${STAGE.api}/${STAGE.stage}/${request}`), declared.requires === undefined || isSatisfied(declared.requires, claims));
    }
    return checked;
  };
  const claimsWith = (roles: readonly string[]): Record<string, unknown> =>
    accessClaims(realm.idp.issuer, {
      realm_access: { roles: roles.filter((role) => role === "admin" || role === "auditor") },
      resource_access: { "secured-api": { roles: roles.filter((role) => role !== "admin" && role !== "auditor") } },
    });
  const rights = [["admin", "auditor"], ["reader"], ["writer"], ["owner"], ["admin"], ["admin", "reader"], []];
  const neverWider =
    (overDenied: Set<string>) =>
    (request: string, allowed: boolean, expected: boolean): void => {
      if (!expected) expect([request, allowed]).toEqual([request, false]);
      else if (!allowed) overDenied.add(request);
    };

  // Every combination of rights; every request API Gateway would route to a declared route (each
  // path segment any literal of the table or something else): exactly as its route requires.
  test.each(rights.map((roles) => [roles.join("+") || "no rights", roles] as const))(
    "the route table, %s: every request answered exactly as its route requires",
    async (_label, roles) => {
      const checked = await replay(ROUTES, claimsWith(roles), (request, allowed, expected) => expect([request, allowed]).toEqual([request, expected]));
      expect(checked).toBeGreaterThan(10);
    },
  );

  // A table where IAM patterns cannot say everything (a file named "audit" under
  // /reports/{id}/files/{file} matches the Deny that guards /reports/{id}/audit): such a request may
  // be refused though allowed (fail closed), but no refused request is ever allowed.
  const extra: Route[] = [
    { method: "GET", path: "/reports/{id}", summary: "", requires: anyOf(clientRole("secured-api", "reader"), clientRole("secured-api", "writer")) },
    { method: "GET", path: "/reports/{id}/audit", summary: "", requires: realmRole("admin") },
    { method: "GET", path: "/reports/latest", summary: "", requires: realmRole("auditor") },
    { method: "GET", path: "/reports/{id}/files/{file}", summary: "", requires: clientRole("secured-api", "writer") },
    { method: "DELETE", path: "/reports/{id}", summary: "", requires: anyOf(realmRole("admin"), clientRole("secured-api", "owner")) },
  ];
  const nested = [...ROUTES.filter((route) => !extra.some((other) => other.method === route.method && other.path === route.path)), ...extra];
  test.each(rights.map((roles) => [roles.join("+") || "no rights", roles] as const))(
    "a nested table, %s: a replayed policy never allows a refused request",
    async (_label, roles) => {
      const overDenied = new Set<string>();
      expect(await replay(nested, claimsWith(roles), neverWider(overDenied))).toBeGreaterThan(50);
      // The only fail-closed corner: a file literally named "audit", caught by the Deny on
      // GET/reports/*/audit that keeps non-admins out of the audit trail.
      expect([...overDenied].filter((request) => !/^GET\/reports\/[^/]+\/files\/audit$/.test(request))).toEqual([]);
    },
  );

  // Greedy parameters and many literal routes (an adversarial review found both widening an
  // earlier, sampling-based version of the Deny computation).
  const admin = realmRole("admin");
  const greedyTables: Array<[string, Route[]]> = [
    [
      "GET /a/{b} for all, GET /{proxy+} for admins",
      [
        { method: "GET", path: "/a/{b}", summary: "" },
        { method: "GET", path: "/{proxy+}", summary: "", requires: admin },
      ],
    ],
    [
      "GET /files/{id}/meta/{field} for all, GET /files/{path+} for admins",
      [
        { method: "GET", path: "/files/{id}/meta/{field}", summary: "" },
        { method: "GET", path: "/files/{path+}", summary: "", requires: admin },
      ],
    ],
    [
      "nine literal routes, /{p1}/{p2}/{p3}/{p4} for admins, /zz/k/{x} for all",
      [
        ...["l1", "l2", "l3", "l4", "l5", "l6", "l7", "l8", "l9"].map((name): Route => ({ method: "GET", path: `/${name}`, summary: "" })),
        { method: "GET", path: "/{p1}/{p2}/{p3}/{p4}", summary: "", requires: admin },
        { method: "GET", path: "/zz/k/{x}", summary: "" },
      ],
    ],
    [
      "GET /{id} for all, GET / for admins",
      [
        { method: "GET", path: "/{id}", summary: "" },
        { method: "GET", path: "/", summary: "", requires: admin },
      ],
    ],
  ];
  test.each(greedyTables)("%s: no refused request is ever allowed", async (_label, table) => {
    const overDenied = new Set<string>();
    await replay(table, claimsWith([]), neverWider(overDenied));
  });

  test("bob (reader) may read /reports/1 but not /reports/1/audit, though IAM's * matches /", async () => {
    const handler = gatewayChecked(createAuthorizerHandler({ verifier: createAccessTokenVerifier(testConfig(realm.idp.issuer)), routes: API_ROUTES }));
    const bob = accessToken(realm.key, realm.idp.issuer, {
      claims: { realm_access: { roles: ["user"] }, resource_access: { "secured-api": { roles: ["reader"] } } },
    });
    const policy = (await handler({
      type: "TOKEN",
      methodArn: `${STAGE.api}/dev/GET/reports/1`,
      authorizationToken: `Bearer ${bob}`,
    })) as APIGatewayAuthorizerResult;
    expect(allows(policy, `${STAGE.api}/dev/GET/reports/1`)).toBe(true);
    expect(allows(policy, `${STAGE.api}/dev/GET/reports/1/audit`)).toBe(false);
    expect(allows(policy, `${STAGE.api}/dev/GET/admin`)).toBe(false);
  });
});
