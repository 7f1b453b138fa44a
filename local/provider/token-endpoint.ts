/**
 * The token endpoint's answers as Keycloak gives them, for every grant (oidc-provider's built-in
 * ones and ours), as a koa middleware around oidc-provider's router:
 *
 * - success: Keycloak's field set, `scope` as in the access token (only scopes Keycloak shows),
 *   `refresh_expires_in` (0 without a refresh token), `not-before-policy`, `session_state` (the
 *   session id, `sid`) for user tokens;
 * - errors: Keycloak's codes and descriptions where oidc-provider words them differently (a failed
 *   client authentication is `401 unauthorized_client` in Keycloak);
 * - ID tokens reshaped as Keycloak's (header `typ`, `jti`, `acr`, `at_hash`: KeyRing.reshapeIdToken);
 * - an authorization code whose redemption failed (a wrong PKCE verifier) is spent, as Keycloak
 *   spends it, instead of staying redeemable.
 *
 * Observed against Keycloak 26.4.2; test/contract/contract.ts holds both to it.
 */
import type { KoaContextWithOIDC, Provider } from "oidc-provider";

interface KeycloakError {
  readonly status?: number;
  readonly error: string;
  readonly description: string;
}

/**
 * oidc-provider's error -> Keycloak's, or undefined to leave it as it is. `detail` is the error's
 * own message (oidc-provider answers `invalid_grant` with a generic description, "grant request is
 * invalid", whatever went wrong).
 */
function keycloakError(error: string, description: unknown, grantType: string, detail: unknown): KeycloakError | undefined {
  if (error === "invalid_client") return { status: 401, error: "unauthorized_client", description: "Invalid client or Invalid client credentials" };
  if (error === "unsupported_grant_type") return { error, description: "Unsupported grant_type" };
  if (error === "invalid_grant" && grantType === "refresh_token") return { error, description: "Invalid refresh token" };
  // DPoP at the token endpoint: Keycloak answers 400 invalid_request, in its own words.
  if (detail === "DPoP proof JWT not provided") return { status: 400, error: "invalid_request", description: "DPoP proof is missing" };
  if (detail === "DPoP proof JWT Replay detected") return { status: 400, error: "invalid_request", description: "DPoP proof has already been used" };
  if (description === "DPoP proof htu mismatch") return { status: 400, error: "invalid_request", description: "DPoP HTTP URL mismatch" };
  if (description === "DPoP proof htm mismatch") return { status: 400, error: "invalid_request", description: "DPoP HTTP method mismatch" };
  if (description === "DPoP proof iat is not recent enough") return { status: 400, error: "invalid_request", description: "DPoP proof is not active" };
  if (error === "invalid_dpop_proof") return { status: 400, error: "invalid_request", description: "DPoP proof is not valid" };
  if (error === "invalid_request" && description === "requested grant type is not allowed for this client") {
    if (grantType === "password") return { error: "unauthorized_client", description: "Client not allowed for direct access grants" };
    if (grantType === "client_credentials") return { error: "unauthorized_client", description: "Client not enabled to retrieve service account" };
  }
  return undefined;
}

export interface TokenEndpointDeps {
  /** The ID token of a response as Keycloak would have issued it, given the access token beside it. */
  readonly reshapeIdToken: (idToken: string, accessToken: string | undefined) => string;
}

function payloadOf(jwt: unknown): Record<string, unknown> {
  if (typeof jwt !== "string") return {};
  try {
    return JSON.parse(Buffer.from(jwt.split(".")[1] ?? "", "base64url").toString("utf8")) as Record<string, unknown>;
  } catch {
    return {};
  }
}

export function keycloakTokenEndpoint(provider: Provider, deps: TokenEndpointDeps): void {
  // The detail of a failed token request, told by oidc-provider's event before the answer is shaped below.
  const details = new WeakMap<object, unknown>();
  provider.on("grant.error", (ctx: KoaContextWithOIDC, error: { error_detail?: unknown }) => {
    details.set(ctx, error.error_detail);
  });
  provider.use(async (ctx: KoaContextWithOIDC, next: () => Promise<void>) => {
    await next();
    if (ctx.oidc?.route !== "token" || typeof ctx.body !== "object" || ctx.body === null || Buffer.isBuffer(ctx.body)) return;
    const body = ctx.body as Record<string, unknown>;
    const params = (ctx.oidc.params ?? {}) as Record<string, unknown>;
    const grantType = typeof params.grant_type === "string" ? params.grant_type : "";

    if (ctx.status === 200 && typeof body.access_token === "string") {
      const claims = payloadOf(body.access_token);
      const refreshToken = ctx.oidc.entities.RefreshToken as { expiration?: number } | undefined;
      ctx.body = {
        ...body,
        ...(typeof claims.scope === "string" ? { scope: claims.scope } : {}),
        refresh_expires_in: body.refresh_expires_in ?? (typeof body.refresh_token === "string" ? (refreshToken?.expiration ?? 0) : 0),
        "not-before-policy": 0,
        ...(typeof claims.sid === "string" ? { session_state: claims.sid } : {}),
        ...(typeof body.id_token === "string" ? { id_token: deps.reshapeIdToken(body.id_token, body.access_token) } : {}),
      };
      return;
    }

    const code = typeof body.error === "string" ? body.error : "";
    const mapped = keycloakError(code, body.error_description, grantType, details.get(ctx));
    if (mapped !== undefined) {
      ctx.body = { error: mapped.error, error_description: mapped.description };
      if (mapped.status !== undefined) ctx.status = mapped.status;
    }
    if (grantType === "authorization_code" && code === "invalid_grant" && typeof params.code === "string") {
      const authorizationCode = await ctx.oidc.provider.AuthorizationCode.find(params.code, { ignoreExpiration: true });
      await authorizationCode?.destroy();
    }
  });
}
