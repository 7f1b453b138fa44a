/**
 * Realm clients as oidc-provider client metadata, plus the Keycloak behaviours oidc-provider does not
 * have natively: wildcard redirect URIs, "+" shorthands and per-client CORS origins.
 */
import type { ClientMetadata } from "oidc-provider";
import type { ClientRepresentation, Realm } from "./realm.js";
import { defaultScopes, optionalScopes } from "./scopes.js";

export function isPublic(client: ClientRepresentation): boolean {
  return client.publicClient === true;
}

/** Keycloak resolves relative redirect URIs against the client's rootUrl. */
function absolute(client: ClientRepresentation, uri: string): string {
  return uri.startsWith("/") && client.rootUrl ? `${client.rootUrl.replace(/\/$/, "")}${uri}` : uri;
}

export function redirectUris(client: ClientRepresentation): string[] {
  return (client.redirectUris ?? []).map((u) => absolute(client, u));
}

/** `post.logout.redirect.uris` is "##"-separated, and "+" means "same as the redirect URIs". */
export function postLogoutRedirectUris(client: ClientRepresentation): string[] {
  const raw = client.attributes?.["post.logout.redirect.uris"];
  if (!raw) return [];
  return raw.split("##").flatMap((u) => (u === "+" ? redirectUris(client) : [absolute(client, u)]));
}

/** Keycloak's matching: exact, or a registered value ending in `*` matches by prefix. */
export function uriMatches(registered: readonly string[], candidate: string): boolean {
  return registered.some((pattern) => (pattern.endsWith("*") ? candidate.startsWith(pattern.slice(0, -1)) : candidate === pattern));
}

/** Web origins with Keycloak's "+" (origins of the redirect URIs) expanded; "*" stays as is. */
export function webOrigins(client: ClientRepresentation): string[] {
  return (client.webOrigins ?? []).flatMap((o) => {
    if (o !== "+") return [o];
    return redirectUris(client).flatMap((u) => {
      try {
        return [new URL(u.replace(/\*$/, "")).origin];
      } catch {
        return [];
      }
    });
  });
}

export function originAllowed(client: ClientRepresentation, origin: string): boolean {
  const origins = webOrigins(client);
  return origins.includes("*") || origins.includes(origin);
}

/** Which OAuth grants the client's Keycloak flags switch on. */
export function grantTypes(client: ClientRepresentation): string[] {
  const grants: string[] = [];
  if (client.standardFlowEnabled === true) grants.push("authorization_code");
  if (client.directAccessGrantsEnabled === true) grants.push("password");
  if (client.serviceAccountsEnabled === true && !isPublic(client)) grants.push("client_credentials");
  // Keycloak issues refresh tokens for user logins (not for client credentials, by default).
  if (client.standardFlowEnabled === true || client.directAccessGrantsEnabled === true) grants.push("refresh_token");
  return grants;
}

export function toClientMetadata(client: ClientRepresentation): ClientMetadata {
  const standardFlow = client.standardFlowEnabled === true;
  const metadata: ClientMetadata = {
    client_id: client.clientId,
    grant_types: grantTypes(client),
    response_types: standardFlow ? ["code"] : [],
    redirect_uris: standardFlow ? redirectUris(client) : [],
    post_logout_redirect_uris: standardFlow ? postLogoutRedirectUris(client) : [],
    scope: ["openid", ...defaultScopes(client), ...optionalScopes(client)].join(" "),
    id_token_signed_response_alg: "RS256",
    // Basic and post are interchangeable in oidc-provider, as both are in Keycloak.
    token_endpoint_auth_method: isPublic(client) ? "none" : "client_secret_basic",
  };
  if (!isPublic(client) && client.secret !== undefined) metadata.client_secret = client.secret;
  // Keycloak's "Backchannel logout URL" and "Backchannel logout session required" (on by default).
  const backchannel = client.attributes?.["backchannel.logout.url"];
  if (backchannel !== undefined && backchannel !== "") {
    metadata.backchannel_logout_uri = backchannel;
    metadata.backchannel_logout_session_required = client.attributes?.["backchannel.logout.session.required"] !== "false";
  }
  // Keycloak's "Require DPoP bound tokens" (client attribute), RFC 9449 section 5.2's metadata.
  if (dpopRequired(client)) metadata.dpop_bound_access_tokens = true;
  return metadata;
}

/** Clients that can obtain tokens; resource-only clients have nothing to register. */
export function tokenClients(realm: Realm): ClientRepresentation[] {
  return realm.clients.filter((c) => grantTypes(c).length > 0);
}

/** Keycloak's "Require DPoP bound tokens": every token request of the client must carry a DPoP proof. */
export function dpopRequired(client: ClientRepresentation): boolean {
  return client.attributes?.["dpop.bound.access.tokens"] === "true";
}

export function pkceRequired(client: ClientRepresentation | undefined): boolean {
  if (!client) return true;
  return isPublic(client) || client.attributes?.["pkce.code.challenge.method"] === "S256";
}
