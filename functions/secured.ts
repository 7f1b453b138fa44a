import middy from "@middy/core";
import httpErrorHandler from "@middy/http-error-handler";
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2WithLambdaAuthorizer, APIGatewayProxyResult } from "aws-lambda";
import { claimsFromEvent, type EventWithAuthorizer } from "../lib/context.js";
import { MissingAuthorizerContextError } from "../lib/errors.js";
import { jsonLogger } from "../lib/log.js";

type SecuredEvent = APIGatewayProxyEvent | APIGatewayProxyEventV2WithLambdaAuthorizer<Record<string, unknown>>;

/** An error http-error-handler turns into a response: `statusCode`, `expose`, a JSON body as message. */
class HttpError extends Error {
  override readonly name = "HttpError";
  readonly expose = true;
  readonly headers = { "WWW-Authenticate": "Bearer" };
  constructor(
    readonly statusCode: number,
    body: Record<string, string>,
    options?: { cause?: unknown },
  ) {
    super(JSON.stringify(body), options);
  }
}

async function securedHandler(event: SecuredEvent): Promise<APIGatewayProxyResult> {
  let claims;
  try {
    claims = claimsFromEvent(event as EventWithAuthorizer);
  } catch (error) {
    if (!(error instanceof MissingAuthorizerContextError)) throw error;
    // Reaching here without claims means the route is not behind the authorizer: answer as an
    // unauthenticated request (never 200 with empty claims) and tell the operator why.
    jsonLogger("ERROR", "no verified identity reached the handler", { reason: error.code });
    throw new HttpError(401, { error: "unauthorized", message: "No verified identity: send a valid Bearer token." }, { cause: error });
  }
  return {
    statusCode: 200,
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ claims }),
  };
}

/**
 * `GET /secured`: the caller's verified claims, exactly as the token carried them.
 * Behind either authorizer kind (REST or HTTP API); errors leave as JSON through http-error-handler.
 */
export const handler = middy<SecuredEvent, APIGatewayProxyResult>()
  .use(httpErrorHandler({ logger: false, fallbackMessage: JSON.stringify({ error: "internal_error" }) }))
  .handler(securedHandler);
