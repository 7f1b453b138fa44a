/**
 * Hints that name the fix. Most tokens refused in practice are not forgeries: they are valid
 * tokens of a realm configured differently from the authorizer (no Audience mapper, the issuer
 * reached through another hostname, a client without the `basic` scope, lightweight access
 * tokens, a signing algorithm the allow-list lacks, an ID or refresh token sent instead of the
 * access token). For those reasons a refusal's log line carries a short `hint` naming the Keycloak
 * or project setting to change; `npm run doctor` prints the same text for the same token.
 *
 * The rules, because every claim and header read here is unverified (claims are checked before
 * the signature) and so may be an attacker's:
 * - a hint never quotes the token's text: it classifies it ("aud is only account", "the same
 *   realm path on another host") and names our settings; the few values it does name (a client
 *   id, a host, an algorithm) must match a strict pattern or a closed list, else they are left out;
 * - hints are computed only on the refusal path, and only when the line will carry one: at most
 *   one per reason per interval ({@link HintLimiter}), so a flood of one kind of refusal costs one
 *   hint a minute, and an allowed request costs nothing;
 * - reasons that mean an attack or a broken client (a bad signature, `alg: none`, an embedded key,
 *   an unknown issuer) get no hint.
 */
import type { KeycloakClaims } from "../claims.js";
import { SUPPORTED_ALGORITHMS } from "../config/authorizer-config.js";
import { REALM_NAME } from "../config/trusted-issuers.js";
import type { RejectionDetail } from "../errors.js";
import type { Requirement } from "../routes/requirements.js";

/** What a hint may name of the configuration (all of it the operator's own, none of it secret). */
export interface HintSettings {
  /** The trusted issuers (lib/config/trusted-issuers.ts): exact ones, and `{realm}` patterns. */
  readonly issuers: { readonly exact: readonly { readonly issuer: string }[]; readonly patterns: readonly string[] };
  readonly audiences: readonly string[];
  readonly algorithms: readonly string[];
  readonly principalClaim: string;
}

/** A refusal as the hint sees it: its code and the token's unverified parts, when they decode. */
export interface HintInput {
  readonly code: string;
  readonly header?: Readonly<Record<string, unknown>> | undefined;
  readonly payload?: Readonly<Record<string, unknown>> | undefined;
  readonly detail?: RejectionDetail | undefined;
}

/** The refusal reasons that can carry a hint: configuration mismatches, not attacks. */
export const HINTED_REASONS: ReadonlySet<string> = new Set([
  "invalid_audience",
  "invalid_issuer",
  "missing_subject",
  "key_not_usable",
  "algorithm_not_allowed",
  "invalid_token_type",
]);

/** How often one reason may carry a hint, per instance. */
export const HINT_INTERVAL_MS = 60_000;

/**
 * At most one hint per reason per interval. `due` asks, `spent` records that a hint was written:
 * a refusal that turned out to have no hint (an unknown issuer, say) does not use up the interval.
 */
export class HintLimiter {
  private readonly last = new Map<string, number>();
  constructor(
    private readonly intervalMs = HINT_INTERVAL_MS,
    private readonly now: () => number = Date.now,
  ) {}
  due(reason: string): boolean {
    const at = this.last.get(reason);
    return at === undefined || this.now() - at >= this.intervalMs;
  }
  spent(reason: string): void {
    this.last.set(reason, this.now()); // reasons are a closed set: the map stays small
  }
}

/** The token's header and payload, decoded leniently (padding and bad trailing bits tolerated); undefined parts when they do not decode. */
export function tokenParts(token: string): Pick<HintInput, "header" | "payload"> {
  const [header, payload] = token.split(".", 3);
  return { header: jsonObject(header), payload: jsonObject(payload) };
}

function jsonObject(segment: string | undefined): Record<string, unknown> | undefined {
  // Hints never parse more than a token's size cap allows; 64 KiB is far above any cap.
  if (segment === undefined || segment.length === 0 || segment.length > 65_536) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The hint for a refusal, or undefined when the reason is no configuration mismatch (or the token does not say enough). */
export function hintFor(input: HintInput, settings: HintSettings): string | undefined {
  const { code, header = {}, payload = {} } = input;
  switch (code) {
    case "invalid_audience":
      return wrongTokenKind(payload) ?? audienceHint(payload, settings);
    case "invalid_token_type":
      return wrongTokenKind(payload);
    case "algorithm_not_allowed":
      return wrongTokenKind(payload) ?? algorithmHint(header, settings);
    case "invalid_issuer":
      return issuerHint(payload, settings);
    case "missing_subject":
      return subjectHint(payload, settings);
    case "key_not_usable":
      return keyHint(input.detail?.keyProblem);
    default:
      return undefined;
  }
}

/** `typ` of Keycloak's other tokens: they are signed by the same realm but are not access tokens. */
const OTHER_TOKENS: Readonly<Record<string, string>> = {
  ID: "an ID token was sent (typ ID): send the token response's access_token, not its id_token",
  Refresh: "a refresh token was sent (typ Refresh): send the token response's access_token, not its refresh_token",
  Offline: "an offline token was sent (typ Offline): send the token response's access_token, not its refresh_token",
  Logout: "a logout token was sent (typ Logout): send an access token",
};

function wrongTokenKind(payload: Readonly<Record<string, unknown>>): string | undefined {
  const typ = payload.typ;
  return typeof typ === "string" && Object.hasOwn(OTHER_TOKENS, typ) ? OTHER_TOKENS[typ] : undefined;
}

/** A lightweight access token (Keycloak 24+): only claims whose mappers are marked for it, so none of the usual ones. */
function looksLightweight(payload: Readonly<Record<string, unknown>>): boolean {
  return !("acr" in payload) && !("realm_access" in payload) && !("resource_access" in payload) && !("preferred_username" in payload);
}

function audienceHint(payload: Readonly<Record<string, unknown>>, settings: HintSettings): string {
  const aud = payload.aud;
  const audiences = typeof aud === "string" ? [aud] : Array.isArray(aud) ? aud : [];
  const has = audiences.length === 0 ? "has no aud" : audiences.every((value) => value === "account") ? 'has only aud "account"' : "names other audiences";
  const wanted = settings.audiences[0] ?? "your API's client id";
  const client = clientOf(payload);
  if (audiences.length === 0 && looksLightweight(payload)) {
    return `token ${has}: it is a lightweight access token; turn on "Add to lightweight access token" on the Audience mapper (Included Client Audience: ${wanted}) of ${client}, or turn off its "Always use lightweight access token", or accept such tokens on strict routes with KEYCLOAK_LIGHTWEIGHT_TOKENS=true (docs/revocation.md)`;
  }
  return `token ${has}, none of KEYCLOAK_AUDIENCE (${settings.audiences.join(", ")}): add an Audience mapper (Included Client Audience: ${wanted}) to ${client} or a client scope it uses, or set KEYCLOAK_AUDIENCE`;
}

function issuerHint(payload: Readonly<Record<string, unknown>>, settings: HintSettings): string | undefined {
  const iss = payload.iss;
  if (typeof iss !== "string" || iss.length > 2048 || !URL.canParse(iss)) return undefined;
  const token = new URL(iss);
  const path = (url: URL): string => url.pathname.replace(/\/+$/, "");
  // A pattern is compared with the token's own realm name put in, only when it is a plain name.
  const realm = path(token).slice(path(token).lastIndexOf("/") + 1);
  const candidates = [
    ...settings.issuers.exact.map((trusted) => trusted.issuer),
    ...(REALM_NAME.test(realm) ? settings.issuers.patterns.map((pattern) => pattern.replace("{realm}", realm)) : []),
  ];
  for (const candidate of candidates) {
    if (!URL.canParse(candidate)) continue;
    const ours = new URL(candidate);
    if (path(token) === path(ours) && token.origin !== ours.origin) {
      const host = safeHost(token);
      return `token iss has this realm's path on another host (${host === undefined ? "not shown" : host}; KEYCLOAK_ISSUER has ${ours.host}): pin Keycloak's hostname (KC_HOSTNAME or --hostname, or the realm's Frontend URL) to one URL and set KEYCLOAK_ISSUER to exactly that issuer`;
    }
    if (token.origin === ours.origin && (path(token) === `/auth${path(ours)}` || `/auth${path(token)}` === path(ours))) {
      return "token iss differs from KEYCLOAK_ISSUER only by the /auth prefix of Keycloak before 17: set KEYCLOAK_ISSUER to the issuer the realm's discovery names";
    }
  }
  return undefined;
}

function subjectHint(payload: Readonly<Record<string, unknown>>, settings: HintSettings): string {
  const client = clientOf(payload);
  const lightweight = looksLightweight(payload)
    ? `; lightweight access tokens keep sub only for service accounts: turn off its "Always use lightweight access token"`
    : "";
  if (settings.principalClaim === "sub") {
    return `token has no sub: Keycloak 25+ adds sub only through the basic client scope; add basic to the default client scopes of ${client}${lightweight}, or set KEYCLOAK_PRINCIPAL_CLAIM to another per-caller claim`;
  }
  return `token has no ${safeName(settings.principalClaim) ?? "principal"} claim (KEYCLOAK_PRINCIPAL_CLAIM): add the scope or mapper that puts it into the access tokens of ${client}${lightweight}, or set KEYCLOAK_PRINCIPAL_CLAIM=sub`;
}

function algorithmHint(header: Readonly<Record<string, unknown>>, settings: HintSettings): string | undefined {
  const alg = header.alg;
  if (typeof alg !== "string") return undefined;
  const allowed = settings.algorithms.join(", ");
  if ((SUPPORTED_ALGORITHMS as readonly string[]).includes(alg)) {
    const ecdsa = alg.startsWith("ES") ? " (with KEYCLOAK_ECDSA_ALLOW_HIGH_S=true for ES*)" : "";
    return `token alg ${alg} is not in KEYCLOAK_ALGORITHMS (${allowed}): if the realm signs with it (Realm settings > Tokens > Default signature algorithm, or the client's Access token signature algorithm), add ${alg} to KEYCLOAK_ALGORITHMS${ecdsa}, or switch back to ${settings.algorithms[0] ?? "RS256"}`;
  }
  return undefined;
}

function keyHint(problem: string | undefined): string | undefined {
  switch (problem) {
    case "not_a_signing_key":
      return `token kid names the realm's encryption key (use "enc"), which never signs: the token was not signed by this realm's signing key; check KEYCLOAK_ISSUER (or KEYCLOAK_JWKS_URI) and Realm settings > Keys (an active, enabled rsa-generated provider)`;
    case "weak_rsa_key":
      return "the realm's key for this kid is RSA under 2048 bits (or a bad exponent): add a 2048-bit rsa-generated key provider with a higher priority (Realm settings > Keys > Providers), then make the weak one passive";
    case "alg_disagrees_with_key":
      return "the realm publishes this kid with an alg that contradicts its key type: fix the key provider's algorithm (Realm settings > Keys > Providers)";
    default:
      return undefined;
  }
}

/**
 * The 403 hint: a token with no role claims at all, for a route that requires a role. Keycloak
 * leaves `realm_access` and `resource_access` out when the client lacks the `roles` client scope,
 * and in lightweight access tokens. Undefined when the token has role claims (it simply lacks
 * the role) or the requirement names no role.
 */
export function rolesHint(requirement: Requirement | undefined, claims: Readonly<KeycloakClaims>): string | undefined {
  if (requirement === undefined || !namesRole(requirement) || !hasNoRoleClaims(claims)) return undefined;
  return noRolesHint(claims);
}

/** The hint for a token without any role claim (see {@link rolesHint}). */
export function noRolesHint(claims: Readonly<KeycloakClaims>): string {
  const client = clientOf(claims);
  const lightweight = looksLightweight(claims)
    ? `; for lightweight access tokens turn off its "Always use lightweight access token", or turn on "Add to lightweight access token" on the roles scope's mappers`
    : "";
  return `token carries no roles (no realm_access, no resource_access): give ${client} the roles client scope (unless the caller has no role at all)${lightweight}`;
}

/** True when a token's claims carry no role claim at all. */
export function hasNoRoleClaims(claims: Readonly<KeycloakClaims>): boolean {
  return claims.realm_access === undefined && claims.resource_access === undefined;
}

/** True when a requirement (or any part of it) is a realm or client role. */
export function namesRole(requirement: Requirement): boolean {
  if ("realmRole" in requirement || "clientRole" in requirement) return true;
  if ("scope" in requirement || "realm" in requirement || "organization" in requirement || "dpopBound" in requirement) return false;
  return ("anyOf" in requirement ? requirement.anyOf : requirement.allOf).some(namesRole);
}

/** `client api-client` for a client id of the usual shape, else `the client`: never an arbitrary string of the token's. */
function clientOf(payload: Readonly<Record<string, unknown>>): string {
  const name = safeName(payload.azp);
  return name === undefined ? "the client" : `client ${name}`;
}

function safeName(value: unknown): string | undefined {
  return typeof value === "string" && /^[A-Za-z0-9][\w.:@-]{0,63}$/.test(value) ? value : undefined;
}

/** `keycloak:8080`: a DNS name or IPv4 address and a port, nothing else. */
function safeHost(url: URL): string | undefined {
  return /^[a-z0-9][a-z0-9.-]{0,99}(:\d{1,5})?$/.test(url.host) ? url.host : undefined;
}
