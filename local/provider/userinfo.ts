/**
 * Keycloak's userinfo endpoint. oidc-provider's own one only accepts opaque tokens without an audience,
 * and our access tokens are audience-bearing JWTs (that is the point of them), so this endpoint verifies
 * the JWT against the provider's published signing keys instead, as Keycloak's does.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JWK } from "jose";
import { emailClaims, profileClaims } from "./accounts.js";
import type { Realm } from "./realm.js";
import { userId } from "./realm.js";

export interface UserinfoDeps {
  issuer: string;
  realm: Realm;
  signingKeys: () => { keys: JWK[] };
  /** True for a session id a logout has ended. */
  sessionEnded: (sid: string) => boolean;
  corsOrigin: (clientId: string, origin: string) => boolean;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.statusCode = status;
  res.setHeader("Content-Type", "application/json");
  res.setHeader("Cache-Control", "no-store");
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.end(JSON.stringify(body));
}

/** Keycloak answers userinfo errors with the challenge alone, and an empty body. */
function bearerError(res: ServerResponse, realm: string, status: number, error: string, description: string): void {
  res.statusCode = status;
  res.setHeader("Cache-Control", "no-store");
  res.setHeader("WWW-Authenticate", `Bearer realm="${realm}", error="${error}", error_description="${description}"`);
  res.end();
}

export async function handleUserinfo(deps: UserinfoDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const origin = req.headers.origin;
  if (req.method === "OPTIONS") {
    res.statusCode = 204;
    if (origin) {
      res.setHeader("Access-Control-Allow-Origin", origin);
      res.setHeader("Access-Control-Allow-Headers", "Authorization");
      res.setHeader("Access-Control-Allow-Methods", "GET, POST");
    }
    res.end();
    return;
  }
  if (req.method !== "GET" && req.method !== "POST") {
    sendJson(res, 405, { error: "invalid_request", error_description: "method not allowed" });
    return;
  }

  const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "");
  if (!match?.[1]) {
    bearerError(res, deps.realm.name, 401, "invalid_request", "Token not provided");
    return;
  }

  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(match[1], createLocalJWKSet(deps.signingKeys()), {
      issuer: deps.issuer,
      algorithms: ["RS256", "ES256"],
      typ: "JWT",
    }));
  } catch (error) {
    const description = error instanceof joseErrors.JWTExpired ? "Token expired" : "Token verification failed";
    bearerError(res, deps.realm.name, 401, "invalid_token", description);
    return;
  }
  if (typeof payload.sid === "string" && deps.sessionEnded(payload.sid)) {
    bearerError(res, deps.realm.name, 401, "invalid_token", "user_session_not_found");
    return;
  }
  if (payload.typ !== "Bearer") {
    bearerError(res, deps.realm.name, 401, "invalid_token", "Wrong token type");
    return;
  }

  const azp = typeof payload.azp === "string" ? payload.azp : "";
  if (origin && deps.corsOrigin(azp, origin)) res.setHeader("Access-Control-Allow-Origin", origin);

  const scopes = new Set(typeof payload.scope === "string" ? payload.scope.split(" ") : []);
  if (!scopes.has("openid")) {
    bearerError(res, deps.realm.name, 403, "insufficient_scope", "Missing openid scope");
    return;
  }
  const sub = typeof payload.sub === "string" ? payload.sub : "";
  const user = deps.realm.userById(sub);
  if (!user || user.enabled === false) {
    bearerError(res, deps.realm.name, 401, "invalid_token", "User not found or disabled");
    return;
  }
  sendJson(res, 200, {
    sub: userId(user),
    ...(scopes.has("email") ? emailClaims(user) : {}),
    ...(scopes.has("profile") ? profileClaims(user) : {}),
  });
}
