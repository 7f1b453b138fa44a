/**
 * The local Keycloak stand-in over real HTTP on loopback: discovery, grants, token shape and signature,
 * errors, key rotation, the browser login (authorization code + PKCE) and realm-file-driven behaviour.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWTPayload } from "jose";
import { type RunningProvider, startProvider } from "../../local/provider/index.js";

const REALM_FILE = join(process.cwd(), "keycloak", "realm-demo.json");
const API_CLIENT = { id: "api-client", secret: "api-client-secret" };
const REDIRECT_URI = "http://localhost:3000/callback";

interface Discovery {
  issuer: string;
  token_endpoint: string;
  authorization_endpoint: string;
  jwks_uri: string;
  userinfo_endpoint: string;
  end_session_endpoint: string;
}

interface TokenResponse {
  access_token?: string;
  id_token?: string;
  refresh_token?: string;
  token_type?: string;
  expires_in?: number;
  error?: string;
  error_description?: string;
}

async function discover(issuer: string): Promise<Discovery> {
  const response = await fetch(`${issuer}/.well-known/openid-configuration`);
  expect(response.status).toBe(200);
  return (await response.json()) as Discovery;
}

function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`;
}

async function tokenRequest(
  endpoint: string,
  params: Record<string, string>,
  headers: Record<string, string> = { authorization: basic(API_CLIENT.id, API_CLIENT.secret) },
): Promise<{ status: number; body: TokenResponse; headers: Headers }> {
  const response = await fetch(endpoint, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(params),
  });
  return { status: response.status, body: (await response.json()) as TokenResponse, headers: response.headers };
}

function passwordGrant(endpoint: string, username: string, password: string, scope = "openid") {
  return tokenRequest(endpoint, { grant_type: "password", username, password, scope });
}

describe("local Keycloak provider", () => {
  let provider: RunningProvider;
  let discovery: Discovery;
  let verify: (token: string) => Promise<JWTPayload>;

  beforeAll(async () => {
    provider = await startProvider({ realmFile: REALM_FILE, port: 0 });
    discovery = await discover(provider.issuer);
    const jwks = createRemoteJWKSet(new URL(discovery.jwks_uri), { cooldownDuration: 0 });
    verify = async (token) => (await jwtVerify(token, jwks, { issuer: provider.issuer, algorithms: ["RS256"] })).payload;
  });

  afterAll(async () => {
    await provider?.close();
  });

  it("uses a free port and serves Keycloak's discovery at the realm issuer", () => {
    expect(provider.port).toBeGreaterThan(0);
    expect(provider.issuer).toBe(`http://localhost:${provider.port}/realms/demo`);
    expect(discovery.issuer).toBe(provider.issuer);
    const base = `${provider.issuer}/protocol/openid-connect`;
    expect(discovery.token_endpoint).toBe(`${base}/token`);
    expect(discovery.authorization_endpoint).toBe(`${base}/auth`);
    expect(discovery.jwks_uri).toBe(`${base}/certs`);
    expect(discovery.userinfo_endpoint).toBe(`${base}/userinfo`);
    expect(discovery.end_session_endpoint).toBe(`${base}/logout`);
  });

  it("answers 404 outside the realm", async () => {
    const response = await fetch(`http://localhost:${provider.port}/realms/other/.well-known/openid-configuration`);
    expect(response.status).toBe(404);
  });

  it("publishes an RS256 signing key and an RSA-OAEP encryption key", async () => {
    const response = await fetch(discovery.jwks_uri);
    expect(response.status).toBe(200);
    const { keys } = (await response.json()) as { keys: Array<Record<string, unknown>> };
    expect(keys).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kty: "RSA", use: "sig", alg: "RS256" }),
        expect.objectContaining({ kty: "RSA", use: "enc", alg: "RSA-OAEP" }),
      ]),
    );
    for (const key of keys) expect(key).not.toHaveProperty("d");
  });

  it("issues a Keycloak-shaped service-account token for client credentials", async () => {
    const { status, body } = await tokenRequest(discovery.token_endpoint, { grant_type: "client_credentials" });
    expect(status).toBe(200);
    expect(body.token_type).toBe("Bearer");
    expect(body.expires_in).toBe(300);
    expect(body.refresh_token).toBeUndefined();
    const token = body.access_token ?? "";
    const header = decodeProtectedHeader(token);
    expect(header).toMatchObject({ alg: "RS256", typ: "JWT" });
    expect(typeof header.kid).toBe("string");

    const claims = await verify(token);
    expect(claims).toMatchObject({
      iss: provider.issuer,
      aud: "secured-api",
      sub: "9a4e6b21-0c7d-4e58-8f3a-5b2d1c6e7f33",
      typ: "Bearer",
      azp: "api-client",
      preferred_username: "service-account-api-client",
      resource_access: { "secured-api": { roles: ["reader"] } },
    });
    expect(typeof claims.jti).toBe("string");
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(300);
    expect(claims.sid).toBeUndefined();
    // As in Keycloak with this realm: its clients list their scopes without `service_account`, so
    // no client_id / clientHost / clientAddress claims.
    expect(claims.client_id).toBeUndefined();
    expect(String(claims.scope).split(" ")).toEqual(expect.arrayContaining(["profile", "email"]));
  });

  it("accepts client_secret_post as well as client_secret_basic", async () => {
    const { status, body } = await tokenRequest(
      discovery.token_endpoint,
      { grant_type: "client_credentials", client_id: API_CLIENT.id, client_secret: API_CLIENT.secret },
      {},
    );
    expect(status).toBe(200);
    expect(typeof body.access_token).toBe("string");
  });

  it("issues user tokens for the password grant, with ID token and working refresh", async () => {
    const { status, body } = await passwordGrant(discovery.token_endpoint, "alice", "alice", "openid");
    expect(status).toBe(200);
    const access = await verify(body.access_token ?? "");
    expect(decodeProtectedHeader(body.access_token ?? "")).toMatchObject({ alg: "RS256", typ: "JWT" });
    expect(access).toMatchObject({
      iss: provider.issuer,
      aud: "secured-api",
      sub: "6f1c2a0e-8a53-4c8e-9d4b-0a1f3e7c2b11",
      typ: "Bearer",
      azp: "api-client",
      scope: "openid profile email",
      preferred_username: "alice",
      email: "alice@example.com",
      email_verified: true,
      name: "Alice Liddell",
      resource_access: { "secured-api": { roles: ["writer"] } },
    });
    expect((access.realm_access as { roles: string[] }).roles.sort()).toEqual(["admin", "user"]);
    expect(typeof access.sid).toBe("string");
    expect(access.client_id).toBeUndefined();

    const id = await verify(body.id_token ?? "");
    expect(id).toMatchObject({ typ: "ID", aud: "api-client", sub: access.sub, sid: access.sid, preferred_username: "alice" });

    expect(typeof body.refresh_token).toBe("string");
    const refreshed = await tokenRequest(discovery.token_endpoint, {
      grant_type: "refresh_token",
      refresh_token: body.refresh_token ?? "",
    });
    expect(refreshed.status).toBe(200);
    const again = await verify(refreshed.body.access_token ?? "");
    expect(again).toMatchObject({ sub: access.sub, aud: "secured-api", typ: "Bearer", preferred_username: "alice" });
    expect(again.jti).not.toBe(access.jti);
  });

  it("serves userinfo for its access tokens", async () => {
    const { body } = await passwordGrant(discovery.token_endpoint, "bob", "bob");
    const response = await fetch(discovery.userinfo_endpoint, { headers: { authorization: `Bearer ${body.access_token}` } });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ preferred_username: "bob", email: "bob@example.com" });
    const forged = await fetch(discovery.userinfo_endpoint, { headers: { authorization: "Bearer abc.def.ghi" } });
    expect(forged.status).toBe(401);
  });

  it("refuses a wrong client secret with 401 unauthorized_client, Keycloak's code for it", async () => {
    const { status, body } = await tokenRequest(
      discovery.token_endpoint,
      { grant_type: "client_credentials" },
      { authorization: basic(API_CLIENT.id, "wrong-secret") },
    );
    expect(status).toBe(401);
    expect(body.error).toBe("unauthorized_client");
  });

  it("refuses a wrong password and an unknown user with 401 invalid_grant, as Keycloak does", async () => {
    const wrong = await passwordGrant(discovery.token_endpoint, "alice", "not-alice");
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual({ error: "invalid_grant", error_description: "Invalid user credentials" });
    const unknown = await passwordGrant(discovery.token_endpoint, "mallory", "mallory");
    expect(unknown.status).toBe(401);
    expect(unknown.body.error).toBe("invalid_grant");
  });

  it("does not let the public client use the password grant", async () => {
    const { status, body } = await tokenRequest(
      discovery.token_endpoint,
      { grant_type: "password", username: "alice", password: "alice", client_id: "api-docs" },
      {},
    );
    expect(status).toBe(400);
    expect(body).toEqual({ error: "unauthorized_client", error_description: "Client not allowed for direct access grants" });
  });

  it("allows CORS on the token endpoint only for the client's web origins", async () => {
    const params = { grant_type: "refresh_token", refresh_token: "nope", client_id: "api-docs" };
    const allowed = await tokenRequest(discovery.token_endpoint, params, { origin: "http://localhost:3000" });
    expect(allowed.headers.get("access-control-allow-origin")).toBe("http://localhost:3000");
    const denied = await tokenRequest(discovery.token_endpoint, params, { origin: "http://evil.example" });
    expect(denied.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("signs with a new kid after rotateSigningKey and keeps verifying older tokens", async () => {
    const before = await tokenRequest(discovery.token_endpoint, { grant_type: "client_credentials" });
    const oldKid = decodeProtectedHeader(before.body.access_token ?? "").kid;
    await provider.rotateSigningKey();
    const after = await tokenRequest(discovery.token_endpoint, { grant_type: "client_credentials" });
    expect(after.status).toBe(200);
    const newKid = decodeProtectedHeader(after.body.access_token ?? "").kid;
    expect(newKid).toBeDefined();
    expect(newKid).not.toBe(oldKid);

    const { keys } = (await (await fetch(discovery.jwks_uri)).json()) as { keys: Array<{ kid: string; use: string }> };
    const signing = keys.filter((k) => k.use === "sig").map((k) => k.kid);
    expect(signing).toEqual(expect.arrayContaining([oldKid, newKid]));
    await expect(verify(after.body.access_token ?? "")).resolves.toMatchObject({ aud: "secured-api" });
    await expect(verify(before.body.access_token ?? "")).resolves.toMatchObject({ aud: "secured-api" });
  });

  it("runs the browser login: authorization code with PKCE S256", async () => {
    const verifier = randomBytes(32).toString("base64url");
    const challenge = createHash("sha256").update(verifier).digest("base64url");
    const state = randomBytes(8).toString("hex");
    const auth = new URL(discovery.authorization_endpoint);
    auth.search = new URLSearchParams({
      client_id: "api-docs",
      redirect_uri: REDIRECT_URI,
      response_type: "code",
      scope: "openid",
      state,
      code_challenge: challenge,
      code_challenge_method: "S256",
    }).toString();

    const browser = new Browser();
    let response = await browser.get(auth.href);
    expect(response.status).toBe(303);
    let location = new URL(response.headers.get("location") ?? "", auth);
    expect(location.pathname).toContain("/realms/demo/login-actions/");

    const page = await browser.get(location.href);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toMatch(/<input[^>]+name="username"/);
    expect(html).toMatch(/<input[^>]+name="password"/);
    expect(html).toMatch(/<button[^>]+type="submit"/);
    const action = new URL(/<form[^>]+action="([^"]+)"/.exec(html)?.[1] ?? "", location).href;

    const rejected = await browser.post(action, { username: "alice", password: "wrong" });
    expect(rejected.status).toBe(200);
    expect(await rejected.text()).toContain("Invalid username or password.");

    response = await browser.post(action, { username: "alice", password: "alice" });
    // Follow the provider's redirects (resume, possible auto-consent) until it sends us to the client.
    for (let hops = 0; hops < 10; hops++) {
      expect([302, 303]).toContain(response.status);
      location = new URL(response.headers.get("location") ?? "", location);
      if (location.href.startsWith("http://localhost:3000/")) break;
      response = await browser.get(location.href);
    }
    expect(location.origin + location.pathname).toBe(REDIRECT_URI);
    expect(location.searchParams.get("state")).toBe(state);
    expect(location.searchParams.get("iss")).toBe(provider.issuer);
    const code = location.searchParams.get("code") ?? "";
    expect(code).not.toBe("");

    // (A wrong verifier is refused and spends the code, as in Keycloak: test/contract/contract.ts.)
    const exchange = await tokenRequest(
      discovery.token_endpoint,
      { grant_type: "authorization_code", code, redirect_uri: REDIRECT_URI, client_id: "api-docs", code_verifier: verifier },
      { origin: "http://localhost:3000" },
    );
    expect(exchange.status).toBe(200);
    expect(exchange.headers.get("access-control-allow-origin")).toBe("http://localhost:3000");
    const access = await verify(exchange.body.access_token ?? "");
    expect(access).toMatchObject({
      aud: "secured-api",
      azp: "api-docs",
      typ: "Bearer",
      preferred_username: "alice",
      scope: "openid profile email",
      resource_access: { "secured-api": { roles: ["writer"] } },
    });
    expect(typeof access.sid).toBe("string");
    const id = await verify(exchange.body.id_token ?? "");
    expect(id).toMatchObject({ typ: "ID", aud: "api-docs", sub: access.sub });
    expect(typeof exchange.body.refresh_token).toBe("string");

    const refreshed = await tokenRequest(
      discovery.token_endpoint,
      { grant_type: "refresh_token", refresh_token: exchange.body.refresh_token ?? "", client_id: "api-docs" },
      {},
    );
    expect(refreshed.status).toBe(200);
    await expect(verify(refreshed.body.access_token ?? "")).resolves.toMatchObject({ aud: "secured-api", azp: "api-docs" });

    // Codes are single-use (a replay also revokes what the code gave, as RFC 6749 10.5 advises).
    const replayed = await tokenRequest(
      discovery.token_endpoint,
      { grant_type: "authorization_code", code, redirect_uri: REDIRECT_URI, client_id: "api-docs", code_verifier: verifier },
      {},
    );
    expect(replayed.status).toBe(400);
    expect(replayed.body.error).toBe("invalid_grant");
  });

  it("rejects redirect URIs outside the client's registered pattern", async () => {
    const auth = new URL(discovery.authorization_endpoint);
    auth.search = new URLSearchParams({
      client_id: "api-docs",
      redirect_uri: "http://localhost:4000/callback",
      response_type: "code",
      scope: "openid",
      code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
      code_challenge_method: "S256",
    }).toString();
    const response = await fetch(auth, { redirect: "manual" });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("redirect_uri");
  });
});

describe("provider driven by the realm file", () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "realm-"));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reflects a changed user, password and roles in issued tokens", async () => {
    const realm = JSON.parse(await readFile(REALM_FILE, "utf8")) as {
      users: Array<{ username: string; credentials: Array<{ value: string }>; realmRoles: string[]; clientRoles: Record<string, string[]> }>;
      clients: Array<{ clientId: string; protocolMappers?: unknown[] }>;
    };
    const bob = realm.users.find((u) => u.username === "bob");
    if (!bob) throw new Error("bob missing from the realm file");
    bob.username = "robert";
    bob.credentials = [{ value: "s3cret" }].map((c) => ({ ...c, type: "password", temporary: false }));
    bob.realmRoles = ["user", "admin"];
    bob.clientRoles = { "secured-api": ["reader", "writer"] };
    const apiClient = realm.clients.find((c) => c.clientId === "api-client");
    if (!apiClient) throw new Error("api-client missing from the realm file");
    apiClient.protocolMappers = [];
    const file = join(dir, "realm-changed.json");
    await writeFile(file, JSON.stringify(realm));

    const changed = await startProvider({ realmFile: file, port: 0 });
    try {
      const { token_endpoint: endpoint } = await discover(changed.issuer);
      expect((await passwordGrant(endpoint, "bob", "bob")).body.error).toBe("invalid_grant");
      expect((await passwordGrant(endpoint, "robert", "robert")).body.error).toBe("invalid_grant");
      const { status, body } = await passwordGrant(endpoint, "robert", "s3cret");
      expect(status).toBe(200);
      const [, payload] = (body.access_token ?? "").split(".");
      const claims = JSON.parse(Buffer.from(payload ?? "", "base64url").toString("utf8")) as Record<string, unknown>;
      expect(claims.preferred_username).toBe("robert");
      expect((claims.realm_access as { roles: string[] }).roles.sort()).toEqual(["admin", "user"]);
      expect(claims.resource_access).toEqual({ "secured-api": { roles: ["reader", "writer"] } });
      // No audience mapper any more: the token is no longer meant for secured-api.
      expect([claims.aud].flat()).not.toContain("secured-api");
    } finally {
      await changed.close();
    }
  });

  it("honours an explicit issuer and refuses an invalid realm file", async () => {
    const fixed = await startProvider({ realmFile: REALM_FILE, port: 0, issuer: "http://localhost:8080/realms/demo" });
    try {
      expect(fixed.issuer).toBe("http://localhost:8080/realms/demo");
      const response = await fetch(`http://127.0.0.1:${fixed.port}/realms/demo/.well-known/openid-configuration`);
      expect(((await response.json()) as Discovery).token_endpoint).toBe("http://localhost:8080/realms/demo/protocol/openid-connect/token");
    } finally {
      await fixed.close();
    }
    const broken = join(dir, "broken.json");
    await writeFile(broken, JSON.stringify({ realm: "demo", enabled: true, users: [{ username: "eve", realmRoles: ["nope"] }] }));
    await expect(startProvider({ realmFile: broken, port: 0 })).rejects.toThrow(/realm role nope does not exist/);
  });
});

/** Just enough of a browser: a cookie jar and manual redirects. */
class Browser {
  private readonly cookies = new Map<string, string>();

  private remember(response: Response): Response {
    for (const header of response.headers.getSetCookie()) {
      const [pair = "", ...attributes] = header.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((a) => /^\s*expires=/i.test(a) && Date.parse(a.split("=")[1] ?? "") < Date.now());
      if (expired || value === "") this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }

  private get cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  async get(url: string): Promise<Response> {
    return this.remember(await fetch(url, { redirect: "manual", headers: { cookie: this.cookieHeader } }));
  }

  async post(url: string, form: Record<string, string>): Promise<Response> {
    return this.remember(
      await fetch(url, {
        method: "POST",
        redirect: "manual",
        headers: { cookie: this.cookieHeader, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(form),
      }),
    );
  }
}
