/**
 * Route-level authorization end to end through serverless-offline, with tokens from the embedded
 * provider: the routes of functions/routes.ts on both API kinds, 401 versus 403, the error headers and
 * bodies, and CORS for browser callers.
 */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { freePort, startStack, type RunningStack } from "../../local/stack.js";
import { clientTokens, passwordTokens } from "../helpers/oidc-client.js";

let stack: RunningStack;
const tokens: Record<string, string> = {};
const ORIGIN = "http://localhost:3000";

beforeAll(async () => {
  stack = await startStack({ issuer: `http://localhost:${await freePort()}/realms/demo`, port: 0, lambdaPort: 0 });
  tokens.alice = (await passwordTokens(stack.issuer, "alice")).access_token;
  tokens.bob = (await passwordTokens(stack.issuer, "bob")).access_token;
  tokens.service = (await clientTokens(stack.issuer)).access_token;
}, 120_000);
afterAll(() => stack?.stop());

async function call(method: string, path: string, who?: string, headers: Record<string, string> = {}): Promise<Response> {
  const authorization = who === undefined ? {} : { authorization: `Bearer ${tokens[who] ?? who}` };
  return fetch(`${stack.baseUrl}${path}`, { method, headers: { ...authorization, ...headers } });
}

// [caller, method, path, expected status]: the decisions the realm file implies.
const DECISIONS: Array<[string, string, string, number]> = [
  ["alice", "GET", "/admin", 200],
  ["bob", "GET", "/admin", 403],
  ["service", "GET", "/admin", 403],
  ["alice", "GET", "/reports", 200],
  ["bob", "GET", "/reports", 200],
  ["service", "GET", "/reports", 200],
  ["alice", "POST", "/reports", 200],
  ["bob", "POST", "/reports", 403],
  ["service", "POST", "/reports", 403],
  ["bob", "GET", "/secured", 200],
  ["service", "GET", "/secured", 200],
];

describe.each([
  ["REST API", "/dev"],
  ["HTTP API", ""],
])("%s", (_kind, prefix) => {
  test.each(DECISIONS)("%s: %s %s -> %d", async (who, method, path, status) => {
    expect((await call(method, `${prefix}${path}`, who)).status).toBe(status);
  });

  test.each([
    ["GET", "/admin"],
    ["POST", "/reports"],
  ])("without a token %s %s is 401, not 403", async (method, path) => {
    expect((await call(method, `${prefix}${path}`)).status).toBe(401);
    expect((await call(method, `${prefix}${path}`, "not.a.token")).status).toBe(401);
  });

  test("CORS preflight from the docs origin is answered", async () => {
    const response = await call("OPTIONS", `${prefix}/reports`, undefined, {
      origin: ORIGIN,
      "access-control-request-method": "POST",
      "access-control-request-headers": "authorization,content-type",
    });
    expect(response.status).toBeLessThan(300);
    expect(response.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    expect(response.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("authorization");
  });

  test("responses, errors included, carry CORS headers for the allowed origin", async () => {
    for (const response of [
      await call("GET", `${prefix}/secured`, "bob", { origin: ORIGIN }),
      await call("GET", `${prefix}/admin`, "bob", { origin: ORIGIN }),
    ]) {
      expect(response.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    }
  });
});

describe("403 answers from the API (HTTP API routes, enforced by the handler)", () => {
  test("carry an RFC 6750 insufficient_scope challenge and say what is missing, not what the token holds", async () => {
    const response = await call("POST", "/reports", "bob", { origin: ORIGIN });
    expect(response.status).toBe(403);
    expect(response.headers.get("www-authenticate")).toBe('Bearer realm="demo", error="insufficient_scope"');
    expect(response.headers.get("access-control-expose-headers")).toContain("WWW-Authenticate");
    const body = (await response.json()) as { error: string; message: string };
    expect(body).toEqual({ error: "insufficient_scope", message: "This route requires client role secured-api/writer." });
    expect(JSON.stringify(body)).not.toContain("bob");
  });
});
