import { KeysUnavailableError } from "../errors.js";
import type { FetchJson } from "./fetch-json.js";

/** Keycloak serves discovery under the realm: `${issuer}/.well-known/openid-configuration`. */
export function discoveryUrl(issuer: string): string {
  return `${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`;
}

/**
 * Resolve the realm's JWKS URI through OIDC discovery. The document's `issuer` must equal ours
 * exactly (OpenID Connect Discovery 1.0 section 4.3), or a misrouted document could name any keys.
 */
export async function discoverJwksUri(issuer: string, fetchJson: FetchJson, options: { sameOrigin?: boolean } = {}): Promise<string> {
  const { jwks_uri: jwksUri } = await discoveryDocument(issuer, fetchJson);
  if (typeof jwksUri !== "string" || !URL.canParse(jwksUri)) {
    throw new KeysUnavailableError("discovery document has no valid jwks_uri");
  }
  // Realms of a pattern come and go on one Keycloak: their keys must come from that Keycloak too.
  if (options.sameOrigin === true && new URL(jwksUri).origin !== new URL(issuer).origin) {
    throw new KeysUnavailableError("discovery names a jwks_uri on another origin than the realm's");
  }
  return jwksUri;
}

/**
 * The realm's token introspection endpoint (RFC 8414 `introspection_endpoint`). It is sent tokens
 * and the API's client secret, so it must be on the realm's own origin, whatever discovery says.
 */
export async function discoverIntrospectionEndpoint(issuer: string, fetchJson: FetchJson): Promise<string> {
  const { introspection_endpoint: endpoint } = await discoveryDocument(issuer, fetchJson);
  if (typeof endpoint !== "string" || !URL.canParse(endpoint)) {
    throw new KeysUnavailableError("discovery document has no valid introspection_endpoint");
  }
  if (new URL(endpoint).origin !== new URL(issuer).origin) {
    throw new KeysUnavailableError("discovery names an introspection_endpoint on another origin than the realm's");
  }
  return endpoint;
}

async function discoveryDocument(issuer: string, fetchJson: FetchJson): Promise<Record<string, unknown>> {
  const document = await fetchJson(discoveryUrl(issuer));
  if (typeof document !== "object" || document === null || Array.isArray(document)) {
    throw new KeysUnavailableError("discovery document is not a JSON object");
  }
  const advertised = (document as Record<string, unknown>).issuer;
  if (advertised !== issuer) {
    throw new KeysUnavailableError(`discovery issuer ${JSON.stringify(advertised)} differs from KEYCLOAK_ISSUER ${JSON.stringify(issuer)}`);
  }
  return document as Record<string, unknown>;
}
