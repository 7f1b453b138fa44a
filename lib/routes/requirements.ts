/**
 * What a route needs from a verified Keycloak access token, as a small expression tree:
 * realm roles (`realm_access.roles`), client roles (`resource_access.<client>.roles`), scopes
 * (the space-separated `scope` claim), the realm that issued the token (its `iss`), Keycloak
 * Organizations membership (the `organization` claim) and a DPoP binding (`cnf.jkt`: the
 * authorizer lets such a token through only with a valid proof of its key, lib/dpop/), combined
 * with any-of and all-of.
 *
 * @example
 * const needsReader = anyOf(clientRole("secured-api", "reader"), clientRole("secured-api", "writer"));
 * isSatisfied(needsReader, claims); // true for bob (reader) and alice (writer)
 */
export type Requirement =
  | { readonly realmRole: string }
  | { readonly clientRole: { readonly client: string; readonly role: string } }
  | { readonly scope: string }
  | { readonly realm: string }
  | { readonly organization: string }
  | { readonly dpopBound: true }
  | { readonly anyOf: readonly Requirement[] }
  | { readonly allOf: readonly Requirement[] };

export const realmRole = (role: string): Requirement => ({ realmRole: role });
export const clientRole = (client: string, role: string): Requirement => ({ clientRole: { client, role } });
export const scope = (name: string): Requirement => ({ scope: name });
/**
 * The token was issued by this realm: a name (its verified `iss` ends in `/realms/<name>`), or a
 * whole issuer (`https://id.example.com/realms/acme`), which must be used when trusted issuers on
 * several hosts could have a realm of that name (the authorizer refuses such a name at cold start).
 */
export const realm = (name: string): Requirement => ({ realm: name });
/** The caller is a member of this Keycloak organization (the `organization` claim, list or map form). */
export const organization = (alias: string): Requirement => ({ organization: alias });
/** The token must be DPoP-bound (RFC 9449): only its key holder, with a fresh proof, may call. Needs KEYCLOAK_DPOP on. */
export const dpopBound = (): Requirement => ({ dpopBound: true });
export const anyOf = (...requirements: Requirement[]): Requirement => ({ anyOf: requirements });
export const allOf = (...requirements: Requirement[]): Requirement => ({ allOf: requirements });

/**
 * True when the claims satisfy the requirement. Claims come from a verified token but their shape
 * is still Keycloak's choice (or a mapper's): anything malformed (`realm_access` a string, `roles`
 * not an array, `scope` not a string) simply grants nothing. An empty any-of grants nothing; an
 * empty all-of grants everything (the usual identities).
 */
export function isSatisfied(requirement: Requirement, claims: Readonly<Record<string, unknown>>): boolean {
  if ("realmRole" in requirement) return stringsAt(claims, ["realm_access", "roles"]).includes(requirement.realmRole);
  if ("clientRole" in requirement) {
    return stringsAt(claims, ["resource_access", requirement.clientRole.client, "roles"]).includes(requirement.clientRole.role);
  }
  if ("scope" in requirement) {
    const granted = claims.scope;
    return typeof granted === "string" && granted.split(" ").includes(requirement.scope);
  }
  if ("realm" in requirement) {
    if (typeof claims.iss !== "string") return false;
    // A whole issuer is matched exactly; a name, as the issuer's last path segment.
    return requirement.realm.includes("://") ? claims.iss === requirement.realm : claims.iss.endsWith(`/realms/${requirement.realm}`);
  }
  if ("organization" in requirement) return organizationsOf(claims).includes(requirement.organization);
  if ("dpopBound" in requirement) {
    const cnf = Object.hasOwn(claims, "cnf") ? claims.cnf : undefined;
    const jkt = typeof cnf === "object" && cnf !== null && Object.hasOwn(cnf, "jkt") ? (cnf as { jkt: unknown }).jkt : undefined;
    return typeof jkt === "string" && jkt !== "";
  }
  if ("anyOf" in requirement) return requirement.anyOf.some((inner) => isSatisfied(inner, claims));
  return requirement.allOf.every((inner) => isSatisfied(inner, claims));
}

/**
 * True when the requirement can only be met by tokens of realms it names (`realm(...)` on every
 * path to a yes). With several trusted realms, a realm's own administrators can put any role,
 * scope or organization into their tokens: a requirement that does not name the realm is met by
 * every realm's.
 */
export function isRealmScoped(requirement: Requirement): boolean {
  if ("realm" in requirement) return true;
  if ("anyOf" in requirement) return requirement.anyOf.length > 0 && requirement.anyOf.every(isRealmScoped);
  if ("allOf" in requirement) return requirement.allOf.some(isRealmScoped);
  return false;
}

/** Every realm name or issuer that `realm(...)` names anywhere in the requirement. */
export function realmsNamed(requirement: Requirement): string[] {
  if ("realm" in requirement) return [requirement.realm];
  if ("anyOf" in requirement) return requirement.anyOf.flatMap(realmsNamed);
  if ("allOf" in requirement) return requirement.allOf.flatMap(realmsNamed);
  return [];
}

/** True when the requirement names a DPoP binding anywhere (so the authorizer must take DPoP). */
export function needsDpopBinding(requirement: Requirement): boolean {
  if ("dpopBound" in requirement) return true;
  if ("anyOf" in requirement) return requirement.anyOf.some(needsDpopBinding);
  if ("allOf" in requirement) return requirement.allOf.some(needsDpopBinding);
  return false;
}

/** A human-readable form, for docs and error bodies: `realm:admin`, `secured-api:reader`, `scope:x`. */
export function describeRequirement(requirement: Requirement): string {
  if ("realmRole" in requirement) return `realm role ${requirement.realmRole}`;
  if ("clientRole" in requirement) return `client role ${requirement.clientRole.client}/${requirement.clientRole.role}`;
  if ("scope" in requirement) return `scope ${requirement.scope}`;
  if ("realm" in requirement) return `realm ${requirement.realm}`;
  if ("organization" in requirement) return `organization ${requirement.organization}`;
  if ("dpopBound" in requirement) return "a DPoP-bound token";
  const [joiner, inner] = "anyOf" in requirement ? [" or ", requirement.anyOf] : [" and ", requirement.allOf];
  const parts = inner.map((item) => ("anyOf" in item || "allOf" in item ? `(${describeRequirement(item)})` : describeRequirement(item)));
  return parts.join(joiner);
}

/**
 * Keycloak 26's `organization` claim: a list of aliases (`["acme"]`), or, with the mapper's
 * "add organization id" option, a map from alias to details (`{"acme": {"id": "..."}}`).
 */
function organizationsOf(claims: Readonly<Record<string, unknown>>): string[] {
  const claim = Object.hasOwn(claims, "organization") ? claims.organization : undefined;
  if (Array.isArray(claim)) return claim.filter((alias): alias is string => typeof alias === "string");
  if (typeof claim === "object" && claim !== null) return Object.keys(claim);
  return [];
}

/** The string elements of an array found by walking own object properties; [] when anything is off. */
function stringsAt(root: unknown, path: readonly string[]): string[] {
  let node: unknown = root;
  for (const key of path) {
    if (typeof node !== "object" || node === null || Array.isArray(node) || !Object.hasOwn(node, key)) return [];
    node = (node as Record<string, unknown>)[key];
  }
  return Array.isArray(node) ? node.filter((item): item is string => typeof item === "string") : [];
}
