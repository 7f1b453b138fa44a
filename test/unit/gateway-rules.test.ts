/**
 * API Gateway's rules for authorizer answers (lib/apigateway/gateway-rules.ts): each rule catches
 * the answer serverless-offline would take and AWS would not; our own answers break none (every
 * test that calls the authorizer checks that, through test/helpers/gateway.ts); and the rules are
 * enforced under serverless-offline only.
 */
import { afterAll, afterEach, beforeAll, describe, expect, jest, test } from "@jest/globals";
import { API_ROUTES } from "../../functions/routes.js";
import { enforceGatewayRules, GATEWAY_LIMITS, gatewayViolations } from "../../lib/apigateway/gateway-rules.js";
import { eventKind } from "../../lib/apigateway/events.js";
import { authorizerHandler } from "../../lib/lambda-handlers.js";
import { offlineAuthorizer } from "../../local/offline/offline-authorizer.js";
import { routeTable } from "../../lib/routes/route.js";
import { authorizerEvent, createTestAuthorizer, generateRsaKey, lambdaContext, mintAccessToken } from "../../lib/testing/index.js";
import { captureOutput } from "../helpers/captured-output.js";
import { startIdpStub, type IdpStub } from "../helpers/idp-stub.js";

const API = "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/dev";
const policy = (resource: unknown = `${API}/GET/secured`) => ({
  Version: "2012-10-17",
  Statement: [{ Action: "execute-api:Invoke", Effect: "Allow", Resource: resource }],
});
const rest = (result: unknown) => gatewayViolations("rest-token", { result });

describe("REST answers", () => {
  test("a well-formed policy with a scalar context breaks no rule", () => {
    expect(rest({ principalId: "u", policyDocument: policy([`${API}/GET/secured`, `${API}/GET/reports/*`]), context: { a: "x", b: 1, c: true } })).toEqual([]);
    expect(
      rest({
        principalId: "u",
        policyDocument: { Version: "2012-10-17", Statement: [{ Action: "execute-api:Invoke", Effect: "Deny", Resource: `${API}/*` }] },
      }),
    ).toEqual([]);
  });

  test.each<[string, unknown, RegExp]>([
    ["a nested context value", { a: { b: 1 } }, /context\.a is an object: REST authorizer contexts take only strings, numbers and booleans/],
    ["an array context value", { roles: ["admin"] }, /context\.roles is an array/],
    ["a null context value", { a: null }, /context\.a is null/],
    ["an undefined context value", { a: undefined }, /context\.a is undefined/],
    ["a non-finite number", { a: Number.NaN }, /context\.a is number NaN/],
  ])("%s is refused (serverless-offline passes it on; AWS answers 500)", (_label, context, problem) => {
    expect(rest({ principalId: "u", policyDocument: policy(), context })).toEqual([expect.stringMatching(problem)]);
  });

  test("principalId must be a non-empty string", () => {
    expect(rest({ principalId: 42, policyDocument: policy() })).toEqual([expect.stringMatching(/^principalId is number 42/)]);
    expect(rest({ principalId: "", policyDocument: policy() })).toEqual([expect.stringMatching(/^principalId is the string ""/)]);
    expect(rest({ policyDocument: policy() })).toEqual([expect.stringMatching(/^principalId is undefined/)]);
  });

  test(`a Resource ARN over ${GATEWAY_LIMITS.policyResourceChars} characters is refused, one of exactly that many is not`, () => {
    const at = (length: number) => `${API}/GET/${"a".repeat(length - API.length - 5)}`;
    expect(at(512)).toHaveLength(512);
    expect(rest({ principalId: "u", policyDocument: policy([at(512)]) })).toEqual([]);
    expect(rest({ principalId: "u", policyDocument: policy([at(513)]) })).toEqual([expect.stringMatching(/an ARN of 513 characters, above API Gateway's 512/)]);
  });

  test("the policy's shape: Version, Effect, Action, execute-api Resources", () => {
    expect(rest({ principalId: "u", policyDocument: { Version: "2008-10-17", Statement: policy().Statement } })).toEqual([expect.stringMatching(/Version/)]);
    expect(rest({ principalId: "u", policyDocument: { Version: "2012-10-17", Statement: [] } })).toEqual([expect.stringMatching(/non-empty array/)]);
    expect(
      rest({
        principalId: "u",
        policyDocument: { Version: "2012-10-17", Statement: [{ Action: "s3:GetObject", Effect: "allow", Resource: "arn:aws:s3:::b/*" }] },
      }),
    ).toEqual([expect.stringMatching(/Effect/), expect.stringMatching(/Action/), expect.stringMatching(/not an execute-api ARN/)]);
    expect(rest({ principalId: "u" })).toEqual([expect.stringMatching(/^policyDocument is undefined/)]);
    expect(rest("Allow")).toEqual([expect.stringMatching(/not an object/)]);
  });

  test(`an answer above Lambda's ${GATEWAY_LIMITS.responseBytes}-byte response limit is refused`, () => {
    expect(rest({ principalId: "u", policyDocument: policy(), context: { big: "x".repeat(GATEWAY_LIMITS.responseBytes) } })).toEqual([
      expect.stringMatching(/above Lambda's 6291456-byte response limit/),
    ]);
  });
});

describe("HTTP API simple responses", () => {
  const http = (result: unknown) => gatewayViolations("http-v2", { result });
  test("isAuthorized must be a real boolean", () => {
    expect(http({ isAuthorized: true, context: { kc_claims: "{}" } })).toEqual([]);
    expect(http({ isAuthorized: false })).toEqual([]);
    expect(http({ isAuthorized: "true" })).toEqual([expect.stringMatching(/^isAuthorized is the string "true": HTTP API simple responses need a boolean/)]);
    expect(http({ isAuthorized: 1 })).toEqual([expect.stringMatching(/^isAuthorized is number 1/)]);
    expect(http({ context: {} })).toEqual([expect.stringMatching(/^isAuthorized is undefined/)]);
  });
  test("context holds JSON values", () => {
    expect(http({ isAuthorized: true, context: { nested: { roles: ["a"] } } })).toEqual([]);
    expect(http({ isAuthorized: true, context: { a: undefined } })).toEqual([expect.stringMatching(/context\.a is undefined, not a JSON value/)]);
  });
});

describe("thrown errors", () => {
  test("exactly Unauthorized is the 401; a near miss is a 500 in disguise; a deliberate failure is no violation", () => {
    expect(gatewayViolations("rest-token", { error: new Error("Unauthorized") })).toEqual([]);
    expect(gatewayViolations("http-v2", { error: new Error("Authorizer failure: keys_unavailable") })).toEqual([]);
    for (const message of ["unauthorized", "Unauthorized ", "UNAUTHORIZED"]) {
      expect(gatewayViolations("rest-token", { error: new Error(message) })).toEqual([expect.stringMatching(/only exactly "Unauthorized" is a 401/)]);
    }
    expect(gatewayViolations("rest-token", { error: "Unauthorized" })).toEqual([expect.stringMatching(/not an Error/)]);
  });
});

describe("our authorizer's answers", () => {
  const key = generateRsaKey();
  const issuer = "https://keycloak.example.com/realms/demo";
  test("REST policies stay within the ARN limit even for the longest route table API Gateway allows in one policy", async () => {
    // 60 routes with 200-character paths: each Allow ARN is about 280 characters.
    const routes = routeTable(Array.from({ length: 60 }, (_, index) => ({ method: "GET" as const, path: `/r${index}/${"p".repeat(200)}`, summary: "x" })));
    const authorizer = createTestAuthorizer(routes, { issuer, keys: [key.jwk] });
    const result = await authorizer(authorizerEvent("rest-token", `Bearer ${mintAccessToken(key, issuer)}`));
    expect(gatewayViolations("rest-token", { result })).toEqual([]);
  });
});

describe("enforced under serverless-offline only", () => {
  let idp: IdpStub;
  const key = generateRsaKey();
  beforeAll(async () => {
    idp = await startIdpStub([key.jwk]);
  });
  afterAll(() => idp.close());
  afterEach(() => {
    jest.restoreAllMocks();
  });

  test("a violating answer is reported and becomes the failure AWS would make of it", async () => {
    const reported: string[][] = [];
    const bad = enforceGatewayRules(
      async () => ({ isAuthorized: "true" }),
      eventKind,
      (violations) => reported.push([...violations]),
    );
    await expect(bad(authorizerEvent("http-v2", "Bearer x"), undefined)).rejects.toThrow(
      /^Authorizer answer API Gateway would refuse: isAuthorized is the string "true"/,
    );
    expect(reported).toEqual([[expect.stringMatching(/isAuthorized/)]]);
    const nearMiss = enforceGatewayRules(
      async () => {
        throw new Error("unauthorized");
      },
      eventKind,
      (violations) => reported.push([...violations]),
    );
    await expect(nearMiss(authorizerEvent("rest-token", "Bearer x"), undefined)).rejects.toThrow(/^unauthorized$/);
    expect(reported).toHaveLength(2);
  });

  test("the local stack's authorizer (local/offline/authorizer.ts): an answer AWS would refuse (a policy ARN over 512 characters) is an ERROR line and a failure; the deployed one sends the same answer", async () => {
    const output = captureOutput();
    const routes = routeTable([{ method: "GET", path: `/${"long".repeat(120)}`, summary: "a route whose ARN outgrows API Gateway's limit" }]);
    const env = { KEYCLOAK_ISSUER: idp.issuer, KEYCLOAK_AUDIENCE: "secured-api" };
    const event = authorizerEvent("rest-token", `Bearer ${mintAccessToken(key, idp.issuer)}`);
    const offline = offlineAuthorizer(routes, { ...env, IS_OFFLINE: "true" });
    await expect(offline(event, lambdaContext())).rejects.toThrow(
      /^Authorizer answer API Gateway would refuse: policyDocument\.Statement\[0\]\.Resource has an ARN of 542 characters/,
    );
    expect(output.records().filter((record) => record.reason === "gateway_rules")).toEqual([
      expect.objectContaining({ level: "ERROR", message: "authorizer answer API Gateway would refuse", event: "rest-token" }),
    ]);
    const deployed = authorizerHandler(routes, env);
    await expect(deployed(event, lambdaContext())).resolves.toMatchObject({ principalId: expect.any(String) });
    // Our usual answers pass offline.
    await expect(offlineAuthorizer(API_ROUTES, { ...env, IS_OFFLINE: "true" })(event, lambdaContext())).resolves.toMatchObject({
      principalId: expect.any(String),
    });
  });
});
