/**
 * A local Keycloak stand-in on 127.0.0.1 (free port): per realm, OIDC discovery at
 * `/realms/<name>/.well-known/openid-configuration` and the certs at
 * `/realms/<name>/protocol/openid-connect/certs` (a signing key and an encryption key, as Keycloak
 * publishes them). Realms are created on demand, each with its own RSA key, so a scenario can ask
 * for several (a multi-realm flood). Requests are counted per realm; `GET /__bench/stats` returns
 * the counts, for processes that must wait until their keys were served. Its token introspection
 * endpoint answers every token as live (for the secured function's strict routes).
 */
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createRealmKey, type RealmKey } from "./tokens.js";

export interface RealmCounts {
  discovery: number;
  jwks: number;
  /** Token introspection requests (RFC 7662), answered `active: true` with the token's claims. */
  introspection: number;
}

export interface Idp {
  readonly origin: string;
  /** The realm's key, creating the realm on first use (with `shareKeyWith`'s keys if given). */
  realm(name: string, options?: { shareKeyWith?: string }): RealmKey;
  counts(name: string): RealmCounts;
  /** Discovery requests for realms it does not have (answered 404), since it started. */
  unknownDiscoveries(): number;
  close(): Promise<void>;
}

interface Realm {
  readonly key: RealmKey;
  readonly counts: RealmCounts;
  readonly discovery: string;
  readonly jwks: string;
}

/** The signing algorithms a Keycloak 26 realm advertises, in its order. */
const SIGNING_ALGS = ["PS384", "RS384", "EdDSA", "ES384", "HS256", "HS512", "ES256", "RS256", "HS384", "ES512", "PS256", "PS512", "RS512"];

function discoveryDocument(issuer: string): Record<string, unknown> {
  const oidc = `${issuer}/protocol/openid-connect`;
  // The fields a Keycloak 26 realm advertises that matter to a client, at a realistic size.
  return {
    issuer,
    authorization_endpoint: `${oidc}/auth`,
    token_endpoint: `${oidc}/token`,
    introspection_endpoint: `${oidc}/token/introspect`,
    userinfo_endpoint: `${oidc}/userinfo`,
    end_session_endpoint: `${oidc}/logout`,
    frontchannel_logout_session_supported: true,
    frontchannel_logout_supported: true,
    jwks_uri: `${oidc}/certs`,
    check_session_iframe: `${oidc}/login-status-iframe.html`,
    grant_types_supported: [
      "authorization_code",
      "implicit",
      "refresh_token",
      "password",
      "client_credentials",
      "urn:openid:params:grant-type:ciba",
      "urn:ietf:params:oauth:grant-type:device_code",
    ],
    acr_values_supported: ["0", "1"],
    response_types_supported: ["code", "none", "id_token", "token", "id_token token", "code id_token", "code token", "code id_token token"],
    subject_types_supported: ["public", "pairwise"],
    prompt_values_supported: ["none", "login", "consent"],
    id_token_signing_alg_values_supported: SIGNING_ALGS,
    userinfo_signing_alg_values_supported: [...SIGNING_ALGS, "none"],
    request_object_signing_alg_values_supported: [...SIGNING_ALGS, "none"],
    response_modes_supported: ["query", "fragment", "form_post", "query.jwt", "fragment.jwt", "form_post.jwt", "jwt"],
    registration_endpoint: `${issuer.replace(/\/realms\/[^/]+$/, "")}/clients-registrations/openid-connect`,
    token_endpoint_auth_methods_supported: ["private_key_jwt", "client_secret_basic", "client_secret_post", "tls_client_auth", "client_secret_jwt"],
    claims_supported: ["aud", "sub", "iss", "auth_time", "name", "given_name", "family_name", "preferred_username", "email", "acr"],
    claim_types_supported: ["normal"],
    claims_parameter_supported: true,
    scopes_supported: [
      "openid",
      "profile",
      "email",
      "roles",
      "web-origins",
      "acr",
      "basic",
      "offline_access",
      "address",
      "phone",
      "microprofile-jwt",
      "organization",
    ],
    request_parameter_supported: true,
    request_uri_parameter_supported: true,
    require_request_uri_registration: true,
    code_challenge_methods_supported: ["plain", "S256"],
    tls_client_certificate_bound_access_tokens: true,
    dpop_signing_alg_values_supported: ["PS384", "RS384", "EdDSA", "ES384", "ES256", "RS256", "ES512", "PS256", "PS512", "RS512"],
    revocation_endpoint: `${oidc}/revoke`,
    backchannel_logout_supported: true,
    backchannel_logout_session_supported: true,
    device_authorization_endpoint: `${oidc}/auth/device`,
    pushed_authorization_request_endpoint: `${oidc}/ext/par/request`,
    require_pushed_authorization_requests: false,
    authorization_response_iss_parameter_supported: true,
  };
}

export async function startIdp(): Promise<Idp> {
  const realms = new Map<string, Realm>();
  let origin = "";
  let unknownDiscoveries = 0;
  const realm = (name: string, shareKeyWith?: string): Realm => {
    let found = realms.get(name);
    if (found === undefined) {
      if (!/^[\w-]+$/.test(name)) throw new Error(`realm name ${JSON.stringify(name)}: letters, digits, - and _ only`);
      const key = createRealmKey(name, `${origin}/realms/${name}`, shareKeyWith === undefined ? undefined : realm(shareKeyWith).key);
      found = {
        key,
        counts: { discovery: 0, jwks: 0, introspection: 0 },
        discovery: JSON.stringify(discoveryDocument(key.issuer)),
        jwks: JSON.stringify(key.jwks),
      };
      realms.set(name, found);
    }
    return found;
  };
  const send = (response: ServerResponse, body: string): void => {
    response.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body), "cache-control": "no-cache" }).end(body);
  };
  const server = createServer((request, response) => {
    const url = request.url ?? "";
    if (url === "/__bench/stats") {
      send(response, JSON.stringify(Object.fromEntries([...realms].map(([name, r]) => [name, r.counts]))));
      return;
    }
    const introspection = /^\/realms\/([\w-]+)\/protocol\/openid-connect\/token\/introspect$/.exec(url);
    if (introspection !== null && request.method === "POST") {
      const asked = realms.get(introspection[1] as string);
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        if (asked === undefined) {
          response.writeHead(404).end();
          return;
        }
        asked.counts.introspection += 1;
        // Keycloak verifies the token and reads the session: its own cost, not the API's. The
        // stand-in answers what Keycloak answers for a live token: its claims, and active.
        const token = new URLSearchParams(Buffer.concat(chunks).toString("utf8")).get("token") ?? "";
        const payload = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8") || "{}") as Record<string, unknown>;
        send(response, JSON.stringify({ ...payload, client_id: payload.azp, token_type: "Bearer", active: true }));
      });
      return;
    }
    const match = /^\/realms\/([\w-]+)\/(\.well-known\/openid-configuration|protocol\/openid-connect\/certs)$/.exec(url);
    const found = match === null ? undefined : realms.get(match[1] as string);
    if (match === null || found === undefined || request.method !== "GET") {
      // A realm Keycloak does not have: what a flood of tokens for invented realms costs Keycloak.
      if (match !== null && match[2] !== "protocol/openid-connect/certs") unknownDiscoveries += 1;
      response.writeHead(404).end();
      return;
    }
    if (match[2] === "protocol/openid-connect/certs") {
      found.counts.jwks += 1;
      send(response, found.jwks);
    } else {
      found.counts.discovery += 1;
      send(response, found.discovery);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    realm: (name, options) => realm(name, options?.shareKeyWith).key,
    counts: (name) => ({ ...realm(name).counts }),
    unknownDiscoveries: () => unknownDiscoveries,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
