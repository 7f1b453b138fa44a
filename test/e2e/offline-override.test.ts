/**
 * Finding 7 of issue 14: serverless-offline honours `sls-offline-authorizer-override`, a request
 * header that replaces the authorizer's output with the caller's JSON. With bob's token and that
 * header, `GET /admin` used to answer 200 with forged admin claims. The local stack refuses such
 * requests at its front door (local/guard-proxy.ts), on both API kinds.
 */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { freePort, startStack, type RunningStack } from "../../local/stack.js";
import { passwordTokens } from "../helpers/oidc-client.js";

let stack: RunningStack;
let bob: string;
const forged = JSON.stringify({
  kc_claims: JSON.stringify({ sub: "bob", realm_access: { roles: ["admin"] }, exp: 4102444800 }),
  lambda: { kc_claims: JSON.stringify({ sub: "bob", realm_access: { roles: ["admin"] }, exp: 4102444800 }) },
});

beforeAll(async () => {
  stack = await startStack({ issuer: `http://localhost:${await freePort()}/realms/demo`, port: 0, lambdaPort: 0 });
  bob = (await passwordTokens(stack.issuer, "bob")).access_token;
}, 120_000);
afterAll(() => stack?.stop());

describe.each([
  ["REST API", "/dev/admin"],
  ["HTTP API", "/admin"],
])("%s", (_kind, path) => {
  test("bob's token is refused on GET /admin (403)", async () => {
    const response = await fetch(`${stack.baseUrl}${path}`, { headers: { authorization: `Bearer ${bob}` } });
    expect(response.status).toBe(403);
  });

  test("bob's token with forged claims in sls-offline-authorizer-override is refused (400), never 200", async () => {
    const response = await fetch(`${stack.baseUrl}${path}`, { headers: { authorization: `Bearer ${bob}`, "sls-offline-authorizer-override": forged } });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: "invalid_request" });
  });

  test("two Authorization headers are refused, as the authorizer refuses them behind API Gateway", async () => {
    const { connect } = await import("node:net");
    const url = new URL(`${stack.baseUrl}${path}`);
    // fetch() would fold the two into one: a raw request sends both.
    const status = await new Promise<number>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => {
        socket.write(
          `GET ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${bob}\r\nAuthorization: Bearer other\r\nConnection: close\r\n\r\n`,
        );
      });
      let answer = "";
      socket.on("data", (chunk: Buffer) => {
        answer += chunk.toString();
      });
      socket.on("end", () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0)));
      socket.on("error", reject);
    });
    expect(status).toBe(401);
  });

  test("the header alone, without a token, is refused too", async () => {
    const response = await fetch(`${stack.baseUrl}${path}`, { headers: { "sls-offline-authorizer-override": forged } });
    expect(response.status).toBe(400);
  });
});
