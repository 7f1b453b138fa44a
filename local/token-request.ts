/**
 * Tokens from the realm's own token endpoint, as a client gets them: the endpoint found through
 * discovery, the client authenticated with HTTP Basic. Shared by `npm run token` and
 * `npm run doctor`; errors say what failed and never carry a secret.
 */
import { discoveryUrl } from "../lib/keys/discovery.js";
import type { DpopClientKey } from "./dpop-client.js";

export interface TokenGrant {
  /** `password` for a user (`user`, `password`), or `client_credentials` for the client's service account. */
  readonly grant: "password" | "client_credentials";
  readonly user?: string;
  readonly password?: string;
  readonly clientId: string;
  readonly clientSecret: string;
}

export interface TokenResponse {
  readonly access_token?: unknown;
  readonly id_token?: unknown;
  readonly refresh_token?: unknown;
  readonly [field: string]: unknown;
}

/** The demo realm's confidential client, as `npm run token` defaults to it. */
export const DEMO_CLIENT = { id: "api-client", secret: "api-client-secret" } as const;

async function fetchJson(url: string, init?: RequestInit): Promise<{ status: number; body: Record<string, unknown> }> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : error instanceof Error ? `: ${error.message}` : "";
    throw new Error(`cannot reach ${url}${cause}`);
  }
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) as Record<string, unknown> };
  } catch {
    throw new Error(`${url} answered ${response.status} with non-JSON: ${text.slice(0, 200)}`);
  }
}

/** The token endpoint `issuer`'s discovery names. */
export async function tokenEndpoint(issuer: string): Promise<string> {
  const discovery = await fetchJson(discoveryUrl(issuer));
  const endpoint = discovery.body.token_endpoint;
  if (discovery.status !== 200 || typeof endpoint !== "string") throw new Error(`discovery of ${issuer} failed (HTTP ${discovery.status})`);
  return endpoint;
}

/**
 * The token response for `grant`; throws with Keycloak's error code and description on a refusal.
 * With `dpop`, the request carries a proof by that key, and Keycloak binds the tokens to it.
 */
export async function requestTokens(issuer: string, grant: TokenGrant, dpop?: DpopClientKey): Promise<TokenResponse> {
  const form = new URLSearchParams();
  if (grant.grant === "client_credentials") {
    form.set("grant_type", "client_credentials");
  } else {
    const user = grant.user ?? "";
    form.set("grant_type", "password");
    form.set("username", user);
    form.set("password", grant.password ?? user);
    // openid makes Keycloak return an ID token as well.
    form.set("scope", "openid");
  }
  const basic = Buffer.from(`${encodeURIComponent(grant.clientId)}:${encodeURIComponent(grant.clientSecret)}`).toString("base64");
  const endpoint = await tokenEndpoint(issuer);
  const { status, body } = await fetchJson(endpoint, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      authorization: `Basic ${basic}`,
      ...(dpop === undefined ? {} : { dpop: dpop.proof("POST", endpoint) }),
    },
    body: form,
  });
  if (status !== 200) {
    const description = typeof body.error_description === "string" ? `: ${body.error_description}` : "";
    throw new Error(`token request failed (HTTP ${status}) ${String(body.error ?? "unknown_error")}${description}`);
  }
  return body;
}
