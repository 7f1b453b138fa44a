/**
 * A transparent HTTP proxy in front of an identity provider that counts (and timestamps) the
 * discovery and JWKS requests passing through, so end-to-end tests can assert how often the
 * authorizer, running in another process, asked for the realm's keys.
 */
import { createServer, request as httpRequest } from "node:http";

export interface CountingProxy {
  /** Requests forwarded since the last reset, by endpoint. */
  readonly counts: { discovery: number; jwks: number };
  /** `Date.now()` of the latest JWKS request, or undefined. */
  readonly lastJwksAt: number | undefined;
  reset(): void;
  close(): Promise<void>;
}

export async function startCountingProxy(listenPort: number, targetPort: number, host = "127.0.0.1"): Promise<CountingProxy> {
  const counts = { discovery: 0, jwks: 0 };
  let lastJwksAt: number | undefined;
  const server = createServer((incoming, outgoing) => {
    const path = (incoming.url ?? "/").split("?")[0] ?? "/";
    if (path.endsWith("/.well-known/openid-configuration")) counts.discovery += 1;
    if (path.endsWith("/protocol/openid-connect/certs")) {
      counts.jwks += 1;
      lastJwksAt = Date.now();
    }
    const upstream = httpRequest({ host, port: targetPort, method: incoming.method, path: incoming.url, headers: incoming.headers }, (response) => {
      outgoing.writeHead(response.statusCode ?? 502, response.headers);
      response.pipe(outgoing);
    });
    upstream.on("error", () => {
      if (!outgoing.headersSent) outgoing.writeHead(502);
      outgoing.end();
    });
    incoming.pipe(upstream);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listenPort, host, () => resolve());
  });
  return {
    counts,
    get lastJwksAt() {
      return lastJwksAt;
    },
    reset() {
      counts.discovery = 0;
      counts.jwks = 0;
      lastJwksAt = undefined;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
