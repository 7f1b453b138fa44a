/**
 * Keycloak's built-in client scopes. A realm export normally relies on them without declaring them
 * (Keycloak creates them when it imports a realm that has no `clientScopes`), so their behaviour is
 * encoded here rather than read from the file. Which of them a client gets does come from the file.
 */
import type { ClientRepresentation } from "./realm.js";

/** Keycloak's realm defaults when a client lists no scopes of its own. */
const DEFAULT_CLIENT_SCOPES = ["web-origins", "acr", "profile", "roles", "basic", "email"];
const OPTIONAL_CLIENT_SCOPES = ["address", "phone", "offline_access", "microprofile-jwt", "organization"];

/** Scopes whose `include.in.token.scope` is true in Keycloak, i.e. that appear in the `scope` claim. */
const SHOWN_IN_SCOPE_CLAIM = ["openid", "organization", "profile", "email", "address", "phone", "offline_access", "microprofile-jwt"];

/** Every scope name oidc-provider should know, so it neither drops nor rejects them. */
export const KNOWN_SCOPES = [...new Set(["openid", ...DEFAULT_CLIENT_SCOPES, ...OPTIONAL_CLIENT_SCOPES])];

export function defaultScopes(client: ClientRepresentation): string[] {
  return client.defaultClientScopes ?? DEFAULT_CLIENT_SCOPES;
}

export function optionalScopes(client: ClientRepresentation): string[] {
  return client.optionalClientScopes ?? OPTIONAL_CLIENT_SCOPES;
}

/** Keycloak applies a client's default scopes whether asked for or not; optional ones only when asked. */
export function effectiveScopes(client: ClientRepresentation, requested: Iterable<string>): Set<string> {
  const allowed = new Set(["openid", ...optionalScopes(client)]);
  const result = new Set(defaultScopes(client));
  for (const scope of requested) if (allowed.has(scope)) result.add(scope);
  return result;
}

/** The `scope` claim as Keycloak writes it: `openid` first, then visible scopes in a stable order. */
export function scopeClaim(scopes: Set<string>): string {
  return SHOWN_IN_SCOPE_CLAIM.filter((s) => scopes.has(s)).join(" ");
}
