/**
 * A realm's discovery document and JWKS, served on a free loopback port and laid out like
 * Keycloak's (`<issuer>/.well-known/openid-configuration`, `<issuer>/protocol/openid-connect/certs`),
 * for authorizers built from the environment (`authorizerHandler(routes, env)`).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface JwksServer {
  /** `http://127.0.0.1:<port><realmPath>`: what KEYCLOAK_ISSUER should be (plain http is allowed to loopback). */
  readonly issuer: string;
  readonly jwksUri: string;
  /** Requests served, by endpoint. */
  readonly counts: { discovery: number; jwks: number };
  /** Replace what the certs endpoint publishes. */
  setKeys(keys: readonly Record<string, unknown>[]): void;
  /** Override any response; return true when handled. */
  override(handler: ((request: IncomingMessage, response: ServerResponse) => boolean) | undefined): void;
  /** Delay every answer, to hold many callers in flight at once. */
  setDelay(ms: number): void;
  close(): Promise<void>;
}

/** Starts serving `keys` (public JWKs, e.g. `generateRsaKey().jwk`). Close it in `afterAll`. */
export async function startJwksServer(keys: readonly Record<string, unknown>[], realmPath = "/realms/test"): Promise<JwksServer> {
  let published = keys;
  let delay = 0;
  let custom: ((request: IncomingMessage, response: ServerResponse) => boolean) | undefined;
  const counts = { discovery: 0, jwks: 0 };
  let issuer = "";
  const server = createServer((request, response) => {
    const answer = (): void => {
      if (custom?.(request, response)) return;
      if (request.url === `${realmPath}/.well-known/openid-configuration`) {
        counts.discovery += 1;
        json(response, { issuer, jwks_uri: `${issuer}/protocol/openid-connect/certs`, token_endpoint: `${issuer}/protocol/openid-connect/token` });
      } else if (request.url === `${realmPath}/protocol/openid-connect/certs`) {
        counts.jwks += 1;
        json(response, { keys: published });
      } else {
        response.writeHead(404).end();
      }
    };
    if (delay > 0) setTimeout(answer, delay);
    else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  issuer = `http://127.0.0.1:${port}${realmPath}`;
  return {
    issuer,
    jwksUri: `${issuer}/protocol/openid-connect/certs`,
    counts,
    setKeys: (next) => {
      published = next;
    },
    override: (handler) => {
      custom = handler;
    },
    setDelay: (ms) => {
      delay = ms;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function json(response: ServerResponse, body: unknown): void {
  response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
}
