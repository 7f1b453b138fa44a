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
  const document = await fetchJson(discoveryUrl(issuer));
  if (typeof document !== "object" || document === null || Array.isArray(document)) {
    throw new KeysUnavailableError("discovery document is not a JSON object");
  }
  const { issuer: advertised, jwks_uri: jwksUri } = document as Record<string, unknown>;
  if (advertised !== issuer) {
    throw new KeysUnavailableError(`discovery issuer ${JSON.stringify(advertised)} differs from KEYCLOAK_ISSUER ${JSON.stringify(issuer)}`);
  }
  if (typeof jwksUri !== "string" || !URL.canParse(jwksUri)) {
    throw new KeysUnavailableError("discovery document has no valid jwks_uri");
  }
  // Realms of a pattern come and go on one Keycloak: their keys must come from that Keycloak too.
  if (options.sameOrigin === true && new URL(jwksUri).origin !== new URL(issuer).origin) {
    throw new KeysUnavailableError("discovery names a jwks_uri on another origin than the realm's");
  }
  return jwksUri;
}
