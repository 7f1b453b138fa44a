/** A minimal OAuth client for tests: token requests against the realm's token endpoint. */
export interface TokenSet {
  access_token: string;
  id_token?: string;
  refresh_token?: string;
}

export interface ClientCredentials {
  readonly id: string;
  readonly secret: string;
}

export const API_CLIENT: ClientCredentials = { id: "api-client", secret: "api-client-secret" };

export async function requestToken(
  issuer: string,
  params: Record<string, string>,
  client: ClientCredentials = API_CLIENT,
): Promise<{ status: number; body: TokenSet & { error?: string } }> {
  const response = await fetch(`${issuer}/protocol/openid-connect/token`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      authorization: `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString("base64")}`,
    },
    body: new URLSearchParams(params),
  });
  return { status: response.status, body: (await response.json()) as TokenSet & { error?: string } };
}

export async function passwordTokens(issuer: string, username: string, password = username, client?: ClientCredentials): Promise<TokenSet> {
  const { status, body } = await requestToken(issuer, { grant_type: "password", username, password, scope: "openid" }, client);
  if (status !== 200) throw new Error(`password grant for ${username} failed: ${status} ${body.error ?? ""}`);
  return body;
}

export async function clientTokens(issuer: string, client?: ClientCredentials): Promise<TokenSet> {
  const { status, body } = await requestToken(issuer, { grant_type: "client_credentials" }, client);
  if (status !== 200) throw new Error(`client credentials grant failed: ${status} ${body.error ?? ""}`);
  return body;
}

export { payloadOf } from "./tokens.js";
