/**
 * Reads a Keycloak realm export (the JSON `kc.sh export` writes and `--import-realm` reads) and
 * checks the parts the local provider relies on. Only the subset of Keycloak's representation the
 * provider mirrors is typed; everything else in the file is ignored, as it has no visible effect here.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";

export interface RoleRepresentation {
  name: string;
  description?: string;
  composite?: boolean;
  clientRole?: boolean;
  composites?: { realm?: string[]; client?: Record<string, string[]> };
}

export interface ProtocolMapperRepresentation {
  name: string;
  protocol?: string;
  protocolMapper: string;
  config?: Record<string, string>;
}

export interface ClientRepresentation {
  clientId: string;
  name?: string;
  enabled?: boolean;
  protocol?: string;
  rootUrl?: string;
  publicClient?: boolean;
  bearerOnly?: boolean;
  clientAuthenticatorType?: string;
  secret?: string;
  standardFlowEnabled?: boolean;
  implicitFlowEnabled?: boolean;
  directAccessGrantsEnabled?: boolean;
  serviceAccountsEnabled?: boolean;
  redirectUris?: string[];
  webOrigins?: string[];
  attributes?: Record<string, string>;
  protocolMappers?: ProtocolMapperRepresentation[];
  defaultClientScopes?: string[];
  optionalClientScopes?: string[];
}

export interface CredentialRepresentation {
  type: string;
  value?: string;
  temporary?: boolean;
}

export interface UserRepresentation {
  id?: string;
  username: string;
  enabled?: boolean;
  email?: string;
  emailVerified?: boolean;
  firstName?: string;
  lastName?: string;
  credentials?: CredentialRepresentation[];
  realmRoles?: string[];
  clientRoles?: Record<string, string[]>;
  serviceAccountClientId?: string;
}

/** Keycloak 26 Organizations: members are named by username in exports. */
export interface OrganizationRepresentation {
  name: string;
  /** What the `organization` claim names; Keycloak sets it to the name when left out. */
  alias?: string;
  enabled?: boolean;
  description?: string;
  domains?: { name: string; verified?: boolean }[];
  members?: { username: string; membershipType?: string }[];
}

export interface RealmRepresentation {
  realm: string;
  enabled: boolean;
  sslRequired?: string;
  accessTokenLifespan?: number;
  ssoSessionIdleTimeout?: number;
  ssoSessionMaxLifespan?: number;
  accessCodeLifespan?: number;
  accessCodeLifespanLogin?: number;
  revokeRefreshToken?: boolean;
  roles?: { realm?: RoleRepresentation[]; client?: Record<string, RoleRepresentation[]> };
  clients?: ClientRepresentation[];
  users?: UserRepresentation[];
  organizationsEnabled?: boolean;
  organizations?: OrganizationRepresentation[];
}

/** Keycloak's own defaults, used when the export leaves a lifespan out. */
export const KEYCLOAK_DEFAULT_LIFESPANS = {
  accessTokenLifespan: 300,
  ssoSessionIdleTimeout: 1800,
  ssoSessionMaxLifespan: 36000,
  accessCodeLifespan: 60,
  accessCodeLifespanLogin: 1800,
} as const;

export interface Lifespans {
  accessToken: number;
  ssoSessionIdle: number;
  ssoSessionMax: number;
  accessCode: number;
  login: number;
}

export interface EffectiveRoles {
  realm: string[];
  clients: Record<string, string[]>;
}

export class RealmError extends Error {
  constructor(file: string, problems: string[]) {
    super(`invalid realm file ${file}:\n  - ${problems.join("\n  - ")}`);
    this.name = "RealmError";
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Structural problems that would stop Keycloak's import or make the provider guess. */
export function validateRealm(value: unknown): string[] {
  const problems: string[] = [];
  if (!isRecord(value)) return ["the file is not a JSON object"];
  if (typeof value.realm !== "string" || value.realm === "") problems.push("`realm` must be a non-empty string");
  if (value.enabled !== true) problems.push("`enabled` must be true");
  const rep = value as Partial<RealmRepresentation>;

  const realmRoles = new Set((rep.roles?.realm ?? []).map((r) => r.name));
  const clientRoles = new Map(Object.entries(rep.roles?.client ?? {}).map(([client, roles]) => [client, new Set(roles.map((r) => r.name))]));
  const clientIds = new Set<string>();
  for (const [i, client] of (rep.clients ?? []).entries()) {
    if (typeof client.clientId !== "string" || client.clientId === "") {
      problems.push(`clients[${i}].clientId must be a non-empty string`);
      continue;
    }
    if (clientIds.has(client.clientId)) problems.push(`client ${client.clientId} is declared twice`);
    clientIds.add(client.clientId);
    if ((client.protocol ?? "openid-connect") !== "openid-connect") {
      problems.push(`client ${client.clientId}: only protocol openid-connect is supported`);
    }
    const confidential = client.publicClient !== true;
    const hasFlow = client.standardFlowEnabled === true || client.directAccessGrantsEnabled === true || client.serviceAccountsEnabled === true;
    if (confidential && hasFlow && (client.clientAuthenticatorType ?? "client-secret") !== "client-secret") {
      problems.push(`client ${client.clientId}: only clientAuthenticatorType client-secret is supported`);
    }
    if (confidential && hasFlow && typeof client.secret !== "string") {
      // Keycloak would generate one on import; here nobody could then know it.
      problems.push(`client ${client.clientId}: a confidential client needs an explicit secret`);
    }
    if (client.standardFlowEnabled === true && (client.redirectUris ?? []).length === 0) {
      problems.push(`client ${client.clientId}: standardFlowEnabled needs redirectUris`);
    }
  }
  for (const client of clientRoles.keys()) {
    if (!clientIds.has(client)) problems.push(`roles.client.${client} names a client that is not declared`);
  }

  const usernames = new Set<string>();
  for (const [i, user] of (rep.users ?? []).entries()) {
    if (typeof user.username !== "string" || user.username === "") {
      problems.push(`users[${i}].username must be a non-empty string`);
      continue;
    }
    const name = user.username.toLowerCase();
    if (usernames.has(name)) problems.push(`user ${user.username} is declared twice`);
    usernames.add(name);
    for (const role of user.realmRoles ?? []) {
      if (!realmRoles.has(role)) problems.push(`user ${user.username}: realm role ${role} does not exist`);
    }
    for (const [client, roles] of Object.entries(user.clientRoles ?? {})) {
      for (const role of roles) {
        if (!clientRoles.get(client)?.has(role)) {
          problems.push(`user ${user.username}: client role ${client}/${role} does not exist`);
        }
      }
    }
    for (const credential of user.credentials ?? []) {
      if (credential.type === "password" && typeof credential.value !== "string") {
        // Exports of real realms carry hashed secretData; the provider can only check plain values.
        problems.push(`user ${user.username}: password credentials need a plain \`value\``);
      }
    }
    if (user.serviceAccountClientId !== undefined) {
      const owner = (rep.clients ?? []).find((c) => c.clientId === user.serviceAccountClientId);
      if (!owner) problems.push(`user ${user.username}: serviceAccountClientId names an unknown client`);
      else if (owner.serviceAccountsEnabled !== true) {
        problems.push(`user ${user.username}: client ${owner.clientId} does not have serviceAccountsEnabled`);
      }
    }
  }
  const aliases = new Set<string>();
  for (const [i, organization] of (rep.organizations ?? []).entries()) {
    if (typeof organization.name !== "string" || organization.name === "") {
      problems.push(`organizations[${i}].name must be a non-empty string`);
      continue;
    }
    if (rep.organizationsEnabled !== true) problems.push(`organization ${organization.name}: organizationsEnabled must be true for organizations`);
    const alias = organization.alias ?? organization.name;
    if (aliases.has(alias)) problems.push(`organization alias ${alias} is declared twice`);
    aliases.add(alias);
    for (const member of organization.members ?? []) {
      if (!usernames.has(String(member.username).toLowerCase()))
        problems.push(`organization ${organization.name}: member ${member.username} is not a user of the realm`);
    }
  }
  return problems;
}

/** Parsed realm plus the look-ups the provider needs, all derived from the file alone. */
export class Realm {
  readonly name: string;
  readonly lifespans: Lifespans;
  readonly revokeRefreshToken: boolean;
  private readonly rolesByName: Map<string, RoleRepresentation>;
  private readonly clientRolesByClient: Map<string, Map<string, RoleRepresentation>>;

  constructor(readonly rep: RealmRepresentation) {
    this.name = rep.realm;
    this.lifespans = {
      accessToken: rep.accessTokenLifespan ?? KEYCLOAK_DEFAULT_LIFESPANS.accessTokenLifespan,
      ssoSessionIdle: rep.ssoSessionIdleTimeout ?? KEYCLOAK_DEFAULT_LIFESPANS.ssoSessionIdleTimeout,
      ssoSessionMax: rep.ssoSessionMaxLifespan ?? KEYCLOAK_DEFAULT_LIFESPANS.ssoSessionMaxLifespan,
      accessCode: rep.accessCodeLifespan ?? KEYCLOAK_DEFAULT_LIFESPANS.accessCodeLifespan,
      login: rep.accessCodeLifespanLogin ?? KEYCLOAK_DEFAULT_LIFESPANS.accessCodeLifespanLogin,
    };
    this.revokeRefreshToken = rep.revokeRefreshToken === true;
    this.rolesByName = new Map((rep.roles?.realm ?? []).map((r) => [r.name, r]));
    this.clientRolesByClient = new Map(Object.entries(rep.roles?.client ?? {}).map(([c, roles]) => [c, new Map(roles.map((r) => [r.name, r]))]));
  }

  get clients(): ClientRepresentation[] {
    return (this.rep.clients ?? []).filter((c) => c.enabled !== false);
  }

  client(clientId: string): ClientRepresentation | undefined {
    return this.clients.find((c) => c.clientId === clientId);
  }

  /** Keycloak matches usernames case-insensitively (it stores them lower-cased). */
  user(username: string): UserRepresentation | undefined {
    const wanted = username.toLowerCase();
    return (this.rep.users ?? []).find((u) => u.username.toLowerCase() === wanted && u.serviceAccountClientId === undefined);
  }

  userById(id: string): UserRepresentation | undefined {
    return (this.rep.users ?? []).find((u) => userId(u) === id);
  }

  serviceAccount(clientId: string): UserRepresentation | undefined {
    return (this.rep.users ?? []).find((u) => u.serviceAccountClientId === clientId);
  }

  /**
   * The aliases of the enabled organizations the user is a member of, as Keycloak's organization
   * scope mapper names them (the `organization` claim); none when the realm has organizations off.
   */
  organizationsOf(user: UserRepresentation): string[] {
    if (this.rep.organizationsEnabled !== true) return [];
    const name = user.username.toLowerCase();
    return (this.rep.organizations ?? [])
      .filter((organization) => organization.enabled !== false && (organization.members ?? []).some((member) => member.username.toLowerCase() === name))
      .map((organization) => organization.alias ?? organization.name);
  }

  /** Audiences added by the client's `oidc-audience-mapper`s to access tokens. */
  accessTokenAudiences(clientId: string): string[] {
    const mappers = this.client(clientId)?.protocolMappers ?? [];
    const audiences = mappers
      .filter((m) => m.protocolMapper === "oidc-audience-mapper" && m.config?.["access.token.claim"] !== "false")
      .flatMap((m) => [m.config?.["included.client.audience"], m.config?.["included.custom.audience"]])
      .filter((a): a is string => typeof a === "string" && a !== "");
    return [...new Set(audiences)];
  }

  /** Of those, the ones whose mapper also writes them into lightweight access tokens ("Add to lightweight access token"). */
  lightweightAudiences(clientId: string): string[] {
    const mappers = (this.client(clientId)?.protocolMappers ?? []).filter((m) => m.config?.["lightweight.claim"] === "true");
    const audiences = this.accessTokenAudiences(clientId);
    return audiences.filter((audience) =>
      mappers.some((m) => m.config?.["included.client.audience"] === audience || m.config?.["included.custom.audience"] === audience),
    );
  }

  /** The user's roles with composite roles expanded, as Keycloak's role mappers put them in tokens. */
  effectiveRoles(user: UserRepresentation): EffectiveRoles {
    const realm = new Set<string>();
    const clients = new Map<string, Set<string>>();
    const addClientRole = (client: string, name: string): void => {
      const set = clients.get(client) ?? new Set<string>();
      if (set.has(name)) return;
      set.add(name);
      clients.set(client, set);
      const role = this.clientRolesByClient.get(client)?.get(name);
      if (role) expand(role);
    };
    const addRealmRole = (name: string): void => {
      if (realm.has(name)) return;
      realm.add(name);
      const role = this.rolesByName.get(name);
      if (role) expand(role);
    };
    const expand = (role: RoleRepresentation): void => {
      if (!role.composite) return;
      for (const name of role.composites?.realm ?? []) addRealmRole(name);
      for (const [client, names] of Object.entries(role.composites?.client ?? {})) {
        for (const name of names) addClientRole(client, name);
      }
    };
    for (const name of user.realmRoles ?? []) addRealmRole(name);
    for (const [client, names] of Object.entries(user.clientRoles ?? {})) {
      for (const name of names) addClientRole(client, name);
    }
    return {
      realm: [...realm],
      clients: Object.fromEntries([...clients].filter(([, set]) => set.size > 0).map(([c, set]) => [c, [...set]])),
    };
  }
}

/**
 * A user's stable subject. Exports carry Keycloak's UUID; a hand-written file may leave it out, so
 * derive a UUID-shaped id from realm-independent data to keep `sub` stable across restarts.
 */
export function userId(user: UserRepresentation): string {
  if (user.id) return user.id;
  const hex = createHash("sha256").update(`keycloak-user:${user.username.toLowerCase()}`).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export async function loadRealm(file: string): Promise<Realm> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    throw new RealmError(file, [`cannot read JSON: ${(error as Error).message}`]);
  }
  const problems = validateRealm(parsed);
  if (problems.length > 0) throw new RealmError(file, problems);
  return new Realm(parsed as RealmRepresentation);
}
