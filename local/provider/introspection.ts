/**
 * Keycloak's token introspection endpoint (RFC 7662): `POST .../protocol/openid-connect/token/introspect`
 * with `token`, authenticated as a confidential client. As Keycloak 26.4 answers: `{"active": false}`
 * for a token that is expired, badly signed, of an ended session or of a disabled user; otherwise
 * the token's claims with `active`, `client_id`, `username` and `token_type`, and for a lightweight
 * access token the full claim set it was issued without (Keycloak's mappers "Add to token
 * introspection"). Public clients may not introspect (403); wrong credentials get 401.
 *
 * (oidc-provider's own introspection does not know our Keycloak-shaped JWTs, as with userinfo.)
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { createLocalJWKSet, type JWK, jwtVerify } from "jose";
import { authenticatedClient, readForm } from "./logout.js";
import type { Realm } from "./realm.js";

export interface IntrospectionDeps {
  readonly issuer: string;
  readonly realm: Realm;
  readonly signingKeys: () => { keys: JWK[] };
  /** True for a session id a logout has ended. */
  readonly sessionEnded: (sid: string) => boolean;
  /** The full claims of a lightweight access token, by `jti`, as issued. */
  readonly fullClaims: (jti: string) => Record<string, unknown> | undefined;
}

function send(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  res.statusCode = status;
  res.setHeader("Cache-Control", "no-store");
  res.setHeader("Content-Type", "application/json");
  res.end(JSON.stringify(body));
}

export async function handleIntrospection(deps: IntrospectionDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== "POST") {
    send(res, 405, { error: "invalid_request", error_description: "HTTP method not allowed" });
    return;
  }
  const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") {
    send(res, 400, { error: "invalid_request", error_description: "Content-Type must be application/x-www-form-urlencoded" });
    return;
  }
  const form = await readForm(req);
  const clientId = authenticatedClient(deps.realm, req, form);
  if (clientId === undefined) {
    send(res, 401, { error: "invalid_client", error_description: "Authentication failed." });
    return;
  }
  if (deps.realm.client(clientId)?.publicClient === true) {
    send(res, 403, { error: "invalid_request", error_description: "Client not allowed." });
    return;
  }
  const token = form.get("token");
  if (!token) {
    send(res, 400, { error: "invalid_request", error_description: "Token not provided." });
    return;
  }
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, createLocalJWKSet(deps.signingKeys()), { issuer: deps.issuer, algorithms: ["RS256", "ES256"] }));
  } catch {
    send(res, 200, { active: false });
    return;
  }
  if (payload.typ !== "Bearer" && payload.typ !== "DPoP") {
    send(res, 200, { active: false });
    return;
  }
  if (typeof payload.sid === "string" && deps.sessionEnded(payload.sid)) {
    send(res, 200, { active: false });
    return;
  }
  const claims = (typeof payload.jti === "string" ? deps.fullClaims(payload.jti) : undefined) ?? payload;
  const user = typeof claims.sub === "string" ? deps.realm.userById(claims.sub) : undefined;
  if (user?.enabled === false) {
    send(res, 200, { active: false });
    return;
  }
  send(res, 200, {
    ...claims,
    client_id: payload.azp,
    ...(typeof claims.preferred_username === "string" ? { username: claims.preferred_username } : {}),
    token_type: payload.typ,
    active: true,
  });
}
