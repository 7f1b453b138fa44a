/**
 * The back-channel logout receiver (OpenID Connect Back-Channel Logout 1.0, section 2.5 to 2.8):
 * Keycloak POSTs `logout_token=<JWT>` as `application/x-www-form-urlencoded`, server to server, to
 * the client's "Backchannel logout URL". A valid token's session (`sid`) is recorded as revoked
 * in the revocation store, or, for a token without `sid`, its subject as of the token's `iat`.
 *
 * Answers: 200 (recorded); 400 `{"error":"invalid_request"}` for anything that is not a valid,
 * fresh logout token of one of our clients (never a 5xx for bad input); 503 when the realm's keys
 * or the store cannot be reached (Keycloak logs the failure; the logout is not recorded). Log
 * lines carry reason codes, never the token.
 *
 * Replays change nothing: a revocation records the logout token's own `iat` (a sid's revocation
 * is absolute, a subject's cut-off never moves back), and the `jti` is claimed once, after the
 * revocation is written, so a retry after a failed write still succeeds.
 */
import type { APIGatewayProxyResult } from "aws-lambda";
import { headerOf, isHttpApiEvent, type ProxyEvent } from "../apigateway/events.js";
import {
  AuthorizerError,
  AuthorizerFailureError,
  InternalError,
  LogoutRequestRejectedError,
  RevocationUnavailableError,
  TokenRejectedError,
} from "../errors.js";
import type { Logger } from "../operations/logger.js";
import type { LogoutTokenVerifier } from "../token/logout-token-verifier.js";
import type { RevocationWriter } from "./revocation-store.js";

export interface BackchannelLogoutOptions {
  readonly verifier: LogoutTokenVerifier;
  readonly writer: RevocationWriter;
  readonly logger: Logger;
  /** How long a revocation is kept past the logout token's `iat`: the longest token lifetime plus the skew and a margin. */
  readonly retentionSeconds: number;
  /** How long a `jti` is kept past its `iat`: as long as a replay could still pass the age check. */
  readonly jtiRetentionSeconds: number;
  /** Request bodies above this are refused before parsing. */
  readonly maxBodyBytes?: number;
  /** A logout token with `sub` also ends the subject's other sessions (KEYCLOAK_LOGOUT_ENDS_ALL_SESSIONS). */
  readonly endsAllSessions?: boolean;
}

const FORM = "application/x-www-form-urlencoded";
const NO_STORE = { "Cache-Control": "no-store" } as const;

function answer(statusCode: number, body?: Record<string, string>, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { ...NO_STORE, ...(body === undefined ? {} : { "Content-Type": "application/json" }), ...headers },
    body: body === undefined ? "" : JSON.stringify(body),
  };
}

/** The form body as text: API Gateway may hand it over base64-encoded (HTTP APIs often do). */
function bodyOf(event: ProxyEvent, maxBytes: number): string {
  const raw = event.body ?? "";
  // Base64 is 4/3 of the bytes it carries: bound the encoded form before decoding it.
  if (raw.length > (event.isBase64Encoded ? Math.ceil((maxBytes * 4) / 3) + 4 : maxBytes)) {
    throw new LogoutRequestRejectedError("request_too_large", "the logout request body is too large");
  }
  return event.isBase64Encoded ? Buffer.from(raw, "base64").toString("utf8") : raw;
}

/** A store call whose failure is the store's, never the caller's. */
async function stored<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (cause) {
    throw new RevocationUnavailableError("the revocation store cannot be written", { cause });
  }
}

export function createBackchannelLogoutHandler(options: BackchannelLogoutOptions): (event: ProxyEvent) => Promise<APIGatewayProxyResult> {
  const { verifier, writer, logger } = options;
  const maxBodyBytes = options.maxBodyBytes ?? 16 * 1024;
  return async function backchannelLogout(event) {
    const route = isHttpApiEvent(event) ? event.routeKey : `${event.httpMethod} ${event.resource}`;
    try {
      const type = headerOf(event, "content-type")?.split(";")[0]?.trim().toLowerCase();
      if (type !== FORM) throw new LogoutRequestRejectedError("unsupported_media_type", `a logout request is ${FORM}`);
      const form = new URLSearchParams(bodyOf(event, maxBodyBytes));
      const tokens = form.getAll("logout_token");
      if (tokens.length !== 1 || tokens[0] === "") throw new LogoutRequestRejectedError("missing_logout_token", "the request carries no single logout_token");
      const logout = await verifier.verify(tokens[0] as string);
      const keepUntil = logout.iat + options.retentionSeconds;
      // The subject too when configured: Keycloak's admin sign-out of a user with several
      // sessions names only one of them (KEYCLOAK_LOGOUT_ENDS_ALL_SESSIONS).
      const wholeSubject = logout.sub !== undefined && (logout.sid === undefined || options.endsAllSessions === true);
      if (logout.sid !== undefined) await stored(writer.revokeSession(logout.issuer, logout.sid, logout.iat, keepUntil));
      if (wholeSubject) await stored(writer.revokeSubject(logout.issuer, logout.sub as string, logout.iat, keepUntil));
      if (!(await stored(writer.claimJti(logout.issuer, logout.jti, logout.iat, logout.iat + options.jtiRetentionSeconds)))) {
        throw new LogoutRequestRejectedError("logout_token_replayed", "this logout token was received before");
      }
      logger.info("logout recorded", {
        route,
        realm: logout.realm,
        client: logout.client,
        revoked: wholeSubject ? (logout.sid !== undefined ? "session and subject" : "subject") : "session",
        kid: logout.kid,
      });
      return answer(200);
    } catch (error) {
      const failure = error instanceof AuthorizerError ? error : new InternalError("unexpected receiver error", { cause: error });
      if (failure instanceof TokenRejectedError) {
        logger.warn("logout refused", { route, reason: failure.code, stage: failure.stage });
        return answer(400, { error: "invalid_request", error_description: "The request is not a valid logout token of this realm for one of its clients." });
      }
      // The keys or the store could not be reached (or our own bug): not the caller's fault, and not recorded.
      const asFailure = failure instanceof AuthorizerFailureError ? failure : new InternalError("unexpected receiver error", { cause: failure });
      logger.error("logout not recorded", { route, reason: asFailure.code, detail: asFailure.message, error: asFailure.cause as Error });
      return answer(503, { error: "temporarily_unavailable", error_description: "The logout could not be recorded; try again." }, { "Retry-After": "5" });
    }
  };
}
