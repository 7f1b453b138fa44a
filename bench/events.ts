/**
 * What API Gateway and the Lambda runtime hand the authorizer: HTTP API payload 2.0 and REST
 * TOKEN/REQUEST authorizer events as they arrive (the runtime JSON-parses each one, so every
 * invocation gets fresh strings: callers parse a fresh copy per use), and a Lambda context.
 */
import { randomUUID } from "node:crypto";

export const ACCOUNT = "123456789012";
export const API_ID = "abcdef1234";
export const REST_STAGE = "prod";
export const METHOD_ARN = `arn:aws:execute-api:eu-west-1:${ACCOUNT}:${API_ID}/${REST_STAGE}/GET/secured`;

/**
 * The product's settings the bench itself turns (everything else comes from serverless.yml as is).
 * If the product renames one, change it here.
 */
export const TOKEN_CACHE_VARIABLE = "KEYCLOAK_TOKEN_CACHE_SIZE";
/** The cache size measured when the deployed default is off (serverless.yml's default until issue 15). */
export const TOKEN_CACHE_SIZE_WHEN_OFF = 1000;

export type EventKind = "http-v2" | "rest-token" | "rest-request";

const HOST = `${API_ID}.execute-api.eu-west-1.amazonaws.com`;
const USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

/**
 * The event's JSON text, as the runtime receives it. `authorization` undefined: no header.
 * `extraHeaders` (a DPoP proof, say) go on REQUEST events; a TOKEN event carries only the token.
 */
export function eventJson(kind: EventKind, authorization: string | undefined, extraHeaders: Readonly<Record<string, string>> = {}): string {
  const requestId = randomUUID();
  const now = Date.now();
  if (kind === "rest-token") {
    return JSON.stringify({ type: "TOKEN", methodArn: METHOD_ARN, authorizationToken: authorization });
  }
  const headers: Record<string, string> = {
    accept: "application/json",
    "accept-encoding": "gzip, deflate, br",
    host: HOST,
    "user-agent": USER_AGENT,
    "x-amzn-trace-id": `Root=1-${Math.floor(now / 1000).toString(16)}-${requestId.replaceAll("-", "").slice(0, 24)}`,
    "x-forwarded-for": "203.0.113.10",
    "x-forwarded-port": "443",
    "x-forwarded-proto": "https",
  };
  if (authorization !== undefined) headers.authorization = authorization;
  Object.assign(headers, extraHeaders);
  if (kind === "rest-request") {
    return JSON.stringify({
      type: "REQUEST",
      methodArn: METHOD_ARN,
      resource: "/secured",
      path: "/secured",
      httpMethod: "GET",
      headers,
      multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
      queryStringParameters: null,
      multiValueQueryStringParameters: null,
      pathParameters: null,
      stageVariables: null,
      requestContext: {
        accountId: ACCOUNT,
        apiId: API_ID,
        httpMethod: "GET",
        path: `/${REST_STAGE}/secured`,
        requestId,
        resourcePath: "/secured",
        stage: REST_STAGE,
      },
    });
  }
  return JSON.stringify({
    version: "2.0",
    type: "REQUEST",
    routeArn: `arn:aws:execute-api:eu-west-1:${ACCOUNT}:${API_ID}/$default/GET/secured`,
    identitySource: authorization === undefined ? [] : [authorization],
    routeKey: "GET /secured",
    rawPath: "/secured",
    rawQueryString: "",
    cookies: [],
    headers,
    requestContext: {
      accountId: ACCOUNT,
      apiId: API_ID,
      domainName: HOST,
      domainPrefix: API_ID,
      http: { method: "GET", path: "/secured", protocol: "HTTP/1.1", sourceIp: "203.0.113.10", userAgent: USER_AGENT },
      requestId: requestId.slice(0, 16),
      routeKey: "GET /secured",
      stage: "$default",
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
  });
}

/** The Lambda context object the runtime passes as the handler's second argument. */
export interface LambdaContext {
  callbackWaitsForEmptyEventLoop: boolean;
  readonly functionName: string;
  readonly functionVersion: string;
  readonly invokedFunctionArn: string;
  readonly memoryLimitInMB: string;
  readonly awsRequestId: string;
  readonly logGroupName: string;
  readonly logStreamName: string;
  getRemainingTimeInMillis(): number;
  done(): void;
  fail(): void;
  succeed(): void;
}

export interface LambdaIdentity {
  readonly functionName: string;
  readonly region: string;
  readonly memoryMb: number;
  /** The function's timeout (s), for getRemainingTimeInMillis. */
  readonly timeoutSeconds?: number;
}

export function lambdaContext(fn: LambdaIdentity, awsRequestId: string = randomUUID()): LambdaContext {
  const deadline = Date.now() + (fn.timeoutSeconds ?? 10) * 1000;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: fn.functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:${fn.region}:${ACCOUNT}:function:${fn.functionName}`,
    memoryLimitInMB: String(fn.memoryMb),
    awsRequestId,
    logGroupName: `/aws/lambda/${fn.functionName}`,
    logStreamName: "2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef",
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done() {},
    fail() {},
    succeed() {},
  };
}
