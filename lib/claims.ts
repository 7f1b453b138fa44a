/**
 * The data that flows from the verifier to everything after it: a verified token's claims and
 * what the authorizer knows about them. Its own module, so that routes, the API Gateway context and
 * the protected handlers can name these types without importing the verifier.
 */
import type { JwtPayload } from "aws-jwt-verify/jwt-model";

/** The claims of a verified Keycloak access token, as JSON (types as Keycloak wrote them). */
export type KeycloakClaims = JwtPayload;

/**
 * A lightweight access token (Keycloak's "Always use lightweight access token") carries no `aud`
 * claim at all; the authorizer lets one through only with KEYCLOAK_LIGHTWEIGHT_TOKENS.
 */
export const isLightweightToken = (claims: Readonly<Record<string, unknown>>): boolean => !Object.hasOwn(claims, "aud");

/**
 * The `jkt` of a DPoP binding (`cnf` holding `jkt` alone, RFC 9449 section 6); undefined for a
 * binding of another kind, or a malformed one. Read by the authorizer's key-binding check, the
 * handler's challenges and the doctor alike.
 */
export function dpopThumbprint(cnf: unknown): string | undefined {
  if (typeof cnf !== "object" || cnf === null || Array.isArray(cnf)) return undefined;
  const { jkt } = cnf as { jkt?: unknown };
  return Object.keys(cnf).length === 1 && typeof jkt === "string" && jkt !== "" ? jkt : undefined;
}

/** What a successful verification yields. Shared with later calls for the same token: never mutate. */
export interface VerifiedToken {
  readonly claims: KeycloakClaims;
  /** The payload's JSON text exactly as signed (claims named `__proto__` included). */
  readonly claimsJson: string;
  /** The value of the principal claim (`sub` by default): who the caller is. */
  readonly principal: string;
  /** The key that verified it, for logs. */
  readonly kid: string;
  /** The name of the realm that issued it (`demo`). */
  readonly realm: string;
  /** Its issuer, exactly as trusted. */
  readonly issuer: string;
  /**
   * A lightweight access token (no `aud` claim), accepted with KEYCLOAK_LIGHTWEIGHT_TOKENS for strict
   * routes only: its audience and rights are judged on Keycloak's introspection answer.
   */
  readonly lightweight?: true;
}
