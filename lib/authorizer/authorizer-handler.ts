/**
 * The authorizer: event -> Authorization value -> token -> verified claims -> answer. Every
 * rejection throws exactly `Error("Unauthorized")` (API Gateway's 401); a failure to judge the
 * token (keys unavailable, or our own bug) throws a different error, which API Gateway answers with
 * a 500: an outage is never mistaken for a bad token, nor turned into an Allow.
 */
import type { APIGatewayAuthorizerResult, APIGatewaySimpleAuthorizerWithContextResult } from "aws-lambda";
import { credentials, type AuthorizationScheme } from "../apigateway/authorization-header.js";
import { toAuthorizerContext, type AuthorizerContext } from "../apigateway/context.js";
import { authorizationOf, eventKind, methodArnOf, type AuthorizerEvent, type EventKind } from "../apigateway/events.js";
import { allowSimple, routePolicy, strictRoutesPolicy } from "../apigateway/policy.js";
import type { VerifiedToken } from "../claims.js";
import { AuthorizerFailureError, InternalError, TokenRejectedError, UnsupportedEventError, withoutStack } from "../errors.js";
import { refuseKeyBinding } from "./refuse-key-binding.js";
import { SILENT, type DecisionObserver } from "../operations/decision-log.js";
import type { RouteTable } from "../routes/route.js";
import { translateError } from "../token/library-errors.js";
import type { AccessTokenVerifier } from "../token/access-token-verifier.js";

export type AuthorizerResult = APIGatewayAuthorizerResult | APIGatewaySimpleAuthorizerWithContextResult<AuthorizerContext>;

/** The exact error message API Gateway turns into a 401 (any other thrown error is a 500). */
export const UNAUTHORIZED = "Unauthorized";

/** What a request check sees: the request, and the token the verifier accepted. */
export interface CheckedRequest {
  readonly event: AuthorizerEvent;
  readonly kind: EventKind;
  /** The `Authorization` scheme the token came with (`DPoP` for a DPoP-bound token, RFC 9449). */
  readonly scheme: AuthorizationScheme;
  /** The access token as the request carried it. */
  readonly token: string;
  readonly verified: VerifiedToken;
}

/**
 * A rule about the request beyond the token itself (a proof of possession, a revocation list):
 * throws a TokenRejectedError to refuse (401), an AuthorizerFailureError when it cannot decide
 * (500). Runs after the token verified, in the order given.
 */
export type RequestCheck = (request: CheckedRequest) => void | Promise<void>;

export interface AuthorizerHandlerOptions {
  readonly verifier: AccessTokenVerifier;
  /** The routes REST policies are built from. */
  readonly routes: RouteTable;
  /** Where decisions go (logs, metrics); nowhere by default. */
  readonly observer?: DecisionObserver;
  /**
   * What a token bound to a key (`cnf`) and the `DPoP` scheme need (lib/dpop/key-binding-check.ts):
   * runs first among the request checks. By default both are refused (DPoP off).
   */
  readonly keyBinding?: RequestCheck;
  /** Further rules every request must pass; none by default. */
  readonly checks?: readonly RequestCheck[];
}

export type AuthorizerHandler = (event: AuthorizerEvent, context?: { awsRequestId?: string }) => Promise<AuthorizerResult>;

export function createAuthorizerHandler({
  verifier,
  routes,
  observer = SILENT,
  keyBinding = refuseKeyBinding,
  checks = [],
}: AuthorizerHandlerOptions): AuthorizerHandler {
  // A repeated token comes back from the verifier as the same object: its context is built once.
  const contexts = new WeakMap<VerifiedToken, AuthorizerContext>();
  const contextOf = (verified: VerifiedToken): AuthorizerContext => {
    let built = contexts.get(verified);
    if (built === undefined) {
      built = toAuthorizerContext(verified);
      contexts.set(verified, built);
    }
    return built;
  };
  return async function authorizerHandler(event, context) {
    const started = performance.now();
    const kind = eventKind(event);
    try {
      if (kind === undefined) throw new UnsupportedEventError("not an API Gateway authorizer event");
      // Read before the token is checked, so that an unreadable ARN costs no verification.
      const arn = methodArnOf(event, kind);
      if (kind !== "http-v2" && arn === undefined) throw new UnsupportedEventError("methodArn is not an execute-api ARN");
      const { scheme, token } = credentials(authorizationOf(event, kind));
      const verified = await verifier.verify(token);
      const request: CheckedRequest = { event, kind, scheme, token, verified };
      // A check that decides at once returns nothing: no promise hop on the hot path (the key
      // binding of a plain token, a revocation lookup served from its cache).
      const binding = keyBinding(request);
      if (binding !== undefined) await binding;
      for (const check of checks) {
        const pending = check(request);
        if (pending !== undefined) await pending;
      }
      const authorizerContext = contextOf(verified);
      // HTTP API: the result cache is keyed by the token alone, so the answer must not depend on
      // the route; the protected handler enforces each route's requirement (lib/protected).
      const result =
        arn === undefined
          ? allowSimple(authorizerContext)
          : verified.lightweight === true
            ? strictRoutesPolicy(verified.principal, arn, routes, authorizerContext)
            : routePolicy(verified.principal, arn, verified.claims, routes, authorizerContext);
      observer.allowed({
        kind,
        event,
        kid: verified.kid,
        realm: verified.realm,
        claims: verified.claims,
        latencyMs: performance.now() - started,
        requestId: context?.awsRequestId,
      });
      return result;
    } catch (error) {
      const failure = translateError(error);
      const record = { kind, event, error: failure, latencyMs: performance.now() - started, requestId: context?.awsRequestId };
      if (failure instanceof TokenRejectedError) {
        observer.refused({ ...record, error: failure });
        throw withoutStack(() => new Error(UNAUTHORIZED));
      }
      // Not a verdict on the token (a ConfigError, say): our fault, reported as such.
      const asFailure = failure instanceof AuthorizerFailureError ? failure : new InternalError("unexpected authorizer error", { cause: failure });
      observer.failed({ ...record, error: asFailure });
      throw new Error(`Authorizer failure: ${asFailure.code}`);
    }
  };
}
