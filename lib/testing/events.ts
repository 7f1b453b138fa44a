/**
 * API Gateway events as API Gateway builds them: the three authorizer events (REST TOKEN, REST
 * REQUEST, HTTP API payload 2.0) carrying an Authorization value, and the proxy events a protected
 * handler receives, with the claims in the authorizer context exactly as the authorizer puts
 * them there (lib/apigateway/context.ts), for REST and HTTP APIs.
 */
import type {
  APIGatewayProxyEvent,
  APIGatewayProxyEventV2,
  APIGatewayRequestAuthorizerEvent,
  APIGatewayRequestAuthorizerEventV2,
  APIGatewayTokenAuthorizerEvent,
  Context,
} from "aws-lambda";
import { toAuthorizerContext } from "../apigateway/context.js";
import type { AuthorizerEvent, EventKind } from "../apigateway/events.js";
import type { KeycloakClaims } from "../claims.js";
import { realmNameOf } from "../config/trusted-issuers.js";

const API_ID = "abcdef1234";
const ACCOUNT = "123456789012";
const REGION = "eu-west-1";
const HOST = `${API_ID}.execute-api.${REGION}.amazonaws.com`;

/** The REST method ARN of `GET /secured` on stage dev. */
export const TEST_METHOD_ARN = `arn:aws:execute-api:${REGION}:${ACCOUNT}:${API_ID}/dev/GET/secured`;

/** The three authorizer event kinds, for `describe.each`. */
export const EVENT_KINDS: readonly EventKind[] = ["rest-token", "rest-request", "http-v2"];

export interface RequestLine {
  /** `GET` by default. */
  readonly method?: string;
  /** The request's path without the stage, `/secured` by default. */
  readonly path?: string;
}

/** An authorizer event carrying `authorization` (undefined: the request had no Authorization header). */
export function authorizerEvent(kind: EventKind, authorization: string | undefined, request: RequestLine = {}): AuthorizerEvent {
  const method = request.method ?? "GET";
  const path = request.path ?? "/secured";
  const methodArn = `arn:aws:execute-api:${REGION}:${ACCOUNT}:${API_ID}/dev/${method}${path}`;
  if (kind === "rest-token") {
    return { type: "TOKEN", methodArn, authorizationToken: authorization } as APIGatewayTokenAuthorizerEvent;
  }
  if (kind === "rest-request") {
    const headers: Record<string, string> = { Host: HOST };
    if (authorization !== undefined) headers.Authorization = authorization;
    return {
      type: "REQUEST",
      methodArn,
      resource: path,
      path,
      httpMethod: method,
      headers,
      multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
      pathParameters: null,
      queryStringParameters: null,
      multiValueQueryStringParameters: null,
      stageVariables: null,
      // What a REST REQUEST authorizer sees of the request (the URL a DPoP proof is bound to: https://HOST/dev/secured).
      requestContext: {
        httpMethod: method,
        path: `/dev${path}`,
        resourcePath: path,
        stage: "dev",
        domainName: HOST,
        apiId: API_ID,
        accountId: ACCOUNT,
      } as APIGatewayRequestAuthorizerEvent["requestContext"],
    };
  }
  const headers: Record<string, string> = { host: HOST };
  if (authorization !== undefined) headers.authorization = authorization;
  return {
    version: "2.0",
    type: "REQUEST",
    routeArn: `arn:aws:execute-api:${REGION}:${ACCOUNT}:${API_ID}/$default/${method}${path}`,
    identitySource: authorization === undefined ? [] : [authorization],
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: "",
    headers,
    // The method and URL of the request (a DPoP proof is bound to them: https://HOST/secured).
    requestContext: {
      http: { method, path, protocol: "HTTP/1.1", sourceIp: "203.0.113.7", userAgent: "test" },
      domainName: HOST,
      apiId: API_ID,
      accountId: ACCOUNT,
      stage: "$default",
      routeKey: `${method} ${path}`,
    } as APIGatewayRequestAuthorizerEventV2["requestContext"],
  } as APIGatewayRequestAuthorizerEventV2;
}

export interface ProtectedRequest {
  /** `GET` by default. */
  readonly method?: string;
  /** The route as declared, in API Gateway syntax: `/reports/{id}`. */
  readonly route: string;
  /** Values of the route's path parameters: `{ id: "1" }`. */
  readonly pathParameters?: Readonly<Record<string, string>>;
  /** The verified token's claims; undefined: a request that reached the handler without the authorizer. */
  readonly claims: Readonly<Record<string, unknown>> | undefined;
  readonly headers?: Readonly<Record<string, string>>;
  readonly queryStringParameters?: Readonly<Record<string, string>>;
  readonly body?: string;
}

/**
 * The proxy event a protected handler receives on a REST API (`rest`, stage dev) or an HTTP API
 * (`http`, payload 2.0), after the authorizer allowed a token with `claims`.
 */
export function protectedEvent(api: "rest", request: ProtectedRequest): APIGatewayProxyEvent;
export function protectedEvent(api: "http", request: ProtectedRequest): APIGatewayProxyEventV2;
export function protectedEvent(api: "rest" | "http", request: ProtectedRequest): APIGatewayProxyEvent | APIGatewayProxyEventV2;
export function protectedEvent(api: "rest" | "http", request: ProtectedRequest): APIGatewayProxyEvent | APIGatewayProxyEventV2 {
  const method = request.method ?? "GET";
  let path = request.route;
  for (const [name, value] of Object.entries(request.pathParameters ?? {})) path = path.replace(new RegExp(`\\{${name}\\+?\\}`), value);
  const context =
    request.claims === undefined
      ? undefined
      : toAuthorizerContext({
          claims: request.claims as KeycloakClaims,
          claimsJson: JSON.stringify(request.claims),
          // As the authorizer names it: the last path segment of the token's issuer.
          realm: typeof request.claims.iss === "string" ? realmNameOf(request.claims.iss) : "",
        });
  const headers = { ...request.headers };
  const query = request.queryStringParameters;
  if (api === "http") {
    const requestContext: Record<string, unknown> = {
      accountId: ACCOUNT,
      apiId: API_ID,
      domainName: HOST,
      http: { method, path, protocol: "HTTP/1.1", sourceIp: "203.0.113.7", userAgent: "test" },
      requestId: "test-request",
      routeKey: `${method} ${request.route}`,
      stage: "$default",
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    };
    if (context !== undefined) requestContext.authorizer = { lambda: context };
    return {
      version: "2.0",
      routeKey: `${method} ${request.route}`,
      rawPath: path,
      rawQueryString: new URLSearchParams(query ?? {}).toString(),
      headers,
      ...(query === undefined ? {} : { queryStringParameters: { ...query } }),
      ...(request.pathParameters === undefined ? {} : { pathParameters: { ...request.pathParameters } }),
      ...(request.body === undefined ? {} : { body: request.body }),
      isBase64Encoded: false,
      requestContext,
    } as unknown as APIGatewayProxyEventV2;
  }
  const requestContext: Record<string, unknown> = {
    accountId: ACCOUNT,
    apiId: API_ID,
    httpMethod: method,
    path: `/dev${path}`,
    resourcePath: request.route,
    stage: "dev",
    requestId: "test-request",
  };
  // REST puts the context's entries next to the principal API Gateway took from the policy.
  if (context !== undefined) requestContext.authorizer = { ...context, principalId: String(request.claims?.sub ?? ""), integrationLatency: 12 };
  return {
    resource: request.route,
    path,
    httpMethod: method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
    queryStringParameters: query === undefined ? null : { ...query },
    multiValueQueryStringParameters: null,
    pathParameters: request.pathParameters === undefined ? null : { ...request.pathParameters },
    stageVariables: null,
    body: request.body ?? null,
    isBase64Encoded: false,
    requestContext,
  } as unknown as APIGatewayProxyEvent;
}

/** A Lambda context for calling a handler directly. */
export function lambdaContext(overrides: Partial<Context> = {}): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: "test-function",
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:test-function`,
    memoryLimitInMB: "128",
    awsRequestId: "test-request",
    logGroupName: "/aws/lambda/test-function",
    logStreamName: "test",
    getRemainingTimeInMillis: () => 3000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
    ...overrides,
  };
}
