import { describe, expect, test } from "@jest/globals";
import { createConsoleFilter } from "../../local/console-lines.js";

/** Feed lines through one filter; what npm start would print. */
function shown(lines: readonly string[]): string[] {
  const filter = createConsoleFilter();
  return lines.map(filter).filter((line): line is string => line !== undefined);
}

describe("npm start's console", () => {
  test("a refused REST request is one short line: no EMF document, no stack trace", () => {
    expect(
      shown([
        "Running Authorization function for get /dev/secured (λ: authorizer)",
        '{"_aws":{"Timestamp":1,"CloudWatchMetrics":[]},"reason":"malformed_token","Refused":1}',
        '{"level":"WARN","message":"request refused","event":"rest-token","route":"GET /secured","decision":"deny","reason":"malformed_token","stage":"parse"}',
        "× Unhandled exception in handler 'authorizer'.",
        "× Error: Unauthorized",
        "      at file:///x/.build/functions/authorizer.mjs:2:32099",
        "      at async file:///x/.build/functions/authorizer.mjs:4:30576",
        "Authorization function returned an error response: (λ: authorizer)",
      ]),
    ).toEqual(["401 GET /secured [REST]  malformed_token"]);
  });

  test("a stackless Unauthorized error, as the authorizer throws it, is dropped too", () => {
    expect(
      shown([
        '{"level":"WARN","message":"request refused","event":"http-v2","route":"GET /secured","reason":"invalid_signature"}',
        "× Unhandled exception in handler 'authorizer'.",
        "× [Error: Unauthorized]",
      ]),
    ).toEqual(["401 GET /secured [HTTP API]  invalid_signature"]);
  });

  test("the Unauthorized error is dropped also when a log line of stdout lands between it and its heading on stderr", () => {
    expect(
      shown([
        '{"level":"WARN","message":"request refused","event":"rest-token","route":"GET /secured","reason":"malformed_token"}',
        "× Unhandled exception in handler 'authorizer'.",
        '{"_aws":{"Timestamp":1,"CloudWatchMetrics":[]},"kind":"jwks","KeyFetches":1}',
        "× [Error: Unauthorized]",
      ]),
    ).toEqual(["401 GET /secured [REST]  malformed_token"]);
  });

  test("a request without Authorization names the route it was for", () => {
    expect(
      shown(["Running Authorization function for get /secured (λ: authorizer)", "× Identity Source is null for header authorization (λ: authorizer)"]),
    ).toEqual(["401 GET /secured  missing_token  (no Authorization header: answered by API Gateway, the authorizer is not called)"]);
  });

  test("forbidden and failed requests keep their status and reason", () => {
    expect(
      shown([
        '{"level":"WARN","message":"request forbidden","reason":"insufficient_rights","route":"GET /admin"}',
        '{"level":"ERROR","message":"authorizer failure","event":"http-v2","route":"GET /secured","reason":"keys_unavailable","detail":"key fetch timed out"}',
      ]),
    ).toEqual(["403 GET /admin  insufficient_rights", "500 GET /secured [HTTP API]  keys_unavailable: key fetch timed out"]);
  });

  test("a hint shows under its refusal; an answer API Gateway would refuse shows as the 500 it would be", () => {
    expect(
      shown([
        '{"level":"WARN","message":"request refused","event":"http-v2","route":"GET /secured","reason":"invalid_audience","hint":"add an Audience mapper"}',
        '{"level":"WARN","message":"allowed token carries no roles","event":"rest-token","route":"GET /admin","reason":"no_role_claims","hint":"give the client the roles client scope"}',
        '{"level":"ERROR","message":"authorizer answer API Gateway would refuse","event":"http-v2","reason":"gateway_rules","violations":"isAuthorized is the string \\"true\\""}',
      ]),
    ).toEqual([
      "401 GET /secured [HTTP API]  invalid_audience\n      hint: add an Audience mapper",
      "WARN allowed token carries no roles  no_role_claims\n      hint: give the client the roles client scope",
      '500 [HTTP API]  gateway_rules: on AWS this answer is a 500 (isAuthorized is the string "true")',
    ]);
  });

  test("a crash of another function still shows", () => {
    expect(shown(["× Unhandled exception in handler 'secured'.", "× TypeError: boom", "at x (y.js:1:1)"])).toEqual([
      "× Unhandled exception in handler 'secured'.",
      "× TypeError: boom",
    ]);
  });
});
