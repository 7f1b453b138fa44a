import type {
  APIGatewayAuthorizerResult,
  APIGatewayRequestAuthorizerEvent,
  APIGatewayRequestAuthorizerEventV2,
  APIGatewaySimpleAuthorizerWithContextResult,
  APIGatewayTokenAuthorizerEvent,
} from "aws-lambda";
import { authorizationHeader, bearerToken } from "./bearer-token.js";
import { toAuthorizerContext, type AuthorizerContext } from "./context.js";
import { AuthorizerError, KeysUnavailableError, UnsupportedEventError } from "./errors.js";
import { jsonLogger, type Logger } from "./log.js";
import { logObserver, type DecisionObserver } from "./decision-observer.js";
import { allowSimple, parseMethodArn, routePolicy } from "./policy.js";
import { ROUTES, type Route } from "./routes.js";
import type { AccessTokenVerifier } from "./verifier.js";
import { translateError } from "./verifier.js";

export type AuthorizerEvent = APIGatewayTokenAuthorizerEvent | APIGatewayRequestAuthorizerEvent | APIGatewayRequestAuthorizerEventV2;
export type AuthorizerResult = APIGatewayAuthorizerResult | APIGatewaySimpleAuthorizerWithContextResult<AuthorizerContext>;

/** Which of the three API Gateway authorizer events this is, told apart by shape. */
export type EventKind = "rest-token" | "rest-request" | "http-v2";

/** The exact error message API Gateway turns into a 401 (any other thrown error is a 500). */
export const UNAUTHORIZED = "Unauthorized";

export interface AuthorizerHandlerDependencies {
  readonly verifier: AccessTokenVerifier;
  /** Where decisions go (logs, metrics); by default refusals and failures as JSON log lines. */
  readonly observer?: DecisionObserver;
  /** Shorthand for `observer: logObserver(log)`. */
  readonly log?: Logger;
  /** The routes REST policies are built from; lib/routes.ts by default. */
  readonly routes?: readonly Route[];
}

/**
 * The authorizer: event -> Authorization value -> token -> verified claims -> Allow.
 * Every rejection throws exactly `Error("Unauthorized")` (API Gateway's 401) after one log line
 * with the reason code; unavailable keys throw a different error, which API Gateway answers with
 * a 500, so an outage of Keycloak is never mistaken for a bad token, nor turned into an Allow.
 */
export function createAuthorizerHandler({ verifier, log = jsonLogger, observer = logObserver(log), routes = ROUTES }: AuthorizerHandlerDependencies) {
  return async function authorizerHandler(event: AuthorizerEvent, context?: { awsRequestId?: string }): Promise<AuthorizerResult> {
    const started = performance.now();
    const kind = eventKind(event);
    try {
      if (kind === undefined) throw new UnsupportedEventError("not an API Gateway authorizer event");
      const { claims, claimsJson, principal, kid } = await verifier.verify(bearerToken(authorizationValue(event, kind)));
      const authorizerContext = toAuthorizerContext(claims, claimsJson);
      let result: AuthorizerResult;
      if (kind === "http-v2") {
        // HTTP API: the result cache is keyed by the token alone, so the answer must not depend on
        // the route; the protected handler enforces each route's requirement (lib/route-access.ts).
        result = allowSimple(authorizerContext);
      } else {
        const stage = parseMethodArn((event as APIGatewayTokenAuthorizerEvent | APIGatewayRequestAuthorizerEvent).methodArn);
        if (stage === undefined) throw new UnsupportedEventError("methodArn is not an execute-api ARN");
        // The verifier refused tokens without the principal claim: no shared fallback identity.
        result = routePolicy(principal, stage, claims, routes, authorizerContext);
      }
      observer.allowed({ kind, event, kid, claims, latencyMs: performance.now() - started, requestId: context?.awsRequestId });
      return result;
    } catch (error) {
      const failure = error instanceof AuthorizerError ? error : translateError(error);
      const record = { kind, event, error: failure, latencyMs: performance.now() - started, requestId: context?.awsRequestId };
      if (failure instanceof KeysUnavailableError) {
        observer.failed(record);
        throw new Error("Authorizer failure: keys unavailable");
      }
      observer.refused(record);
      throw new Error(UNAUTHORIZED);
    }
  };
}

export function eventKind(event: unknown): EventKind | undefined {
  if (typeof event !== "object" || event === null) return undefined;
  const candidate = event as Record<string, unknown>;
  if (candidate.version === "2.0" && candidate.type === "REQUEST") return "http-v2";
  if (typeof candidate.methodArn !== "string") return undefined;
  if (candidate.type === "TOKEN") return "rest-token";
  if (candidate.type === "REQUEST") return "rest-request";
  return undefined;
}

function authorizationValue(event: AuthorizerEvent, kind: EventKind): string | undefined {
  if (kind === "rest-token") {
    const value = (event as APIGatewayTokenAuthorizerEvent).authorizationToken;
    return typeof value === "string" ? value : undefined;
  }
  if (kind === "rest-request") {
    const rest = event as APIGatewayRequestAuthorizerEvent;
    return authorizationHeader(rest.headers, rest.multiValueHeaders);
  }
  return authorizationHeader((event as APIGatewayRequestAuthorizerEventV2).headers);
}
