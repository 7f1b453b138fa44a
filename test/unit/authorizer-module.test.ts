import { afterAll, beforeAll, expect, test } from "@jest/globals";
import type { APIGatewayAuthorizerResult } from "aws-lambda";
import { startIdpStub, type IdpStub } from "../helpers/idp-stub.js";
import { authorizerEvent } from "../helpers/events.js";
import { accessToken, generateRsaKey, type TestKey } from "../helpers/tokens.js";

// The deployed entry point: config from the environment at import (cold start), one verifier for
// every invocation after it.
let idp: IdpStub;
let key: TestKey;
let handler: (event: unknown) => Promise<unknown>;

beforeAll(async () => {
  key = generateRsaKey();
  idp = await startIdpStub([key.jwk]);
  idp.setDelay(50); // keep the cold callers in flight together
  process.env.KEYCLOAK_ISSUER = idp.issuer;
  process.env.KEYCLOAK_AUDIENCE = "secured-api";
  ({ handler } = (await import("../../functions/authorizer.js")) as unknown as { handler: typeof handler });
});
afterAll(() => idp.close());

test("50 concurrent cold invocations share one discovery and one JWKS fetch, and all are allowed", async () => {
  const results = (await Promise.all(
    Array.from({ length: 50 }, () => handler(authorizerEvent("rest-token", `Bearer ${accessToken(key, idp.issuer)}`))),
  )) as APIGatewayAuthorizerResult[];
  expect(results.every((result) => result.policyDocument.Statement[0]?.Effect === "Allow")).toBe(true);
  expect(idp.counts).toEqual({ discovery: 1, jwks: 1 });
});

test("warm invocations reuse the keys", async () => {
  for (let i = 0; i < 10; i += 1) await handler(authorizerEvent("http-v2", `Bearer ${accessToken(key, idp.issuer)}`));
  expect(idp.counts).toEqual({ discovery: 1, jwks: 1 });
});
