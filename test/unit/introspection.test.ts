/**
 * Issue 21, point 5: strict routes (`introspect: true`) check every request's token with Keycloak's
 * token introspection (RFC 7662), as the API's confidential client, through the endpoint discovery
 * names; answers are cached per token at most KEYCLOAK_INTROSPECTION_CACHE_SECONDS and never past
 * `exp`; Keycloak unreachable means 503, never an unchecked answer.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, jest, test } from "@jest/globals";
import type { APIGatewayProxyResult } from "aws-lambda";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { cachedIntrospection } from "../../lib/introspection/introspection-cache.js";
import { createIntrospectionClient, type IntrospectionResult } from "../../lib/introspection/introspection-client.js";
import { createFetchJson, createPostForm } from "../../lib/keys/fetch-json.js";
import { protectedHandler } from "../../lib/lambda-handlers.js";
import { clientRole } from "../../lib/routes/requirements.js";
import { routeTable } from "../../lib/routes/route.js";
import { lambdaContext, protectedEvent } from "../../lib/testing/events.js";
import { captureOutput } from "../helpers/captured-output.js";

interface Asked {
  readonly authorization: string | undefined;
  readonly contentType: string | undefined;
  readonly form: URLSearchParams;
}

/** A realm with Keycloak's discovery and introspection endpoint; `answer` decides each introspection. */
let server: Server;
let issuer: string;
let asked: Asked[];
let answer: (form: URLSearchParams) => { status: number; body: unknown };
let discovery: () => Record<string, unknown>;

beforeAll(async () => {
  server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const send = (status: number, body: unknown): void => {
        response.writeHead(status, { "content-type": "application/json" }).end(typeof body === "string" ? body : JSON.stringify(body));
      };
      if (request.url === "/realms/demo/.well-known/openid-configuration") return send(200, discovery());
      if (request.url === "/realms/demo/protocol/openid-connect/token/introspect" && request.method === "POST") {
        const form = new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
        asked.push({ authorization: request.headers.authorization, contentType: request.headers["content-type"], form });
        const { status, body } = answer(form);
        return send(status, body);
      }
      send(404, {});
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}/realms/demo`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  asked = [];
  discovery = () => ({
    issuer,
    jwks_uri: `${issuer}/protocol/openid-connect/certs`,
    introspection_endpoint: `${issuer}/protocol/openid-connect/token/introspect`,
  });
  answer = () => ({ status: 200, body: { active: false } });
});
afterEach(() => {
  jest.restoreAllMocks();
});

const now = (): number => Math.floor(Date.now() / 1000);
const claimsOf = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  iss: issuer,
  sub: "alice-id",
  sid: "session-1",
  jti: "token-1",
  aud: "secured-api",
  azp: "api-client",
  typ: "Bearer",
  iat: now() - 10,
  exp: now() + 300,
  resource_access: { "secured-api": { roles: ["reader"] } },
  ...overrides,
});

describe("the introspection client (RFC 7662)", () => {
  const client = (secret = "s3cret: with spaces") => {
    const http = { timeoutMs: 1000, allowHttp: false };
    return createIntrospectionClient({
      clientId: "secured-api",
      clientSecret: secret,
      fetchJson: createFetchJson(http),
      postForm: createPostForm(http, "token introspection"),
      timeoutMs: 1000,
    });
  };

  test("asks discovery's introspection_endpoint, once, as the API's client with HTTP Basic, with the token as a form", async () => {
    answer = () => ({ status: 200, body: { ...claimsOf(), active: true, client_id: "api-client", token_type: "Bearer" } });
    const introspect = client();
    const first = await introspect("the.token.value", issuer);
    await introspect("the.token.value", issuer);
    expect(first).toEqual({ active: true, claims: expect.objectContaining({ sub: "alice-id", client_id: "api-client" }) });
    expect(asked).toHaveLength(2);
    expect(asked[0]?.contentType).toBe("application/x-www-form-urlencoded");
    expect(asked[0]?.form.get("token")).toBe("the.token.value");
    expect(asked[0]?.form.get("token_type_hint")).toBe("access_token");
    // RFC 6749 2.3.1: id and secret form-urlencoded, then Basic.
    expect(Buffer.from(String(asked[0]?.authorization).replace(/^Basic /, ""), "base64").toString()).toBe("secured-api:s3cret%3A+with+spaces");
  });

  test("active false is an answer; a status other than 200, a body without a boolean active, or an endpoint elsewhere is introspection_unavailable", async () => {
    expect(await client()("t", issuer)).toEqual({ active: false });
    const unavailable = expect.objectContaining({ code: "introspection_unavailable" });
    answer = () => ({ status: 401, body: { error: "invalid_client" } });
    await expect(client()("t", issuer)).rejects.toEqual(expect.objectContaining({ code: "introspection_unavailable", httpStatus: 401 }));
    answer = () => ({ status: 200, body: { active: "true" } });
    await expect(client()("t", issuer)).rejects.toEqual(unavailable);
    answer = () => ({ status: 200, body: "not json" });
    await expect(client()("t", issuer)).rejects.toEqual(unavailable);
    discovery = () => ({ issuer, introspection_endpoint: "http://127.0.0.1:1/realms/demo/protocol/openid-connect/token/introspect" });
    await expect(client()("t", issuer)).rejects.toEqual(unavailable);
    discovery = () => ({ issuer: "https://elsewhere.example/realms/demo", introspection_endpoint: `${issuer}/protocol/openid-connect/token/introspect` });
    await expect(client()("t", issuer)).rejects.toEqual(unavailable);
  });

  test("the timeout bounds discovery and the question together", async () => {
    const slow = createServer((_request, response) => {
      setTimeout(() => response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(discovery())), 400);
    });
    await new Promise<void>((resolve) => slow.listen(0, "127.0.0.1", resolve));
    const slowIssuer = `http://127.0.0.1:${(slow.address() as AddressInfo).port}/realms/demo`;
    discovery = () => ({ issuer: slowIssuer, introspection_endpoint: `${slowIssuer}/protocol/openid-connect/token/introspect` });
    const http = { timeoutMs: 500, allowHttp: false };
    const introspect = createIntrospectionClient({
      clientId: "secured-api",
      clientSecret: "s",
      fetchJson: createFetchJson(http),
      postForm: createPostForm(http, "token introspection"),
      timeoutMs: 600,
    });
    const started = performance.now();
    // Each request (400 ms) is within its own 500 ms, but the two together are not within 600 ms.
    await expect(introspect("t", slowIssuer)).rejects.toEqual(expect.objectContaining({ code: "introspection_unavailable" }));
    expect(performance.now() - started).toBeLessThan(780);
    slow.closeAllConnections();
    await new Promise<void>((resolve) => slow.close(() => resolve()));
  });

  test("never sends a token or the secret over plain http off this machine", async () => {
    const introspect = client();
    await expect(introspect("t", "http://keycloak.example.com/realms/demo")).rejects.toEqual(expect.objectContaining({ code: "introspection_unavailable" }));
  });
});

describe("the per-token cache", () => {
  const active = (exp: number): IntrospectionResult => ({ active: true, claims: { exp } });

  test("one question per token per period; never past exp; inactive answers kept too; failures not kept", async () => {
    let clock = 1_000_000_000_000;
    const calls: string[] = [];
    let result: IntrospectionResult | Error = active(clock / 1000 + 3600);
    const cached = cachedIntrospection(
      async (token) => {
        calls.push(token);
        if (result instanceof Error) throw result;
        return result;
      },
      { periodMs: 10_000, maxEntries: 10, now: () => clock },
    );
    await cached("a", issuer);
    await cached("a", issuer);
    expect(calls).toEqual(["a"]);
    clock += 10_001;
    await cached("a", issuer);
    expect(calls).toEqual(["a", "a"]);
    // A token expiring in 2 s is asked about again after 2 s, though the period is 10 s.
    result = active(clock / 1000 + 2);
    await cached("b", issuer);
    clock += 2001;
    await cached("b", issuer);
    expect(calls.filter((token) => token === "b")).toHaveLength(2);
    result = { active: false };
    await cached("c", issuer);
    expect(await cached("c", issuer)).toEqual({ active: false });
    expect(calls.filter((token) => token === "c")).toHaveLength(1);
    result = new Error("down");
    await expect(cached("d", issuer)).rejects.toThrow("down");
    await expect(cached("d", issuer)).rejects.toThrow("down");
    expect(calls.filter((token) => token === "d")).toHaveLength(2);
  });

  test("concurrent requests for one token share one question; the number of tokens held is bounded", async () => {
    let calls = 0;
    const cached = cachedIntrospection(
      async () => {
        calls += 1;
        await new Promise((resolve) => setTimeout(resolve, 20));
        return active(now() + 600);
      },
      { periodMs: 60_000, maxEntries: 3 },
    );
    await Promise.all(Array.from({ length: 50 }, () => cached("same", issuer)));
    expect(calls).toBe(1);
    for (const token of ["t1", "t2", "t3", "t4", "t5"]) await cached(token, issuer);
    expect(cached.size()).toBe(3);
  });

  test("a period of 0 asks on every request", async () => {
    let calls = 0;
    const cached = cachedIntrospection(
      async () => {
        calls += 1;
        return active(now() + 600);
      },
      { periodMs: 0, maxEntries: 10 },
    );
    await cached("a", issuer);
    await cached("a", issuer);
    expect(calls).toBe(2);
  });
});

describe.each(["rest", "http"] as const)("a strict route on the %s API", (api) => {
  const ROUTES = routeTable([
    { method: "GET", path: "/secured", summary: "claims" },
    { method: "GET", path: "/secured/strict", summary: "strict", introspect: true },
    { method: "GET", path: "/reports", summary: "reports", introspect: true, requires: clientRole("secured-api", "reader") },
  ]);
  const env = (): Record<string, string> => ({
    KEYCLOAK_ISSUER: issuer,
    KEYCLOAK_INTROSPECTION_CLIENT_ID: "secured-api",
    KEYCLOAK_INTROSPECTION_CLIENT_SECRET: "secret",
    KEYCLOAK_INTROSPECTION_CACHE_SECONDS: "0",
  });
  const handler = (environment = env()) =>
    protectedHandler(ROUTES, async (_event, context) => ({ statusCode: 200, body: JSON.stringify({ claims: context.claims }) }), environment);
  /** A token whose payload is what the authorizer put into the context (its header and signature are not read here). */
  const tokenFor = (claims: Record<string, unknown>): string => `eyJhbGciOiJSUzI1NiJ9.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.c2ln`;
  const subjectOf = (token: string | null): unknown => JSON.parse(Buffer.from(String(token).split(".")[1] ?? "", "base64url").toString() || "{}").sub;
  const call = async (
    h: ReturnType<typeof handler>,
    route: string,
    claims: Record<string, unknown>,
    token = tokenFor(claims),
  ): Promise<APIGatewayProxyResult> =>
    (await h(protectedEvent(api, { route, claims, headers: { Authorization: `Bearer ${token}` } }) as never, lambdaContext())) as APIGatewayProxyResult;

  test("active: 200, and the handler gets Keycloak's claims (roles as they are now)", async () => {
    answer = (form) => ({
      status: 200,
      body:
        subjectOf(form.get("token")) === "alice-id"
          ? { ...claimsOf({ resource_access: { "secured-api": { roles: ["writer"] } } }), active: true, username: "alice" }
          : { active: false },
    });
    const response = await call(handler(), "/secured/strict", claimsOf());
    expect(response.statusCode).toBe(200);
    const { claims } = JSON.parse(response.body) as { claims: Record<string, unknown> };
    expect(claims).toMatchObject({ sub: "alice-id", username: "alice", resource_access: { "secured-api": { roles: ["writer"] } } });
    expect(asked).toHaveLength(1);
  });

  test("the route's requirement is judged on Keycloak's answer: a role taken away since the token was issued is 403", async () => {
    answer = () => ({ status: 200, body: { ...claimsOf({ resource_access: { "secured-api": { roles: [] } } }), active: true } });
    expect((await call(handler(), "/reports", claimsOf())).statusCode).toBe(403);
  });

  test("inactive (a logout, a disabled user): 401 with a challenge, token_inactive logged; the plain route is not asked", async () => {
    const output = captureOutput();
    const h = handler();
    const response = await call(h, "/secured/strict", claimsOf());
    expect(response.statusCode).toBe(401);
    expect(response.headers?.["WWW-Authenticate"] ?? response.headers?.["www-authenticate"]).toContain('error="invalid_token"');
    expect(output.records().some((record) => record.reason === "token_inactive" && record.stage === "introspection")).toBe(true);
    expect(output.text()).not.toContain(tokenFor(claimsOf()).split(".")[1]?.slice(0, 40));
    expect((await call(h, "/secured", claimsOf())).statusCode).toBe(200);
    expect(asked).toHaveLength(1);
  });

  test("the Authorization header must carry the very token the authorizer verified: another one is refused before Keycloak is asked", async () => {
    answer = () => ({ status: 200, body: { ...claimsOf(), active: true } });
    expect((await call(handler(), "/secured/strict", claimsOf(), tokenFor(claimsOf({ sub: "mallory" })))).statusCode).toBe(401);
    expect((await call(handler(), "/secured/strict", claimsOf(), "not-a-jwt")).statusCode).toBe(401);
    expect(asked).toHaveLength(0);
  });

  test("a handler that changes its claims does not change the cached answer the next request gets", async () => {
    answer = () => ({ status: 200, body: { ...claimsOf({ resource_access: { "secured-api": { roles: [] } } }), active: true } });
    const cached = protectedHandler(
      ROUTES,
      async (_event, context) => {
        (context.claims.resource_access as Record<string, { roles: string[] }>)["secured-api"]?.roles.push("reader");
        return { statusCode: 200, body: "{}" };
      },
      { ...env(), KEYCLOAK_INTROSPECTION_CACHE_SECONDS: "60" },
    );
    const claims = claimsOf();
    expect((await call(cached, "/secured/strict", claims)).statusCode).toBe(200);
    expect((await call(cached, "/reports", claims)).statusCode).toBe(403);
    expect(asked).toHaveLength(1);
  });

  test("an answer about another subject, session or realm is refused", async () => {
    for (const other of [{ sub: "mallory" }, { sid: "other-session" }, { iss: "https://elsewhere.example/realms/demo" }, { exp: now() - 3600 }]) {
      answer = () => ({ status: 200, body: { ...claimsOf(other), active: true } });
      expect([other, (await call(handler(), "/secured/strict", claimsOf())).statusCode]).toEqual([other, 401]);
    }
  });

  test("Keycloak unreachable or refusing our client: 503, never the handler; logged as introspection_unavailable with the cause", async () => {
    const output = captureOutput();
    answer = () => ({ status: 401, body: { error: "invalid_client" } });
    const response = await call(handler(), "/secured/strict", claimsOf());
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body)).toEqual(expect.objectContaining({ error: "temporarily_unavailable" }));
    const failed = output.records().find((record) => record.reason === "introspection_unavailable");
    expect(JSON.stringify(failed)).toContain("HTTP 401");
    expect(output.text()).not.toContain(tokenFor(claimsOf()).split(".")[1]?.slice(0, 40));
    expect(output.text()).not.toContain("secret");
    const down = await call(
      handler({ ...env(), KEYCLOAK_ISSUER: "http://127.0.0.1:1/realms/demo" }),
      "/secured/strict",
      claimsOf({ iss: "http://127.0.0.1:1/realms/demo" }),
    );
    expect(down.statusCode).toBe(503);
  });

  test("without client credentials: strict routes are 503 (said once at cold start), the others still work", async () => {
    const output = captureOutput();
    const h = handler({ KEYCLOAK_ISSUER: issuer });
    expect(output.records().some((record) => record.reason === "introspection_unavailable" && String(record.routes).includes("GET /secured/strict"))).toBe(
      true,
    );
    expect((await call(h, "/secured/strict", claimsOf())).statusCode).toBe(503);
    expect((await call(h, "/secured", claimsOf())).statusCode).toBe(200);
    expect(asked).toHaveLength(0);
  });

  test("a client id without its secret is a configuration error at cold start", () => {
    expect(() => handler({ KEYCLOAK_ISSUER: issuer, KEYCLOAK_INTROSPECTION_CLIENT_ID: "secured-api" })).toThrow(
      expect.objectContaining({ code: "invalid_config" }),
    );
  });
});
