import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, jest, test } from "@jest/globals";
import type { APIGatewayAuthorizerResult, Context } from "aws-lambda";
import { startIdpStub, type IdpStub } from "../helpers/idp-stub.js";
import { authorizerEvent } from "../helpers/events.js";
import { accessToken, generateRsaKey, type TestKey } from "../helpers/tokens.js";
import { captureOutput, type CapturedOutput } from "../helpers/captured-output.js";

// The deployed entry point: config from the environment at import (cold start), one verifier for
// every invocation after it, Powertools logs and EMF metrics on stdout.
let idp: IdpStub;
let key: TestKey;
let handler: (event: unknown, context: Context) => Promise<unknown>;
let output: CapturedOutput;

const context = (id: string): Context =>
  ({
    awsRequestId: id,
    functionName: "authorizer",
    functionVersion: "$LATEST",
    invokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:authorizer",
    memoryLimitInMB: "256",
  }) as Context;

beforeAll(async () => {
  key = generateRsaKey();
  idp = await startIdpStub([key.jwk]);
  idp.setDelay(50); // keep the cold callers in flight together
  process.env.KEYCLOAK_ISSUER = idp.issuer;
  process.env.KEYCLOAK_AUDIENCE = "secured-api";
  process.env.KEYCLOAK_LOG_CLAIMS = "azp";
  ({ handler } = (await import("../../functions/authorizer.js")) as unknown as { handler: typeof handler });
});
afterAll(() => idp.close());

beforeEach(() => {
  output = captureOutput();
});
afterEach(() => {
  jest.restoreAllMocks();
});

const lines = (): Array<Record<string, unknown>> => output.records();
const emf = (): Array<Record<string, unknown>> => lines().filter((line) => "_aws" in line);
const logs = (): Array<Record<string, unknown>> => lines().filter((line) => !("_aws" in line));

test("50 concurrent cold invocations share one discovery and one JWKS fetch, and all are allowed", async () => {
  const results = (await Promise.all(
    Array.from({ length: 50 }, (_, i) => handler(authorizerEvent("rest-token", `Bearer ${accessToken(key, idp.issuer)}`), context(`cold-${i}`))),
  )) as APIGatewayAuthorizerResult[];
  expect(results.every((result) => result.policyDocument.Statement[0]?.Effect === "Allow")).toBe(true);
  expect(idp.counts).toEqual({ discovery: 1, jwks: 1 });
});

test("warm invocations reuse the keys", async () => {
  for (let i = 0; i < 10; i += 1) await handler(authorizerEvent("http-v2", `Bearer ${accessToken(key, idp.issuer)}`), context(`warm-${i}`));
  expect(idp.counts).toEqual({ discovery: 1, jwks: 1 });
});

describe("operations", () => {
  test("an allowed request writes nothing to stdout or stderr at the default level", async () => {
    await handler(authorizerEvent("http-v2", `Bearer ${accessToken(key, idp.issuer)}`), context("allow-1"));
    await handler(authorizerEvent("rest-token", `Bearer ${accessToken(key, idp.issuer)}`), context("allow-2"));
    expect(output.bytes()).toBe(0);
  });

  test("a refusal is counted by reason and logged with request id, route, decision, reason and latency, never the token", async () => {
    const token = accessToken(key, idp.issuer, { claims: { aud: "account" } });
    await expect(handler(authorizerEvent("rest-token", `Bearer ${token}`), context("refuse-1"))).rejects.toThrow(/^Unauthorized$/);
    expect(emf()).toEqual([expect.objectContaining({ Refused: 1, reason: "invalid_audience" })]);
    const [line] = logs();
    expect(line).toMatchObject({
      level: "WARN",
      message: "request refused",
      function_request_id: "refuse-1",
      route: "GET /secured",
      decision: "deny",
      reason: "invalid_audience",
      stage: "claims",
      event: "rest-token",
    });
    expect(typeof line?.latencyMs).toBe("number");
    expect(output.text()).not.toContain(token.split(".")[2]);
    expect(output.text()).not.toContain("alice@example.com");
  });

  test("a repeated token (a token-cache hit) writes nothing either", async () => {
    const token = accessToken(key, idp.issuer);
    await handler(authorizerEvent("http-v2", `Bearer ${token}`), context("first"));
    await handler(authorizerEvent("http-v2", `Bearer ${token}`), context("again"));
    expect(output.bytes()).toBe(0);
  });

  test("a bug of ours is a failure (500) logged with its cause, never a bad-token 401", async () => {
    // An event whose headers cannot be read stands in for any unexpected error in our code.
    const event = authorizerEvent("http-v2", `Bearer ${accessToken(key, idp.issuer)}`);
    const broken = new Proxy(event, {
      get(target, name) {
        if (name === "headers") throw new TypeError("boom inside the authorizer");
        return Reflect.get(target, name);
      },
    });
    await expect(handler(broken, context("broken"))).rejects.toThrow(/^Authorizer failure: internal_error$/);
    expect(emf()).toEqual([expect.objectContaining({ AuthorizerFailures: 1, reason: "internal_error" })]);
    expect(logs()).toEqual([
      expect.objectContaining({
        level: "ERROR",
        message: "authorizer failure",
        reason: "internal_error",
        error: expect.objectContaining({ message: "boom inside the authorizer" }),
      }),
    ]);
  });
});
