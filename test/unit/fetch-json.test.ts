import { afterEach, describe, expect, test } from "@jest/globals";
import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { assertFetchAllowed, createFetchJson, isLoopbackHost } from "../../lib/keys/fetch-json.js";
import { KeysUnavailableError } from "../../lib/errors.js";

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});
async function serve(listener: RequestListener): Promise<string> {
  const server = createServer(listener);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/doc`;
}
const fetchJson = createFetchJson({ timeoutMs: 300, allowHttp: false, maxBytes: 1024 });

describe("transport policy", () => {
  test.each(["localhost", "127.0.0.1", "127.9.8.7", "[::1]", "api.localhost"])("%s is loopback", (host) => {
    expect(isLoopbackHost(host)).toBe(true);
  });
  test.each(["example.com", "10.0.0.1", "128.0.0.1", "localhost.example.com", "0.0.0.0"])("%s is not loopback", (host) => {
    expect(isLoopbackHost(host)).toBe(false);
  });
  test("https is always allowed; http only to loopback or with the opt-in", () => {
    expect(() => assertFetchAllowed(new URL("https://kc.example.com/x"), false)).not.toThrow();
    expect(() => assertFetchAllowed(new URL("http://localhost:8080/x"), false)).not.toThrow();
    expect(() => assertFetchAllowed(new URL("http://kc.example.com/x"), false)).toThrow(KeysUnavailableError);
    expect(() => assertFetchAllowed(new URL("http://kc.example.com/x"), true)).not.toThrow();
    expect(() => assertFetchAllowed(new URL("file:///etc/passwd"), true)).toThrow(KeysUnavailableError);
  });
});

describe("fetching", () => {
  test("a JSON 200 is returned parsed", async () => {
    const url = await serve((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end('{"keys":[]}'));
    await expect(fetchJson(url)).resolves.toEqual({ keys: [] });
  });
  test.each([
    ["a 500", (_req: unknown, res: import("node:http").ServerResponse) => res.writeHead(500).end("{}")],
    ["a 404", (_req: unknown, res: import("node:http").ServerResponse) => res.writeHead(404).end("{}")],
    ["a redirect (never followed)", (_req: unknown, res: import("node:http").ServerResponse) => res.writeHead(302, { location: "http://127.0.0.1:1/" }).end()],
    ["an HTML page", (_req: unknown, res: import("node:http").ServerResponse) => res.writeHead(200).end("<html></html>")],
    ["a body over the cap", (_req: unknown, res: import("node:http").ServerResponse) => res.writeHead(200).end(`{"pad":"${"x".repeat(5000)}"}`)],
    [
      "a declared length over the cap",
      (_req: unknown, res: import("node:http").ServerResponse) => res.writeHead(200, { "content-length": "999999" }).end("{}"),
    ],
  ])("%s is a KeysUnavailableError", async (_name, listener) => {
    const url = await serve(listener as RequestListener);
    await expect(fetchJson(url)).rejects.toBeInstanceOf(KeysUnavailableError);
  });
  test("a server that never answers times out within the budget", async () => {
    const url = await serve(() => undefined);
    const started = Date.now();
    await expect(fetchJson(url)).rejects.toBeInstanceOf(KeysUnavailableError);
    expect(Date.now() - started).toBeLessThan(2000);
  });
  test("a trickling body is cut at the total budget", async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200);
      const timer = setInterval(() => res.write(" "), 50);
      res.on("close", () => clearInterval(timer));
    });
    await expect(fetchJson(url)).rejects.toBeInstanceOf(KeysUnavailableError);
  });
  test("connection refused", async () => {
    await expect(fetchJson("http://127.0.0.1:1/doc")).rejects.toBeInstanceOf(KeysUnavailableError);
  });
});

test("a kept-alive socket the server dropped is retried once, on a fresh one", async () => {
  const { createServer } = await import("node:http");
  const served = new WeakSet<object>();
  let drops = 0;
  let dropEvery = true;
  const server = createServer((request, response) => {
    // Second request on a socket: the server has "closed" it meanwhile.
    if (served.has(request.socket) && (dropEvery || drops === 0)) {
      drops += 1;
      request.socket.destroy();
      return;
    }
    served.add(request.socket);
    response.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/certs`;
  try {
    const fetchJson = createFetchJson({ timeoutMs: 2000, allowHttp: false });
    await expect(fetchJson(url)).resolves.toEqual({ ok: true });
    dropEvery = false;
    await expect(fetchJson(url)).resolves.toEqual({ ok: true });
    expect(drops).toBe(1);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
