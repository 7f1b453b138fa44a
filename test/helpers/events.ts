import type { APIGatewayRequestAuthorizerEvent, APIGatewayRequestAuthorizerEventV2, APIGatewayTokenAuthorizerEvent } from "aws-lambda";
import type { AuthorizerEvent, EventKind } from "../../lib/apigateway/events.js";

export const METHOD_ARN = "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/dev/GET/secured";

/** Authorizer events as API Gateway sends them, carrying `authorization` (undefined: no header). */
export function authorizerEvent(kind: EventKind, authorization: string | undefined): AuthorizerEvent {
  if (kind === "rest-token") {
    return { type: "TOKEN", methodArn: METHOD_ARN, authorizationToken: authorization } as APIGatewayTokenAuthorizerEvent;
  }
  if (kind === "rest-request") {
    const headers: Record<string, string> = { Host: "abcdef1234.execute-api.eu-west-1.amazonaws.com" };
    if (authorization !== undefined) headers.Authorization = authorization;
    return {
      type: "REQUEST",
      methodArn: METHOD_ARN,
      resource: "/secured",
      path: "/secured",
      httpMethod: "GET",
      headers,
      multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
      pathParameters: null,
      queryStringParameters: null,
      multiValueQueryStringParameters: null,
      stageVariables: null,
      requestContext: {} as APIGatewayRequestAuthorizerEvent["requestContext"],
    };
  }
  const headers: Record<string, string> = { host: "abcdef1234.execute-api.eu-west-1.amazonaws.com" };
  if (authorization !== undefined) headers.authorization = authorization;
  return {
    version: "2.0",
    type: "REQUEST",
    routeArn: "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/$default/GET/secured",
    identitySource: authorization === undefined ? [] : [authorization],
    routeKey: "GET /secured",
    rawPath: "/secured",
    rawQueryString: "",
    headers,
    requestContext: {} as APIGatewayRequestAuthorizerEventV2["requestContext"],
  } as APIGatewayRequestAuthorizerEventV2;
}

export const EVENT_KINDS: readonly EventKind[] = ["rest-token", "rest-request", "http-v2"];
