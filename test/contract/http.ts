/**
 * HTTP for the provider contract: the realm's endpoints as a client uses them (token endpoint with
 * each grant, the login form of the authorization-code flow with a cookie jar, userinfo, logout)
 * and the API behind serverless-offline.
 */
import { createHash, randomBytes } from "node:crypto";
import { API_CLIENT, type ClientCredentials } from "../helpers/oidc-client.js";

export interface TokenResponse {
  readonly access_token?: string;
  readonly id_token?: string;
  readonly refresh_token?: string;
  readonly token_type?: string;
  readonly expires_in?: number;
  readonly refresh_expires_in?: number;
  readonly scope?: string;
  readonly session_state?: string;
  readonly error?: string;
  readonly error_description?: string;
  readonly [field: string]: unknown;
}

export interface Answer<T> {
  readonly status: number;
  readonly body: T;
  readonly headers: Headers;
}

const endpoint = (issuer: string, name: string): string => `${issuer}/protocol/openid-connect/${name}`;

function basic(client: ClientCredentials): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(client.id)}:${encodeURIComponent(client.secret)}`).toString("base64")}`;
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === "") return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return { unparsed: text };
  }
}

/** The realm's token endpoint (what a DPoP proof for a token request names as `htu`). */
export const tokenEndpoint = (issuer: string): string => endpoint(issuer, "token");

/**
 * POST to the token endpoint, the client authenticated with HTTP Basic (or `client: null` for
 * none); `headers` adds more (a DPoP proof).
 */
export async function tokenRequest(
  issuer: string,
  params: Record<string, string>,
  client: ClientCredentials | null = API_CLIENT,
  headers: Record<string, string> = {},
): Promise<Answer<TokenResponse>> {
  const response = await fetch(endpoint(issuer, "token"), {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...(client === null ? {} : { authorization: basic(client) }), ...headers },
    body: new URLSearchParams(params),
  });
  return { status: response.status, body: (await readJson(response)) as TokenResponse, headers: response.headers };
}

export async function passwordGrant(issuer: string, username: string, password = username, scope = "openid"): Promise<TokenResponse> {
  const answer = await tokenRequest(issuer, { grant_type: "password", username, password, scope });
  if (answer.status !== 200) throw new Error(`password grant for ${username}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

export async function clientCredentialsGrant(issuer: string, client: ClientCredentials = API_CLIENT): Promise<TokenResponse> {
  const answer = await tokenRequest(issuer, { grant_type: "client_credentials" }, client);
  if (answer.status !== 200) throw new Error(`client credentials grant for ${client.id}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

/** Just enough of a browser for a login form: a cookie jar and manual redirects. */
class CookieJar {
  private readonly cookies = new Map<string, string>();

  async request(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<Response> {
    const response = await fetch(url, {
      method: init.method ?? (init.form === undefined ? "GET" : "POST"),
      redirect: "manual",
      headers: {
        cookie: [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; "),
        ...(init.form === undefined ? {} : { "content-type": "application/x-www-form-urlencoded" }),
      },
      ...(init.form === undefined ? {} : { body: new URLSearchParams(init.form) }),
    });
    for (const header of response.headers.getSetCookie()) {
      const [pair = "", ...attributes] = header.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some(
        (attribute) => /^\s*max-age=0\s*$/i.test(attribute) || (/^\s*expires=/i.test(attribute) && Date.parse(attribute.split("=")[1] ?? "") < Date.now()),
      );
      if (expired || value === "") this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }
}

const decodeEntities = (text: string): string =>
  text
    .replace(/&amp;/g, "&")
    .replace(/&quot;/g, '"')
    .replace(/&#x27;|&#39;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">");

export interface CodeFlowResult {
  /** The login page as served (HTML), for assertions on its form. */
  readonly loginPage: string;
  readonly loginPageUrl: string;
  /** What the realm redirected back with. */
  readonly callback: URL;
  /** Redeem the code with the right PKCE verifier (or, with `wrong`, a made-up one). */
  redeem(verifier?: "right" | "wrong"): Promise<Answer<TokenResponse>>;
}

/**
 * Authorization code + PKCE S256 for a public client, the way a browser does it: the realm's login
 * page, its form posted with the user's credentials, redirects followed to `redirectUri`; the
 * caller redeems the code at the token endpoint.
 */
export async function authorizationCodeFlow(
  issuer: string,
  options: { clientId: string; redirectUri: string; username: string; password?: string; origin?: string },
): Promise<CodeFlowResult> {
  const jar = new CookieJar();
  const verifier = randomBytes(32).toString("base64url");
  const state = randomBytes(8).toString("hex");
  const auth = new URL(endpoint(issuer, "auth"));
  auth.search = new URLSearchParams({
    client_id: options.clientId,
    redirect_uri: options.redirectUri,
    response_type: "code",
    scope: "openid",
    state,
    code_challenge: createHash("sha256").update(verifier).digest("base64url"),
    code_challenge_method: "S256",
  }).toString();

  // Follow redirects until the login form.
  let url = auth.href;
  let response = await jar.request(url);
  for (let hops = 0; response.status >= 300 && response.status < 400 && hops < 10; hops += 1) {
    url = new URL(response.headers.get("location") ?? "", url).href;
    response = await jar.request(url);
  }
  const loginPage = await response.text();
  if (response.status !== 200) throw new Error(`login page: ${response.status} ${loginPage.slice(0, 300)}`);
  const action =
    /<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"/.exec(loginPage)?.[1] ?? /<form[^>]*action="([^"]+)"[^>]*id="kc-form-login"/.exec(loginPage)?.[1];
  if (action === undefined) throw new Error(`no kc-form-login form on ${url}`);
  const loginPageUrl = url;

  url = new URL(decodeEntities(action), url).href;
  response = await jar.request(url, { form: { username: options.username, password: options.password ?? options.username, credentialId: "" } });
  let callback: URL | undefined;
  for (let hops = 0; response.status >= 300 && response.status < 400 && hops < 10; hops += 1) {
    const next = new URL(response.headers.get("location") ?? "", url);
    if (next.href.startsWith(options.redirectUri)) {
      callback = next;
      break;
    }
    url = next.href;
    response = await jar.request(url);
  }
  if (callback === undefined)
    throw new Error(`the login did not come back to ${options.redirectUri}: ${response.status} ${(await response.text()).slice(0, 300)}`);
  if (callback.searchParams.get("state") !== state) throw new Error("state changed on the way");
  const code = callback.searchParams.get("code") ?? "";

  const exchange = async (codeVerifier: string): Promise<Answer<TokenResponse>> => {
    const answer = await fetch(endpoint(issuer, "token"), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", ...(options.origin === undefined ? {} : { origin: options.origin }) },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code,
        redirect_uri: options.redirectUri,
        client_id: options.clientId,
        code_verifier: codeVerifier,
      }),
    });
    return { status: answer.status, body: (await readJson(answer)) as TokenResponse, headers: answer.headers };
  };
  return { loginPage, loginPageUrl, callback, redeem: (which = "right") => exchange(which === "right" ? verifier : randomBytes(32).toString("base64url")) };
}

export async function userinfo(issuer: string, accessToken: string): Promise<Answer<Record<string, unknown>>> {
  const response = await fetch(endpoint(issuer, "userinfo"), { headers: { authorization: `Bearer ${accessToken}` } });
  return { status: response.status, body: (await readJson(response)) as Record<string, unknown>, headers: response.headers };
}

/** Keycloak's back-channel logout for confidential clients: POST the refresh token to the logout endpoint. */
export async function logout(issuer: string, refreshToken: string, client: ClientCredentials = API_CLIENT): Promise<Answer<unknown>> {
  const response = await fetch(endpoint(issuer, "logout"), {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", authorization: basic(client) },
    body: new URLSearchParams({ refresh_token: refreshToken }),
  });
  return { status: response.status, body: await readJson(response), headers: response.headers };
}

export async function certs(issuer: string): Promise<Array<Record<string, unknown> & { kid: string; use?: string }>> {
  const response = await fetch(endpoint(issuer, "certs"));
  if (response.status !== 200) throw new Error(`certs: ${response.status}`);
  return ((await response.json()) as { keys: Array<Record<string, unknown> & { kid: string; use?: string }> }).keys;
}

export const headerOf = (token: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(token.split(".")[0] ?? "", "base64url").toString("utf8")) as Record<string, unknown>;

export const kidOf = (token: string): string => String(headerOf(token).kid);

/** GET (or another method) on the API; the body parsed when it is JSON. */
export async function callApi(baseUrl: string, method: string, path: string, token?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: token === undefined ? {} : { authorization: token.includes(" ") ? token : `Bearer ${token}` },
  });
  return { status: response.status, body: (await readJson(response)) as Record<string, unknown> };
}

/** A request to the API with headers of its own (`Authorization: DPoP ...` and a `DPoP` proof, say). */
export async function callApiWith(
  baseUrl: string,
  method: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${baseUrl}${path}`, { method, headers });
  return { status: response.status, body: (await readJson(response)) as Record<string, unknown> };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
