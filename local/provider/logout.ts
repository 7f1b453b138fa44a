/**
 * Keycloak's logout for clients that hold a refresh token: `POST .../protocol/openid-connect/logout`
 * with `refresh_token` (and the client's credentials, for confidential clients) ends the user's
 * session: its refresh tokens stop working, userinfo refuses its access tokens, and a browser
 * login must be done again. Answers 204, as Keycloak does. (Browser-initiated logout, GET with
 * `id_token_hint`, stays oidc-provider's.)
 *
 * Access tokens already issued stay valid JWTs until they expire: nothing can recall them. A JWT
 * authorizer only learns of the logout through the back-channel logout tokens the session's
 * clients are sent (backchannel-logout.ts), as with Keycloak.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Provider } from "oidc-provider";
import type { Realm } from "./realm.js";

export interface LogoutDeps {
  readonly realm: Realm;
  readonly provider: () => Provider;
  /** Remembers the session ids logged out (for userinfo), and tells the session's clients (back-channel logout). */
  readonly endSession: (sid: string, sub: string, clientIds: readonly string[]) => Promise<void>;
}

function send(res: ServerResponse, status: number, body?: Record<string, string>): void {
  res.statusCode = status;
  res.setHeader("Cache-Control", "no-store");
  if (body === undefined) {
    res.end();
    return;
  }
  res.setHeader("Content-Type", "application/json");
  res.end(JSON.stringify(body));
}

export async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 64 * 1024) throw new Error("form too large");
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

/** The client the request authenticates as (HTTP Basic or form fields), or undefined when it fails. */
export function authenticatedClient(realm: Realm, req: IncomingMessage, form: URLSearchParams): string | undefined {
  let id = form.get("client_id") ?? undefined;
  let secret = form.get("client_secret") ?? undefined;
  const basic = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? "")?.[1];
  if (basic !== undefined) {
    const decoded = Buffer.from(basic, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    // RFC 6749 2.3.1: each form-urlencoded first (a space is `+`).
    id = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, " "));
    secret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, " "));
  }
  const client = id === undefined ? undefined : realm.client(id);
  if (client === undefined) return undefined;
  if (client.publicClient === true) return client.clientId;
  return secret !== undefined && secret === client.secret ? client.clientId : undefined;
}

export async function handleRefreshTokenLogout(deps: LogoutDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") {
    send(res, 400, {
      error: "invalid_request",
      error_description: "the embedded provider takes POST logout as a form with refresh_token; use GET for browser logout",
    });
    return;
  }
  const form = await readForm(req);
  const clientId = authenticatedClient(deps.realm, req, form);
  if (clientId === undefined) {
    send(res, 401, { error: "unauthorized_client", error_description: "Invalid client or Invalid client credentials" });
    return;
  }
  const value = form.get("refresh_token");
  if (!value) {
    send(res, 400, { error: "invalid_request", error_description: "Missing parameter: refresh_token" });
    return;
  }
  const provider = deps.provider();
  const refreshToken = await provider.RefreshToken.find(value);
  if (refreshToken === undefined) {
    send(res, 400, { error: "invalid_grant", error_description: "Invalid refresh token" });
    return;
  }
  if (refreshToken.clientId !== clientId) {
    send(res, 400, { error: "invalid_grant", error_description: "Invalid refresh token. Token client and authorized client don't match" });
    return;
  }
  const { sid, sessionUid, grantId, accountId } = refreshToken as typeof refreshToken & { sid?: string; sessionUid?: string };
  // Keycloak sends the logout tokens before it answers (its back-channel logout is synchronous).
  if (typeof sid === "string") await deps.endSession(sid, accountId, [clientId]);
  if (typeof grantId === "string") {
    await provider.RefreshToken.revokeByGrantId(grantId);
    await (await provider.Grant.find(grantId))?.destroy();
  }
  await refreshToken.destroy();
  if (typeof sessionUid === "string") await (await provider.Session.findByUid(sessionUid))?.destroy();
  send(res, 204);
}
