/** The realm export has what Keycloak's import and the local provider need, and is self-consistent. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "@jest/globals";
import type { ClientRepresentation, RealmRepresentation, UserRepresentation } from "../../local/provider/realm.js";
import { validateRealm } from "../../local/provider/realm.js";

const realm = JSON.parse(readFileSync(join(process.cwd(), "keycloak", "realm-demo.json"), "utf8")) as RealmRepresentation;

function client(clientId: string): ClientRepresentation {
  const found = realm.clients?.find((c) => c.clientId === clientId);
  if (!found) throw new Error(`client ${clientId} missing`);
  return found;
}

function user(username: string): UserRepresentation {
  const found = realm.users?.find((u) => u.username === username);
  if (!found) throw new Error(`user ${username} missing`);
  return found;
}

function audienceMappers(c: ClientRepresentation) {
  return (c.protocolMappers ?? []).filter((m) => m.protocolMapper === "oidc-audience-mapper");
}

describe("keycloak/realm-demo.json", () => {
  it("is an enabled realm named demo with sane token settings", () => {
    expect(realm.realm).toBe("demo");
    expect(realm.enabled).toBe(true);
    expect(realm.sslRequired).toBe("external");
    expect(realm.accessTokenLifespan).toBe(300);
    expect(realm.ssoSessionIdleTimeout).toBe(1800);
    expect(realm.ssoSessionMaxLifespan).toBe(36000);
  });

  it("declares realm roles user and admin and secured-api client roles reader and writer", () => {
    expect((realm.roles?.realm ?? []).map((r) => r.name).sort()).toEqual(["admin", "user"]);
    expect((realm.roles?.client?.["secured-api"] ?? []).map((r) => r.name).sort()).toEqual(["reader", "writer"]);
  });

  it("declares every client as openid-connect with a clientId", () => {
    expect(realm.clients?.map((c) => c.clientId).sort()).toEqual(["api-client", "api-docs", "dpop-client", "secured-api"]);
    for (const c of realm.clients ?? []) expect(c.protocol).toBe("openid-connect");
  });

  it("makes secured-api a resource server without flows", () => {
    const api = client("secured-api");
    expect(api.publicClient).toBe(false);
    for (const flag of ["standardFlowEnabled", "implicitFlowEnabled", "directAccessGrantsEnabled", "serviceAccountsEnabled"] as const) {
      expect(api[flag]).toBe(false);
    }
  });

  it("makes api-client confidential with service account and direct grants", () => {
    const c = client("api-client");
    expect(c).toMatchObject({
      publicClient: false,
      clientAuthenticatorType: "client-secret",
      secret: "api-client-secret",
      serviceAccountsEnabled: true,
      directAccessGrantsEnabled: true,
      standardFlowEnabled: false,
    });
  });

  it('makes dpop-client confidential with Keycloak\'s "Require DPoP bound tokens" (RFC 9449)', () => {
    const c = client("dpop-client");
    expect(c).toMatchObject({
      publicClient: false,
      secret: "dpop-client-secret",
      serviceAccountsEnabled: true,
      directAccessGrantsEnabled: true,
      standardFlowEnabled: false,
    });
    expect(c.attributes?.["dpop.bound.access.tokens"]).toBe("true");
  });

  it("makes api-docs a public PKCE S256 browser client for localhost:3000", () => {
    const c = client("api-docs");
    expect(c).toMatchObject({ publicClient: true, standardFlowEnabled: true });
    expect(c.attributes?.["pkce.code.challenge.method"]).toBe("S256");
    expect(c.redirectUris).toEqual(["http://localhost:3000/*"]);
    expect(c.webOrigins).toEqual(["http://localhost:3000"]);
  });

  it.each(["api-client", "dpop-client", "api-docs"])("gives %s an audience mapper for secured-api on access tokens", (clientId) => {
    const [mapper, ...others] = audienceMappers(client(clientId));
    expect(others).toHaveLength(0);
    expect(mapper).toMatchObject({
      protocol: "openid-connect",
      protocolMapper: "oidc-audience-mapper",
      config: { "included.client.audience": "secured-api", "access.token.claim": "true" },
    });
  });

  it("has alice and bob with non-temporary passwords and their roles", () => {
    const alice = user("alice");
    expect(alice).toMatchObject({ enabled: true, email: "alice@example.com", emailVerified: true, firstName: "Alice" });
    expect(typeof alice.lastName).toBe("string");
    expect(alice.credentials).toEqual([{ type: "password", value: "alice", temporary: false }]);
    expect(alice.realmRoles?.sort()).toEqual(["admin", "user"]);
    expect(alice.clientRoles).toEqual({ "secured-api": ["writer"] });

    const bob = user("bob");
    expect(bob).toMatchObject({ enabled: true, email: "bob@example.com" });
    expect(bob.credentials).toEqual([{ type: "password", value: "bob", temporary: false }]);
    expect(bob.realmRoles).toEqual(["user"]);
    expect(bob.clientRoles).toEqual({ "secured-api": ["reader"] });
  });

  it.each(["api-client", "dpop-client"])("links %s's service account user with secured-api reader", (clientId) => {
    const sa = user(`service-account-${clientId}`);
    expect(sa.serviceAccountClientId).toBe(clientId);
    expect(sa.enabled).toBe(true);
    expect(sa.clientRoles).toEqual({ "secured-api": ["reader"] });
  });

  it("references only roles and clients that exist", () => {
    const realmRoles = new Set((realm.roles?.realm ?? []).map((r) => r.name));
    const clientIds = new Set((realm.clients ?? []).map((c) => c.clientId));
    for (const u of realm.users ?? []) {
      for (const role of u.realmRoles ?? []) expect(realmRoles).toContain(role);
      for (const [clientId, roles] of Object.entries(u.clientRoles ?? {})) {
        const defined = new Set((realm.roles?.client?.[clientId] ?? []).map((r) => r.name));
        for (const role of roles) expect(defined).toContain(role);
      }
      if (u.serviceAccountClientId) expect(clientIds).toContain(u.serviceAccountClientId);
    }
    for (const c of realm.clients ?? []) {
      for (const m of audienceMappers(c)) expect(clientIds).toContain(m.config?.["included.client.audience"]);
    }
  });

  it("passes the provider's own validation, which catches a dangling role", () => {
    expect(validateRealm(realm)).toEqual([]);
    const broken = structuredClone(realm);
    broken.users?.[0]?.realmRoles?.push("superuser");
    expect(validateRealm(broken)).toEqual([expect.stringContaining("realm role superuser does not exist")]);
  });
});

describe("keycloak/realm-acme.json: a second realm on the same Keycloak, with Organizations", () => {
  const acme = JSON.parse(readFileSync(join(process.cwd(), "keycloak", "realm-acme.json"), "utf8")) as RealmRepresentation;

  it("passes the provider's structural checks", () => {
    expect(validateRealm(acme)).toEqual([]);
  });

  it("is realm acme with organizations on, carol a member of acme-corp, clients that may ask for the organization scope", () => {
    expect(acme.realm).toBe("acme");
    expect(acme.organizationsEnabled).toBe(true);
    expect(acme.organizations?.map((o) => ({ alias: o.alias, members: o.members?.map((m) => m.username) }))).toEqual([
      { alias: "acme-corp", members: ["carol"] },
    ]);
    const apiClient = acme.clients?.find((c) => c.clientId === "api-client");
    expect(apiClient?.optionalClientScopes).toContain("organization");
    expect(audienceMappers(apiClient as ClientRepresentation).map((m) => m.config?.["included.client.audience"])).toEqual(["secured-api"]);
  });

  it("refuses organizations without organizationsEnabled, and members who are no user", () => {
    expect(validateRealm({ ...acme, organizationsEnabled: false })).toContain("organization Acme Corp: organizationsEnabled must be true for organizations");
    const stranger = { ...acme, organizations: [{ name: "X", members: [{ username: "mallory" }] }] };
    expect(validateRealm(stranger)).toContain("organization X: member mallory is not a user of the realm");
  });
});
