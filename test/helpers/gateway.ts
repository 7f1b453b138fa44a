/**
 * The authorizer under test, every answer checked against what API Gateway accepts
 * (lib/apigateway/gateway-rules.ts): a test fails on an answer serverless-offline would take and
 * AWS would turn into a 500, whatever the test itself asserts.
 */
import { expect } from "@jest/globals";
import { eventKind } from "../../lib/apigateway/events.js";
import { gatewayViolations } from "../../lib/apigateway/gateway-rules.js";
import type { AuthorizerHandler } from "../../lib/authorizer/authorizer-handler.js";

/** Messages of what the authorizer throws: exactly Unauthorized (401), or a failure (500) by design. */
const THROWN = /^(Unauthorized|Authorizer failure: (keys_unavailable|internal_error))$/;

export function gatewayChecked(handler: AuthorizerHandler): AuthorizerHandler {
  return async (event, context) => {
    const kind = eventKind(event);
    let outcome: { result: Awaited<ReturnType<AuthorizerHandler>> } | { error: unknown };
    try {
      outcome = { result: await handler(event, context) };
    } catch (error) {
      outcome = { error };
    }
    // Unsupported events are refused like any bad token; what API Gateway would do with them is moot.
    if (kind !== undefined) expect(gatewayViolations(kind, outcome)).toEqual([]);
    if ("error" in outcome) {
      expect(outcome.error).toBeInstanceOf(Error);
      expect((outcome.error as Error).message).toMatch(THROWN);
      throw outcome.error;
    }
    return outcome.result;
  };
}
