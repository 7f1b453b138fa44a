import { afterEach, beforeEach, expect, jest, test } from "@jest/globals";
import type { Context } from "aws-lambda";
import { InternalError, InvalidSignatureError, KeysUnavailableError } from "../../lib/errors.js";
import { createLogger } from "../../lib/operations/logger.js";
import { createAuthorizerTelemetry } from "../../lib/operations/telemetry.js";
import { captureOutput, type CapturedOutput } from "../helpers/captured-output.js";

let output: CapturedOutput;
beforeEach(() => {
  output = captureOutput();
});
afterEach(() => {
  jest.restoreAllMocks();
  delete process.env.POWERTOOLS_LOG_LEVEL;
});
const records = (): Array<Record<string, unknown>> => output.records();
const context = { awsRequestId: "req-1", functionName: "authorizer", invokedFunctionArn: "arn:aws:lambda:eu-west-1:1:function:a" } as Context;
const event = { type: "TOKEN", methodArn: "arn:aws:execute-api:eu-west-1:1:api/dev/POST/reports" };
const claims = { sub: "s", azp: "api-client", email: "alice@example.com" };

test("at the default level an allowed request writes nothing at all: no log line, no metric", async () => {
  const telemetry = createAuthorizerTelemetry({ logger: createLogger() });
  await telemetry.wrap(async () => {
    telemetry.observer.allowed({ kind: "rest-token", event, kid: "k1", realm: "demo", latencyMs: 0.42, requestId: "req-1", claims });
    return "ok";
  })(undefined, context);
  expect(output.bytes()).toBe(0);
});

test("at DEBUG, allowed decisions are logged with key id, route, latency and only the chosen claims", async () => {
  process.env.POWERTOOLS_LOG_LEVEL = "DEBUG";
  const telemetry = createAuthorizerTelemetry({ logger: createLogger(), logClaims: ["azp", "sub"] });
  await telemetry.wrap(async () => {
    telemetry.observer.allowed({ kind: "rest-token", event, kid: "k1", realm: "demo", latencyMs: 0.42, requestId: "req-1", claims });
    return "ok";
  })(undefined, context);
  const log = records().find((record) => record.message === "request allowed");
  expect(log).toMatchObject({ level: "DEBUG", decision: "allow", kid: "k1", route: "POST /reports", latencyMs: 0.42, claims: { sub: "s", azp: "api-client" } });
  expect(log).toMatchObject({ function_request_id: "req-1" });
  expect(JSON.stringify(records())).not.toContain("alice@example.com");
});

test("key fetches, refusals and failures are counted; failures are ERROR lines carrying their cause", async () => {
  const telemetry = createAuthorizerTelemetry({ logger: createLogger() });
  await telemetry.wrap(async () => {
    telemetry.keyFetch({ ok: true, kind: "discovery", realm: "demo" });
    telemetry.keyFetch({ ok: false, kind: "jwks", realm: "demo" });
    telemetry.observer.failed({
      kind: "http-v2",
      event: { routeKey: "GET /admin" },
      latencyMs: 3,
      requestId: "req-1",
      error: new KeysUnavailableError("down"),
    });
    telemetry.observer.refused({
      kind: "http-v2",
      event: { routeKey: "GET /admin" },
      latencyMs: 1,
      requestId: "req-1",
      error: new InvalidSignatureError("bad"),
    });
    telemetry.observer.failed({
      kind: "http-v2",
      event: { routeKey: "GET /admin" },
      latencyMs: 1,
      requestId: "req-1",
      error: new InternalError("boom", { cause: new TypeError("x is undefined") }),
    });
    return "ok";
  })(undefined, context);
  const metrics = records().filter((record) => "_aws" in record);
  expect(metrics).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ KeyFetches: 1, kind: "discovery" }),
      expect.objectContaining({ KeyFetchFailures: 1, kind: "jwks" }),
      expect.objectContaining({ AuthorizerFailures: 1, reason: "keys_unavailable" }),
      expect.objectContaining({ AuthorizerFailures: 1, reason: "internal_error" }),
      expect.objectContaining({ Refused: 1, reason: "invalid_signature" }),
    ]),
  );
  expect(records().find((record) => record.message === "authorizer failure")).toMatchObject({
    level: "ERROR",
    decision: "error",
    route: "GET /admin",
    reason: "keys_unavailable",
  });
  const bug = records().find((record) => record.reason === "internal_error" && record.message === "authorizer failure");
  expect(bug).toMatchObject({ level: "ERROR", error: { name: "TypeError", message: "x is undefined" } });
});

test("an invocation without events publishes nothing (no empty EMF, no warning)", async () => {
  const telemetry = createAuthorizerTelemetry({ logger: createLogger() });
  await telemetry.wrap(async () => "ok")(undefined, context);
  expect(records()).toEqual([]);
});
