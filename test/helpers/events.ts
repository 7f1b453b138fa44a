import type { APIGatewayRequestAuthorizerEvent, APIGatewayRequestAuthorizerEventV2 } from "aws-lambda";
import type { AuthorizerEvent } from "../../lib/apigateway/events.js";

/** Authorizer events for our tests: the public testing module's (lib/testing). */
export { authorizerEvent, EVENT_KINDS, TEST_METHOD_ARN as METHOD_ARN } from "../../lib/testing/index.js";

export const API_HOST = "abcdef1234.execute-api.eu-west-1.amazonaws.com";

export interface RequestEventOptions {
  /** The Authorization value; none when undefined. */
  readonly authorization?: string | undefined;
  /** More headers (a `DPoP` proof, say), as the client sent them. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Repeated headers, REST's `multiValueHeaders` (HTTP APIs join them with commas instead). */
  readonly repeated?: Readonly<Record<string, readonly string[]>>;
  readonly method?: string;
  /** The declared route (`/reports/{id}`) and the path the client called (`/reports/7`). */
  readonly route?: string;
  readonly path?: string;
  /** The host the client called; the execute-api host by default. */
  readonly host?: string;
  /** REST: the stage prefix of the called path (`/dev`), or a custom domain's base path (`/v1`, or `` at its root). */
  readonly basePath?: string;
}

/**
 * A REST REQUEST or HTTP API authorizer event with everything a DPoP proof is bound to, as API
 * Gateway sends it: the method, the host (requestContext.domainName and Host), and the path the
 * client called (REST requestContext.path with the stage, HTTP API rawPath).
 */
export function requestEvent(kind: "rest-request" | "http-v2", options: RequestEventOptions = {}): AuthorizerEvent {
  const method = options.method ?? "GET";
  const route = options.route ?? "/secured";
  const path = options.path ?? route;
  const host = options.host ?? API_HOST;
  const headers: Record<string, string> = { host, "x-forwarded-proto": "https", ...options.headers };
  if (options.authorization !== undefined) headers.authorization = options.authorization;
  if (kind === "rest-request") {
    const named = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name === "host" ? "Host" : name, value]));
    const multiValueHeaders: Record<string, string[]> = Object.fromEntries(Object.entries(named).map(([name, value]) => [name, [value]]));
    for (const [name, values] of Object.entries(options.repeated ?? {})) multiValueHeaders[name] = [...values];
    const basePath = options.basePath ?? "/dev";
    return {
      type: "REQUEST",
      methodArn: `arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/dev/${method}${path}`,
      resource: route,
      path,
      httpMethod: method,
      headers: named,
      multiValueHeaders,
      pathParameters: null,
      queryStringParameters: null,
      multiValueQueryStringParameters: null,
      stageVariables: null,
      requestContext: {
        accountId: "123456789012",
        apiId: "abcdef1234",
        domainName: host,
        httpMethod: method,
        path: `${basePath}${path}`,
        stage: "dev",
        resourcePath: route,
      },
    } as unknown as APIGatewayRequestAuthorizerEvent;
  }
  for (const [name, values] of Object.entries(options.repeated ?? {})) headers[name] = values.join(",");
  return {
    version: "2.0",
    type: "REQUEST",
    routeArn: `arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/$default/${method}${path}`,
    identitySource: options.authorization === undefined ? [] : [options.authorization],
    routeKey: `${method} ${route}`,
    rawPath: `${options.basePath ?? ""}${path}`,
    rawQueryString: "",
    headers,
    requestContext: {
      accountId: "123456789012",
      apiId: "abcdef1234",
      domainName: host,
      http: { method, path },
      routeKey: `${method} ${route}`,
      stage: "$default",
    },
  } as unknown as APIGatewayRequestAuthorizerEventV2;
}

/** The URL a client calls for `requestEvent(kind, options)`'s defaults: what its proofs' `htu` says. */
export function requestUrl(kind: "rest-request" | "http-v2", options: Pick<RequestEventOptions, "path" | "host" | "basePath"> = {}): string {
  const basePath = options.basePath ?? (kind === "rest-request" ? "/dev" : "");
  return `https://${options.host ?? API_HOST}${basePath}${options.path ?? "/secured"}`;
}
