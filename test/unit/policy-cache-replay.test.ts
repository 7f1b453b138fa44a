import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import type { APIGatewayAuthorizerResult, Statement } from "aws-lambda";
import { createAuthorizerHandler } from "../../lib/authorizer/authorizer-handler.js";
import { isSatisfied } from "../../lib/routes/requirements.js";
import { API_ROUTES, ROUTES } from "../../functions/routes.js";
import type { Route } from "../../lib/routes/route.js";
import { parseMethodArn, routeArn } from "../../lib/apigateway/method-arn.js";
import { createAccessTokenVerifier } from "../../lib/token/access-token-verifier.js";
import { startIdpStub, type IdpStub } from "../helpers/idp-stub.js";
import { testConfig } from "../helpers/config.js";
import { accessClaims, accessToken, generateRsaKey, type TestKey } from "../helpers/tokens.js";
import { gatewayChecked } from "../helpers/gateway.js";

// API Gateway caches a REST authorizer's policy per token (resultTtlInSeconds) and evaluates the
// cached policy for the token's later requests on any route. Replay that: get the policy for a
// token's first route, then evaluate it against every route, and compare with what the route
// requires of that token.

const STAGE = { api: "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234", stage: "dev" };

/** API Gateway's policy evaluation for execute-api: explicit Deny wins, then any Allow, else deny. */
function policyAllows(policy: APIGatewayAuthorizerResult, arn: string): boolean {
  const matches = (statement: Statement): boolean => {
    const resources = "Resource" in statement ? [statement.Resource].flat() : [];
    return resources.some((pattern) => new RegExp(`^${String(pattern).split("*").map(escapeRegExp).join(".*")}$`).test(arn));
  };
  const statements = policy.policyDocument.Statement;
  if (statements.some((statement) => statement.Effect === "Deny" && matches(statement))) return false;
  return statements.some((statement) => statement.Effect === "Allow" && matches(statement));
}
const escapeRegExp = (text: string): string => text.replace(/[.+?^${}()|[\]\\]/g, "\\$&");

let idp: IdpStub;
let key: TestKey;
let handler: ReturnType<typeof createAuthorizerHandler>;
beforeAll(async () => {
  key = generateRsaKey();
  idp = await startIdpStub([key.jwk]);
  handler = gatewayChecked(createAuthorizerHandler({ verifier: createAccessTokenVerifier(testConfig(idp.issuer)), routes: API_ROUTES }));
});
afterAll(() => idp.close());

const callers: Record<string, Record<string, unknown>> = {
  alice: { realm_access: { roles: ["user", "admin"] }, resource_access: { "secured-api": { roles: ["writer"] } } },
  bob: { realm_access: { roles: ["user"] }, resource_access: { "secured-api": { roles: ["reader"] } } },
  "service account": {
    realm_access: { roles: [] },
    resource_access: { "secured-api": { roles: ["reader"] } },
    preferred_username: "service-account-api-client",
  },
  "no roles": { realm_access: { roles: [] }, resource_access: {} },
  "malformed roles": { realm_access: "admin", resource_access: "secured-api" },
};

describe.each(Object.entries(callers))("%s", (_name, claimOverrides) => {
  const claims = (): Record<string, unknown> => accessClaims(idp.issuer, claimOverrides);
  test.each(ROUTES.map((route) => [`${route.method} ${route.path}`, route] as [string, Route]))(
    "the policy cached on %s answers every route as the route requires",
    async (_first, first) => {
      const token = accessToken(key, idp.issuer, { claims: claimOverrides });
      const policy = (await handler({ type: "TOKEN", methodArn: routeArn(STAGE, first), authorizationToken: `Bearer ${token}` })) as APIGatewayAuthorizerResult;
      for (const route of ROUTES) {
        const expected = route.requires === undefined || isSatisfied(route.requires, claims());
        expect([`${route.method} ${route.path}`, policyAllows(policy, routeArn(STAGE, route))]).toEqual([`${route.method} ${route.path}`, expected]);
      }
      // Nothing outside the declared routes, and nothing in another stage.
      expect(policyAllows(policy, `${STAGE.api}/dev/DELETE/reports`)).toBe(false);
      expect(policyAllows(policy, `${STAGE.api}/prod/GET/secured`)).toBe(false);
    },
  );
});

test("expected decisions: alice everything, bob reads but not writes nor admin", () => {
  const decide = (who: string, method: string, path: string): boolean => {
    const route = ROUTES.find((candidate) => candidate.method === method && candidate.path === path) as Route;
    return route.requires === undefined || isSatisfied(route.requires, { ...(callers[who] as object) });
  };
  expect([decide("alice", "GET", "/admin"), decide("alice", "POST", "/reports")]).toEqual([true, true]);
  expect([decide("bob", "GET", "/admin"), decide("bob", "GET", "/reports"), decide("bob", "POST", "/reports"), decide("bob", "GET", "/secured")]).toEqual([
    false,
    true,
    false,
    true,
  ]);
});

test("parseMethodArn reads the API and stage, and refuses other ARNs", () => {
  expect(parseMethodArn(`${STAGE.api}/dev/GET/secured`)).toEqual({ ...STAGE, method: "GET", path: "secured" });
  expect(parseMethodArn("arn:aws:lambda:eu-west-1:123:function:x")).toBeUndefined();
  expect(routeArn(STAGE, { method: "GET", path: "/reports/{id}" })).toBe(`${STAGE.api}/dev/GET/reports/*`);
});
