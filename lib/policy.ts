import type { APIGatewayAuthorizerResult, APIGatewaySimpleAuthorizerWithContextResult } from "aws-lambda";
import type { AuthorizerContext } from "./context.js";
import { isSatisfied } from "./requirements.js";
import type { Route } from "./routes.js";
import type { KeycloakClaims } from "./verifier.js";

/** `arn:aws:execute-api:region:account:apiId` and the stage, from any method ARN of the API. */
export interface StageArn {
  readonly api: string;
  readonly stage: string;
}

/**
 * @example
 * parseMethodArn("arn:aws:execute-api:eu-west-1:123456789012:abc123/dev/GET/secured")
 * // { api: "arn:aws:execute-api:eu-west-1:123456789012:abc123", stage: "dev" }
 */
export function parseMethodArn(methodArn: string): StageArn | undefined {
  const match = /^(arn:aws[\w-]*:execute-api:[\w-]+:[^:]+:[^/]+)\/([^/]+)\//.exec(methodArn);
  return match === null ? undefined : { api: match[1] as string, stage: match[2] as string };
}

/** The execute-api ARN of a route in a stage; path parameters become `*`. */
export function routeArn({ api, stage }: StageArn, route: Pick<Route, "method" | "path">): string {
  return `${api}/${stage}/${route.method}/${route.path.replace(/^\//, "").replace(/\{[^}]+\}/g, "*")}`;
}

/**
 * The REST answer for a verified token: Allow on exactly the routes this token may call, and
 * nothing else. API Gateway caches this policy per token and replays it on the token's other
 * routes, so it must not depend on the route of the first request (`methodArn` only names the
 * stage). A token that may call no route gets an explicit Deny on the whole stage (a policy needs
 * at least one statement).
 */
export function routePolicy(
  principalId: string,
  stage: StageArn,
  claims: KeycloakClaims,
  routes: readonly Route[],
  context: AuthorizerContext,
): APIGatewayAuthorizerResult {
  const allowed = routes.filter((route) => route.requires === undefined || isSatisfied(route.requires, claims)).map((route) => routeArn(stage, route));
  return {
    principalId,
    policyDocument: {
      Version: "2012-10-17",
      Statement:
        allowed.length > 0
          ? [{ Action: "execute-api:Invoke", Effect: "Allow", Resource: allowed }]
          : [{ Action: "execute-api:Invoke", Effect: "Deny", Resource: `${stage.api}/${stage.stage}/*` }],
    },
    context,
  };
}

/** HTTP API payload 2.0 simple response. */
export function allowSimple(context: AuthorizerContext): APIGatewaySimpleAuthorizerWithContextResult<AuthorizerContext> {
  return { isAuthorized: true, context };
}
