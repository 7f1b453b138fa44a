import type { APIGatewayAuthorizerResult, APIGatewaySimpleAuthorizerWithContextResult } from "aws-lambda";
import type { AuthorizerContext } from "./context.js";

/**
 * The ARN of every method and path of the stage that `methodArn` belongs to.
 * API Gateway caches a REST authorizer's policy per token and replays it on other routes, so a
 * policy naming only the first `methodArn` would wrongly deny the token's next route.
 * Returns undefined when the ARN is not an execute-api method ARN.
 *
 * @example
 * stageArn("arn:aws:execute-api:eu-west-1:123456789012:abc123/dev/GET/secured")
 * // "arn:aws:execute-api:eu-west-1:123456789012:abc123/dev/*"
 */
export function stageArn(methodArn: string): string | undefined {
  const match = /^(arn:aws[\w-]*:execute-api:[\w-]+:[^:]+:[^/]+)\/([^/]+)\//.exec(methodArn);
  return match === null ? undefined : `${match[1]}/${match[2]}/*`;
}

/** REST (TOKEN and REQUEST) answer: Allow the stage for this principal, claims in the context. */
export function allowPolicy(principalId: string, resource: string, context: AuthorizerContext): APIGatewayAuthorizerResult {
  return {
    principalId,
    policyDocument: {
      Version: "2012-10-17",
      Statement: [{ Action: "execute-api:Invoke", Effect: "Allow", Resource: resource }],
    },
    context,
  };
}

/** HTTP API payload 2.0 simple response. */
export function allowSimple(context: AuthorizerContext): APIGatewaySimpleAuthorizerWithContextResult<AuthorizerContext> {
  return { isAuthorized: true, context };
}
