/**
 * Real Keycloak set up for the mismatch suite through the Admin REST API, as an operator would:
 * the clients of clients.ts created as they are, and the lightweight client's service account
 * given its realm roles.
 */
import KcAdminClient from "@keycloak/keycloak-admin-client";
import { keycloakBaseUrl } from "../../local/keycloak/server-info.js";
import { LIGHTWEIGHT, LIGHTWEIGHT_ROLES, MISMATCH_CLIENTS } from "./clients.js";

export async function addMismatchClients(issuer: string, admin: { readonly username: string; readonly password: string }): Promise<void> {
  const realm = issuer.split("/").pop() ?? "";
  const client = new KcAdminClient({ baseUrl: keycloakBaseUrl(issuer), realmName: "master" });
  await client.auth({ username: admin.username, password: admin.password, grantType: "password", clientId: "admin-cli" });
  client.setConfig({ realmName: realm });
  for (const representation of MISMATCH_CLIENTS) await client.clients.create(representation);
  const [lightweight] = await client.clients.find({ clientId: LIGHTWEIGHT.id });
  if (lightweight?.id === undefined) throw new Error(`Keycloak did not create ${LIGHTWEIGHT.id}`);
  const account = await client.clients.getServiceAccountUser({ id: lightweight.id });
  const roles = await Promise.all(LIGHTWEIGHT_ROLES.map((name) => client.roles.findOneByName({ name })));
  await client.users.addRealmRoleMappings({
    id: account.id ?? "",
    roles: roles.map((role) => {
      if (role?.id === undefined || role.name === undefined) throw new Error("the realm lacks a role the lightweight client needs");
      return { id: role.id, name: role.name };
    }),
  });
}
