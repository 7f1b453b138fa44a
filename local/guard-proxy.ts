/**
 * The local stack's front door: a small HTTP proxy on the port `npm start` prints, in front of
 * serverless-offline on a private one. It exists for one reason: serverless-offline honours a
 * request header, `sls-offline-authorizer-override`, that replaces the authorizer's output with
 * whatever JSON the caller sends, so any valid token holder could call `GET /admin` with forged
 * admin claims. API Gateway has no such header; locally, requests that carry it are refused here
 * with 400 before serverless-offline sees them. Everything else passes through unchanged.
 */
import { createServer, request as forward, Agent, type IncomingMessage, type Server, type ServerResponse } from "node:http";

/** Headers that make serverless-offline trust the caller instead of the authorizer. */
export const OVERRIDE_HEADERS = ["sls-offline-authorizer-override"] as const;

function countHeader(rawHeaders: readonly string[], name: string): number {
  let count = 0;
  for (let index = 0; index < rawHeaders.length; index += 2) if (rawHeaders[index]?.toLowerCase() === name) count += 1;
  return count;
}

export interface GuardProxy {
  readonly port: number;
  close(): Promise<void>;
}

export async function startGuardProxy(options: { host: string; port: number; upstreamPort: number }): Promise<GuardProxy> {
  const agent = new Agent({ keepAlive: true });
  const server: Server = createServer((incoming: IncomingMessage, response: ServerResponse) => {
    if (OVERRIDE_HEADERS.some((name) => incoming.headers[name] !== undefined)) {
      incoming.resume();
      response.writeHead(400, { "content-type": "application/json" });
      response.end(
        JSON.stringify({
          error: "invalid_request",
          message: "The sls-offline-authorizer-override header is not accepted: identities come from the authorizer only.",
        }),
      );
      return;
    }
    // Node keeps only the first of two Authorization headers; API Gateway would see both, and the
    // authorizer refuses such a request as ambiguous. Refused here so that local runs agree.
    if (countHeader(incoming.rawHeaders, "authorization") > 1) {
      incoming.resume();
      response.writeHead(401, { "content-type": "application/json" });
      response.end(JSON.stringify({ error: "invalid_request", message: "More than one Authorization header." }));
      return;
    }
    const upstream = forward(
      { host: "127.0.0.1", port: options.upstreamPort, method: incoming.method, path: incoming.url, headers: incoming.headers, agent },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
        answer.pipe(response);
      },
    );
    upstream.on("error", () => {
      if (!response.headersSent) response.writeHead(502, { "content-type": "application/json" });
      response.end(JSON.stringify({ error: "bad_gateway", message: "serverless-offline did not answer." }));
    });
    incoming.pipe(upstream);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  return {
    port: typeof address === "object" && address !== null ? address.port : options.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        agent.destroy();
        server.close(() => resolve());
      }),
  };
}
