/**
 * Settings of session revocation (lib/revocation/): the DynamoDB table that the back-channel
 * logout receiver writes and the authorizer reads, and how each side uses it. The authorizer's
 * record (REVOCATION_SETTINGS) is spread into AUTHORIZER_SETTINGS; the receiver's own function has
 * LOGOUT_RECEIVER_SETTINGS (lib/config/logout-receiver-config.ts), which reuses these definitions.
 * Revocation is off while KEYCLOAK_REVOCATION_TABLE is unset: nothing is read, loaded or checked.
 */
import { flag, integer, text, url } from "./settings.js";

export const REVOCATION_TABLE = text("KEYCLOAK_REVOCATION_TABLE", {
  doc: "the DynamoDB table of sessions Keycloak ended (serverless.yml sets it when the `revocation` parameter is true); unset: no revocation check",
});

export const REVOCATION_ENDPOINT = url("KEYCLOAK_REVOCATION_ENDPOINT", {
  doc: "a DynamoDB-compatible endpoint instead of AWS's (the local stack's dynalite); unset on AWS",
  example: "http://127.0.0.1:8000",
});

export const REVOCATION_TIMEOUT_MS = integer("KEYCLOAK_REVOCATION_TIMEOUT_MS", {
  doc: "the whole budget of one revocation store request, retries included",
  fallback: 1000,
  min: 50,
  max: 10_000,
  unit: "ms",
});

/**
 * Both sides: the receiver keeps each revocation this long past the logout (plus the skew and a
 * minute), and the authorizer, with revocation on, refuses tokens that would outlive their record.
 */
export const MAX_TOKEN_LIFETIME_SECONDS = integer("KEYCLOAK_MAX_TOKEN_LIFETIME_SECONDS", {
  doc: "the longest access-token lifespan of the realm (and of any of its clients): each revocation is kept this long plus the skew and a minute (DynamoDB TTL), so the table never grows without bound; with revocation on, the authorizer refuses tokens whose `exp - iat` is longer (they would outlive their revocation)",
  fallback: 3600,
  min: 60,
  max: 86_400,
  unit: "s",
});

/** The authorizer's part: spread into AUTHORIZER_SETTINGS. */
export const REVOCATION_SETTINGS = {
  revocationTable: REVOCATION_TABLE,
  revocationEndpoint: REVOCATION_ENDPOINT,
  revocationCacheSeconds: integer("KEYCLOAK_REVOCATION_CACHE_SECONDS", {
    doc: "how long one instance trusts a lookup (revoked or not) of a `sid` or `sub`: the longest a logout takes to reach an instance that has seen the session, before API Gateway's result cache",
    fallback: 15,
    min: 0,
    max: 3600,
    unit: "s",
  }),
  revocationFailOpen: flag("KEYCLOAK_REVOCATION_FAIL_OPEN", {
    doc: "when the revocation store cannot be read, allow tokens that verify (logged, metric `RevocationFailOpen`) instead of refusing them with a 500",
    fallback: false,
  }),
  revocationTimeoutMs: REVOCATION_TIMEOUT_MS,
  maxTokenLifetimeSeconds: MAX_TOKEN_LIFETIME_SECONDS,
} as const;
