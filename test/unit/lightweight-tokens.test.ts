/**
 * Issue 21, point 5: Keycloak's lightweight access tokens (no `aud`, no `sub`, no roles) with
 * KEYCLOAK_LIGHTWEIGHT_TOKENS: the authorizer verifies everything else and lets them reach strict
 * routes only (REST: a policy of the strict routes alone; HTTP API: the handler refuses the rest);
 * a strict route takes their audience and rights from Keycloak's introspection answer.
 */
import { afterAll, afterEach, beforeAll, describe, expect, jest, test } from "@jest/globals";
import type { APIGatewayAuthorizerResult, APIGatewayProxyResult } from "aws-lambda";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createAuthorizerHandler } from "../../lib/authorizer/authorizer-handler.js";
import { authorizerHandler, protectedHandler } from "../../lib/lambda-handlers.js";
import { clientRole } from "../../lib/routes/requirements.js";
import { routeTable } from "../../lib/routes/route.js";
import { lambdaContext, protectedEvent } from "../../lib/testing/events.js";
import { createAccessTokenVerifier } from "../../lib/token/access-token-verifier.js";
import { captureOutput } from "../helpers/captured-output.js";
import { testConfig } from "../helpers/config.js";
import { authorizerEvent } from "../helpers/events.js";
import { accessClaims, generateRsaKey, signJwt } from "../helpers/tokens.js";
import { rejectionCode } from "../helpers/verification.js";
import { stubRealm } from "../helpers/stub-realm.js";

const ROUTES = routeTable([
  { method: "GET", path: "/secured", summary: "claims" },
  { method: "GET", path: "/secured/strict", summary: "strict", introspect: true },
  { method: "GET", path: "/admin", summary: "admin", introspect: true, requires: clientRole("secured-api", "admin") },
  { method: "GET", path: "/reports/{id}", summary: "a report", requires: clientRole("secured-api", "reader") },
]);

const realm = stubRealm();
afterEach(() => {
  jest.restoreAllMocks();
});

/** Keycloak 26.4's lightweight access token of a user login: exp, iat, jti, iss, typ, azp, sid, scope. */
const lightweightClaims = (overrides: Record<string, unknown> = {}): Record<string, unknown> => {
  const {
    aud: _aud,
    sub: _sub,
    realm_access: _realm,
    resource_access: _resource,
    ...rest
  } = accessClaims(realm.idp.issuer, { sid: "session-1", jti: "token-1", ...overrides });
  return { ...rest, ...overrides };
};
const lightweightToken = (overrides: Record<string, unknown> = {}): string =>
  signJwt({ alg: "RS256", typ: "JWT", kid: realm.key.kid }, lightweightClaims(overrides), realm.key.privateKey);

describe("the verifier", () => {
  test("off (the default): a token without aud is refused as invalid_audience", async () => {
    expect(await rejectionCode(createAccessTokenVerifier(testConfig(realm.idp.issuer)), lightweightToken())).toBe("invalid_audience");
  });

  test("on: verified and marked lightweight, named by its session; a wrong aud, a bad signature or no azp is still refused", async () => {
    const verifier = createAccessTokenVerifier(testConfig(realm.idp.issuer, { KEYCLOAK_LIGHTWEIGHT_TOKENS: "true" }));
    const verified = await verifier.verify(lightweightToken());
    expect(verified).toMatchObject({ lightweight: true, principal: "session-1" });
    expect(await rejectionCode(verifier, lightweightToken({ aud: "someone-else" }))).toBe("invalid_audience");
    expect(await rejectionCode(verifier, lightweightToken({ azp: undefined }))).toBe("missing_subject");
    expect(await rejectionCode(verifier, signJwt({ alg: "RS256", typ: "JWT", kid: realm.key.kid }, lightweightClaims(), generateRsaKey().privateKey))).toBe(
      "invalid_signature",
    );
    expect(await rejectionCode(verifier, lightweightToken({ exp: Math.floor(Date.now() / 1000) - 3600 }))).toBe("token_expired");
    // A full token is no lightweight one.
    const full = await verifier.verify(signJwt({ alg: "RS256", typ: "JWT", kid: realm.key.kid }, accessClaims(realm.idp.issuer), realm.key.privateKey));
    expect(full.lightweight).toBeUndefined();
  });
});

describe("the authorizer", () => {
  const handler = () =>
    createAuthorizerHandler({ verifier: createAccessTokenVerifier(testConfig(realm.idp.issuer, { KEYCLOAK_LIGHTWEIGHT_TOKENS: "true" })), routes: ROUTES });

  test("REST: the policy allows the strict routes alone, whatever they require", async () => {
    for (const kind of ["rest-token", "rest-request"] as const) {
      const policy = (await handler()(authorizerEvent(kind, `Bearer ${lightweightToken()}`))) as APIGatewayAuthorizerResult;
      const allowed = policy.policyDocument.Statement.filter((statement) => statement.Effect === "Allow").flatMap((statement) =>
        "Resource" in statement ? [statement.Resource].flat() : [],
      );
      expect(allowed.map((arn) => String(arn).replace(/^.*\/dev\//, ""))).toEqual(["GET/secured/strict", "GET/admin"]);
    }
  });

  test("HTTP API: allowed (the answer cannot depend on the route), the handler decides; the context marks it lightweight for other integrations", async () => {
    expect(await handler()(authorizerEvent("http-v2", `Bearer ${lightweightToken()}`))).toMatchObject({ isAuthorized: true, context: { lightweight: true } });
    const full = await handler()(
      authorizerEvent("http-v2", `Bearer ${signJwt({ alg: "RS256", typ: "JWT", kid: realm.key.kid }, accessClaims(realm.idp.issuer), realm.key.privateKey)}`),
    );
    expect((full as { context: Record<string, unknown> }).context.lightweight).toBeUndefined();
  });

  test("REST, a full token: a strict route is allowed whatever it requires (the handler judges Keycloak's answer), other routes by the token's roles", async () => {
    const full = signJwt(
      { alg: "RS256", typ: "JWT", kid: realm.key.kid },
      accessClaims(realm.idp.issuer, { resource_access: { "secured-api": { roles: [] } } }),
      realm.key.privateKey,
    );
    const policy = (await handler()(authorizerEvent("rest-token", `Bearer ${full}`))) as APIGatewayAuthorizerResult;
    const allowed = policy.policyDocument.Statement.filter((statement) => statement.Effect === "Allow").flatMap((statement) =>
      "Resource" in statement ? [statement.Resource].flat() : [],
    );
    expect(allowed.map((arn) => String(arn).replace(/^.*\/dev\//, ""))).toEqual(["GET/secured", "GET/secured/strict", "GET/admin"]);
  });

  test("on without any strict route: a configuration error at cold start", () => {
    expect(() =>
      authorizerHandler(routeTable([{ method: "GET", path: "/secured", summary: "claims" }]), {
        KEYCLOAK_ISSUER: realm.idp.issuer,
        KEYCLOAK_AUDIENCE: "secured-api",
        KEYCLOAK_LIGHTWEIGHT_TOKENS: "true",
      }),
    ).toThrow(expect.objectContaining({ code: "invalid_config" }));
  });
});

describe.each(["rest", "http"] as const)("the protected handler on the %s API", (api) => {
  let keycloak: Server;
  let issuer: string;
  let answer: Record<string, unknown>;
  beforeAll(async () => {
    keycloak = createServer((request, response) => {
      request.resume();
      request.on("end", () => {
        const body =
          request.url === "/realms/demo/.well-known/openid-configuration"
            ? { issuer, introspection_endpoint: `${issuer}/protocol/openid-connect/token/introspect` }
            : answer;
        response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => keycloak.listen(0, "127.0.0.1", resolve));
    issuer = `http://127.0.0.1:${(keycloak.address() as AddressInfo).port}/realms/demo`;
  });
  afterAll(() => new Promise<void>((resolve) => keycloak.close(() => resolve())));

  const call = async (route: string, pathParameters?: Record<string, string>, extraEnv: Record<string, string> = {}): Promise<APIGatewayProxyResult> => {
    const handler = protectedHandler(ROUTES, async (_event, context) => ({ statusCode: 200, body: JSON.stringify({ claims: context.claims }) }), {
      KEYCLOAK_ISSUER: issuer,
      KEYCLOAK_AUDIENCE: "secured-api",
      KEYCLOAK_INTROSPECTION_CLIENT_ID: "secured-api",
      KEYCLOAK_INTROSPECTION_CLIENT_SECRET: "secret",
      ...extraEnv,
    });
    const claims = { ...lightweightClaims(), iss: issuer };
    // The token whose payload the authorizer put into the context.
    const token = `eyJhbGciOiJSUzI1NiJ9.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.c2ln`;
    const event = protectedEvent(api, {
      route,
      claims,
      headers: { authorization: `Bearer ${token}` },
      ...(pathParameters ? { pathParameters } : {}),
    });
    return (await handler(event as never, lambdaContext())) as APIGatewayProxyResult;
  };
  const fullAnswer = (roles: string[]): Record<string, unknown> => ({
    ...lightweightClaims(),
    iss: issuer,
    aud: ["secured-api", "account"],
    sub: "alice-id",
    resource_access: { "secured-api": { roles } },
    active: true,
  });

  test("a route that does not introspect: 401, lightweight_token_not_allowed", async () => {
    const output = captureOutput();
    answer = fullAnswer(["reader", "admin"]);
    expect((await call("/secured")).statusCode).toBe(401);
    expect((await call("/reports/{id}", { id: "1" })).statusCode).toBe(401);
    expect(output.records().filter((record) => record.reason === "lightweight_token_not_allowed")).toHaveLength(2);
  });

  test("a strict route: Keycloak's answer gives the audience, the subject and the roles", async () => {
    answer = fullAnswer(["admin"]);
    const strict = await call("/secured/strict");
    expect(strict.statusCode).toBe(200);
    expect(JSON.parse(strict.body).claims).toMatchObject({ sub: "alice-id", aud: ["secured-api", "account"] });
    expect((await call("/admin")).statusCode).toBe(200);
    answer = fullAnswer([]);
    expect((await call("/admin")).statusCode).toBe(403);
  });

  test("the realm's own audiences (KEYCLOAK_REALM_RULES) decide, as the authorizer's do for full tokens", async () => {
    const rules = JSON.stringify({ demo: { audience: ["tenant-api"] } });
    answer = fullAnswer(["admin"]);
    expect((await call("/secured/strict", undefined, { KEYCLOAK_REALM_RULES: rules })).statusCode).toBe(401);
    answer = { ...fullAnswer(["admin"]), aud: ["tenant-api"] };
    expect((await call("/secured/strict", undefined, { KEYCLOAK_REALM_RULES: rules })).statusCode).toBe(200);
  });

  test("an answer that names none of the API's audiences: 401 invalid_audience", async () => {
    const output = captureOutput();
    answer = { ...fullAnswer(["admin"]), aud: "account" };
    expect((await call("/secured/strict")).statusCode).toBe(401);
    const { aud: _aud, ...withoutAud } = fullAnswer(["admin"]);
    answer = withoutAud;
    expect((await call("/secured/strict")).statusCode).toBe(401);
    expect(output.records().filter((record) => record.reason === "invalid_audience")).toHaveLength(2);
  });
});
