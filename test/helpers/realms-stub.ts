/**
 * Many Keycloak realms on one local server, as a multi-tenant Keycloak serves them: discovery and
 * certs under `/realms/<name>/` for the realms created, 404 for any other realm (as Keycloak
 * answers for a realm that does not exist), and every request counted.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { generateRsaKey, type TestKey } from "./tokens.js";

export interface RealmsStub {
  /** `http://127.0.0.1:<port>`; realms are `${origin}/realms/<name>`. */
  readonly origin: string;
  /** The `{realm}` pattern for this server. */
  readonly pattern: string;
  issuer(name: string): string;
  /** Create (or replace the keys of) a realm; returns its signing key. */
  create(name: string, key?: TestKey): TestKey;
  remove(name: string): void;
  /** Every request, by path. */
  readonly requests: string[];
  close(): Promise<void>;
}

export async function startRealmsStub(): Promise<RealmsStub> {
  const realms = new Map<string, TestKey>();
  const requests: string[] = [];
  let origin = "";
  const server = createServer((request, response) => {
    const path = request.url ?? "";
    requests.push(path);
    const match = /^\/realms\/([^/]+)\/(\.well-known\/openid-configuration|protocol\/openid-connect\/certs)$/.exec(path);
    const key = match === null ? undefined : realms.get(decodeURIComponent(match[1] as string));
    if (match === null || key === undefined) {
      response.writeHead(404, { "content-type": "application/json" }).end('{"error":"Realm does not exist"}');
      return;
    }
    const issuer = `${origin}/realms/${match[1] as string}`;
    const body = match[2] === "protocol/openid-connect/certs" ? { keys: [key.jwk] } : { issuer, jwks_uri: `${issuer}/protocol/openid-connect/certs` };
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    pattern: `${origin}/realms/{realm}`,
    issuer: (name) => `${origin}/realms/${name}`,
    create(name, key = generateRsaKey()) {
      realms.set(name, key);
      return key;
    },
    remove(name) {
      realms.delete(name);
    },
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
