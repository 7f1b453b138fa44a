import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import type { APIGatewayAuthorizerResult, APIGatewaySimpleAuthorizerWithContextResult } from "aws-lambda";
import { createAuthorizerHandler, type AuthorizerResult } from "../../lib/authorizer/authorizer-handler.js";
import type { EventKind } from "../../lib/apigateway/events.js";
import { CLAIMS_CONTEXT_KEY, type AuthorizerContext } from "../../lib/apigateway/context.js";
import type { LogFields as LogRecord } from "../../lib/operations/decision-log.js";
import { loggingObserver, type LogCall as Logger } from "../helpers/observer.js";
import { createAccessTokenVerifier } from "../../lib/token/access-token-verifier.js";
import { startIdpStub, type IdpStub } from "../helpers/idp-stub.js";
import { testConfig } from "../helpers/config.js";
import { EVENT_KINDS, authorizerEvent } from "../helpers/events.js";
import { accessClaims, accessToken, generateRsaKey, signJwt, type TestKey } from "../helpers/tokens.js";
import { API_ROUTES } from "../../functions/routes.js";
import { payloadOf } from "../helpers/verification.js";
import { InvalidSignatureError, KeysUnavailableError } from "../../lib/errors.js";
import { gatewayChecked } from "../helpers/gateway.js";

let idp: IdpStub;
let key: TestKey;
let logs: Array<{ level: string; message: string; fields: LogRecord }>;
let handler: ReturnType<typeof createAuthorizerHandler>;

beforeAll(async () => {
  key = generateRsaKey();
  idp = await startIdpStub([key.jwk, generateRsaKey({ use: "enc" }).jwk]);
  const log: Logger = (level, message, fields) => logs.push({ level, message, fields });
  handler = gatewayChecked(
    createAuthorizerHandler({ verifier: createAccessTokenVerifier(testConfig(idp.issuer)), routes: API_ROUTES, observer: loggingObserver(log) }),
  );
});
afterAll(() => idp.close());

async function refusal(kind: EventKind, authorization: string | undefined): Promise<{ error: unknown; reason: unknown }> {
  logs = [];
  const error = await handler(authorizerEvent(kind, authorization)).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(logs).toHaveLength(1);
  return { error, reason: logs[0]?.fields.reason };
}

describe.each(EVENT_KINDS)("%s events", (kind) => {
  test("a valid token is allowed, with the claims in the context", async () => {
    const token = accessToken(key, idp.issuer);
    const result: AuthorizerResult = await handler(authorizerEvent(kind, `Bearer ${token}`));
    const context = (result as { context: AuthorizerContext }).context;
    expect(JSON.parse(context[CLAIMS_CONTEXT_KEY] as string)).toEqual(payloadOf(token));
    expect(context.sub).toBe(accessClaims(idp.issuer).sub);
    // REST contexts may only hold scalars.
    expect(Object.values(context).every((value) => ["string", "number", "boolean"].includes(typeof value))).toBe(true);
    if (kind === "http-v2") {
      expect((result as APIGatewaySimpleAuthorizerWithContextResult<AuthorizerContext>).isAuthorized).toBe(true);
    } else {
      const policy = result as APIGatewayAuthorizerResult;
      expect(policy.principalId).toBe(accessClaims(idp.issuer).sub);
      // Every route this token may call (the default claims are alice's: admin and writer), not
      // only the first methodArn, so a policy cached per token stays right on its next route.
      const api = "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/dev";
      expect(policy.policyDocument.Statement).toEqual([
        {
          Action: "execute-api:Invoke",
          Effect: "Allow",
          Resource: [
            `${api}/GET/secured`,
            `${api}/GET/secured/strict`,
            `${api}/GET/admin`,
            `${api}/GET/reports`,
            `${api}/POST/reports`,
            `${api}/GET/reports/*`,
            `${api}/GET/reports/*/audit`,
          ],
        },
      ]);
    }
  });

  test("the scheme is case-insensitive and may be followed by several spaces", async () => {
    await expect(handler(authorizerEvent(kind, `bEaReR   ${accessToken(key, idp.issuer)}`))).resolves.toBeDefined();
  });

  const now = (): number => Math.floor(Date.now() / 1000);
  const rejections: Array<[string, () => string | undefined, string]> = [
    ["no Authorization header", () => undefined, "missing_token"],
    ["an empty Authorization header", () => "", "missing_token"],
    ["Basic credentials", () => "Basic YWxpY2U6YWxpY2U=", "malformed_authorization_header"],
    ["a bare token without scheme", () => accessToken(key, idp.issuer), "malformed_authorization_header"],
    ["a tab after the scheme", () => `Bearer\t${accessToken(key, idp.issuer)}`, "malformed_authorization_header"],
    ["two tokens", () => `Bearer ${accessToken(key, idp.issuer)} ${accessToken(key, idp.issuer)}`, "malformed_authorization_header"],
    ["garbage", () => "Bearer not-a-jwt", "malformed_token"],
    ["alg none", () => `Bearer ${signJwt({ alg: "none", kid: key.kid }, accessClaims(idp.issuer), key.privateKey).replace(/[^.]+$/, "")}`, "malformed_token"],
    [
      "a disallowed algorithm",
      () => `Bearer ${signJwt({ alg: "RS384", kid: key.kid }, accessClaims(idp.issuer), key.privateKey, "sha384")}`,
      "algorithm_not_allowed",
    ],
    ["no kid", () => `Bearer ${signJwt({ alg: "RS256" }, accessClaims(idp.issuer), key.privateKey)}`, "missing_kid"],
    ["an unknown crit", () => `Bearer ${accessToken(key, idp.issuer, { header: { crit: ["b64"], b64: false } })}`, "unsupported_crit"],
    ["an embedded jwk", () => `Bearer ${accessToken(key, idp.issuer, { header: { jwk: key.jwk } })}`, "embedded_key_header"],
    ["an unknown kid", () => `Bearer ${accessToken({ ...key, kid: "nope" }, idp.issuer)}`, "unknown_kid"],
    ["a forged signature", () => `Bearer ${accessToken({ ...generateRsaKey(), kid: key.kid }, idp.issuer)}`, "invalid_signature"],
    ["another issuer", () => `Bearer ${accessToken(key, idp.issuer, { claims: { iss: "https://other/realms/x" } })}`, "invalid_issuer"],
    ["a foreign audience", () => `Bearer ${accessToken(key, idp.issuer, { claims: { aud: "account" } })}`, "invalid_audience"],
    ["no exp", () => `Bearer ${accessToken(key, idp.issuer, { claims: { exp: undefined } })}`, "missing_exp"],
    ["an expired token", () => `Bearer ${accessToken(key, idp.issuer, { claims: { exp: now() - 120 } })}`, "token_expired"],
    ["no iat", () => `Bearer ${accessToken(key, idp.issuer, { claims: { iat: undefined } })}`, "missing_iat"],
    ["iat in the future", () => `Bearer ${accessToken(key, idp.issuer, { claims: { iat: now() + 600 } })}`, "iat_in_future"],
    ["nbf in the future", () => `Bearer ${accessToken(key, idp.issuer, { claims: { nbf: now() + 600 } })}`, "token_not_yet_valid"],
    ["an ID token", () => `Bearer ${accessToken(key, idp.issuer, { claims: { typ: "ID" } })}`, "invalid_token_type"],
    ["a refresh token", () => `Bearer ${accessToken(key, idp.issuer, { claims: { typ: "Refresh" } })}`, "invalid_token_type"],
    ["an oversized token", () => `Bearer ${accessToken(key, idp.issuer, { claims: { pad: "x".repeat(17_000) } })}`, "token_too_large"],
  ];

  test.each(rejections)("%s is refused with exactly Error('Unauthorized')", async (_name, authorization, reason) => {
    const value = authorization();
    const outcome = await refusal(kind, value);
    expect(outcome.error).toBeInstanceOf(Error);
    expect((outcome.error as Error).message).toBe("Unauthorized");
    expect(outcome.reason).toBe(reason);
    // Logs carry the reason, never the token.
    const token = value?.split(/\s+/)[1];
    if (token !== undefined && token.length > 20) expect(JSON.stringify(logs)).not.toContain(token.slice(-20));
  });
});

describe("events and outages", () => {
  test("an unknown event shape is refused, not crashed on", async () => {
    logs = [];
    await expect(handler({ hello: "world" } as never)).rejects.toThrow(/^Unauthorized$/);
    expect(logs[0]?.fields.reason).toBe("unsupported_event");
  });

  test("a REST event whose methodArn is not an execute-api ARN is refused", async () => {
    logs = [];
    const event = { type: "TOKEN", methodArn: "not-an-arn", authorizationToken: `Bearer ${accessToken(key, idp.issuer)}` };
    await expect(handler(event as never)).rejects.toThrow(/^Unauthorized$/);
    expect(logs[0]?.fields.reason).toBe("unsupported_event");
  });

  test.each(EVENT_KINDS)("unreachable keys are a server failure on %s, never Unauthorized nor Allow", async (kind) => {
    const dead = await startIdpStub([key.jwk]);
    const issuer = dead.issuer;
    await dead.close();
    const outageLogs: LogRecord[] = [];
    const outage = gatewayChecked(
      createAuthorizerHandler({
        verifier: createAccessTokenVerifier(testConfig(issuer)),
        routes: API_ROUTES,
        observer: loggingObserver((_level, _message, fields) => outageLogs.push(fields)),
      }),
    );
    const error = await outage(authorizerEvent(kind, `Bearer ${accessToken(key, issuer)}`)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).not.toBe("Unauthorized");
    expect(outageLogs[0]?.reason).toBe("keys_unavailable");
  });
});

describe("request checks", () => {
  test("run after the token verified, in order; a rejection refuses (401), a failure is a 500", async () => {
    const seen: string[] = [];
    const verifier = createAccessTokenVerifier(testConfig(idp.issuer));
    const token = accessToken(key, idp.issuer);
    const allowing = gatewayChecked(
      createAuthorizerHandler({
        verifier,
        routes: API_ROUTES,
        checks: [
          ({ kind, token: carried, verified }) => {
            seen.push(`first ${kind} ${carried === token} ${verified.principal}`);
          },
          async () => {
            seen.push("second");
          },
        ],
      }),
    );
    await expect(allowing(authorizerEvent("http-v2", `Bearer ${token}`))).resolves.toMatchObject({ isAuthorized: true });
    expect(seen).toEqual([`first http-v2 true ${String(payloadOf(token).sub)}`, "second"]);

    const refusing = gatewayChecked(
      createAuthorizerHandler({
        verifier,
        routes: API_ROUTES,
        checks: [() => Promise.reject(new InvalidSignatureError("proof does not verify"))],
      }),
    );
    await expect(refusing(authorizerEvent("http-v2", `Bearer ${token}`))).rejects.toThrow(/^Unauthorized$/);
    const failing = gatewayChecked(
      createAuthorizerHandler({ verifier, routes: API_ROUTES, checks: [() => Promise.reject(new KeysUnavailableError("store down"))] }),
    );
    await expect(failing(authorizerEvent("http-v2", `Bearer ${token}`))).rejects.toThrow(/^Authorizer failure: keys_unavailable$/);
    // A check is never asked about a token that did not verify.
    seen.length = 0;
    await expect(allowing(authorizerEvent("http-v2", "Bearer not.a.jwt"))).rejects.toThrow(/^Unauthorized$/);
    expect(seen).toEqual([]);
  });
});
