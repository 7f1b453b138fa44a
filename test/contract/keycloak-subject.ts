/**
 * Real Keycloak as the provider under test. The realm is the one `npm run keycloak` imported from
 * keycloak/realm-demo.json, untouched by the import; what the contract needs on top is done
 * through Keycloak's Admin REST API (@keycloak/keycloak-admin-client), as an operator would:
 * the api-docs client gets the test's origin as redirect URI and web origin, a client without
 * the audience mapper is added, and signing keys are rotated with key provider components.
 */
import KcAdminClient from "@keycloak/keycloak-admin-client";
import { freePort, startStack } from "../../local/stack.js";
import { contractStackEnv, LIGHTWEIGHT_CLIENT_REPRESENTATION, NO_AUDIENCE_CLIENT, type ProviderUnderTest, type SigningKeys } from "./subject.js";

export interface KeycloakUnderTest {
  readonly issuer: string;
  /** e.g. http://localhost:8080: the Admin REST API's base. */
  readonly origin: string;
  readonly realm: string;
  readonly version: string;
  readonly admin: { readonly username: string; readonly password: string };
}

const KEY_PROVIDER_TYPE = "org.keycloak.keys.KeyProvider";

/**
 * An admin client with a fresh token for every use: the master realm's access tokens live 60 s,
 * shorter than a test run.
 */
function adminClient(keycloak: KeycloakUnderTest): () => Promise<KcAdminClient> {
  return async () => {
    const client = new KcAdminClient({ baseUrl: keycloak.origin, realmName: "master" });
    await client.auth({ username: keycloak.admin.username, password: keycloak.admin.password, grantType: "password", clientId: "admin-cli" });
    client.setConfig({ realmName: keycloak.realm });
    return client;
  };
}

function signingKeys(keycloak: KeycloakUnderTest, admin: () => Promise<KcAdminClient>): SigningKeys {
  const rs256Keys = async () => {
    const { keys = [], active = {} } = await (await admin()).realms.getKeys({ realm: keycloak.realm });
    return { keys: keys.filter((key) => key.algorithm === "RS256" && key.type === "RSA"), active };
  };
  const providerOf = async (kid: string): Promise<string> => {
    const key = (await rs256Keys()).keys.find((candidate) => candidate.kid === kid);
    if (key?.providerId === undefined) throw new Error(`Keycloak has no RS256 key ${kid}`);
    return key.providerId;
  };
  return {
    async active() {
      const kid = (await rs256Keys()).active.RS256;
      if (kid === undefined) throw new Error("Keycloak has no active RS256 key");
      return kid;
    },
    async add() {
      const { keys } = await rs256Keys();
      const priority = Math.max(0, ...keys.map((key) => key.providerPriority ?? 0)) + 100;
      const client = await admin();
      const realm = await client.realms.findOne({ realm: keycloak.realm });
      const { id } = await client.components.create({
        name: `rsa-rotated-${priority}`,
        providerId: "rsa-generated",
        providerType: KEY_PROVIDER_TYPE,
        parentId: realm?.id ?? keycloak.realm,
        config: { priority: [String(priority)], enabled: ["true"], active: ["true"], algorithm: ["RS256"], keySize: ["2048"] },
      });
      const created = (await rs256Keys()).keys.find((key) => key.providerId === id);
      if (created?.kid === undefined) throw new Error(`the new key provider ${id} has no key`);
      return created.kid;
    },
    async makePassive(kid) {
      const id = await providerOf(kid);
      const client = await admin();
      const component = await client.components.findOne({ id });
      if (component === undefined) throw new Error(`no key provider ${id}`);
      await client.components.update({ id }, { ...component, config: { ...component.config, active: ["false"] } });
    },
    async remove(kid) {
      const id = await providerOf(kid);
      await (await admin()).components.del({ id });
    },
  };
}

export async function startKeycloakSubject(keycloak: KeycloakUnderTest): Promise<ProviderUnderTest & { stop(): Promise<void> }> {
  const admin = adminClient(keycloak);
  const port = await freePort();
  const docsOrigin = `http://localhost:${port}`;

  const client = await admin();
  const [docs] = await client.clients.find({ clientId: "api-docs" });
  if (docs?.id === undefined) throw new Error("the realm has no api-docs client");
  await client.clients.update(
    { id: docs.id },
    { ...docs, redirectUris: [...(docs.redirectUris ?? []), `${docsOrigin}/*`], webOrigins: [...(docs.webOrigins ?? []), docsOrigin] },
  );
  // The clients' "Backchannel logout URL": this test's API, not the realm file's :3000.
  for (const clientId of ["api-client", "api-docs"]) {
    const [found] = await client.clients.find({ clientId });
    if (found?.id === undefined) throw new Error(`the realm has no ${clientId} client`);
    // Only the attribute: a whole representation sent back would make Keycloak re-add the
    // service_account scope to api-client (client_id, clientHost, clientAddress in its tokens).
    await client.clients.update({ id: found.id }, { clientId, attributes: { "backchannel.logout.url": `${docsOrigin}/backchannel-logout` } });
  }
  const { id: noAudienceId } = await client.clients.create({
    clientId: NO_AUDIENCE_CLIENT.id,
    secret: NO_AUDIENCE_CLIENT.secret,
    protocol: "openid-connect",
    publicClient: false,
    clientAuthenticatorType: "client-secret",
    serviceAccountsEnabled: true,
    standardFlowEnabled: false,
    directAccessGrantsEnabled: false,
  });

  const { id: lightweightId } = await client.clients.create(structuredClone(LIGHTWEIGHT_CLIENT_REPRESENTATION));

  const output: string[] = [];
  const stack = await startStack({ issuer: keycloak.issuer, port, lambdaPort: 0, env: contractStackEnv(docsOrigin), onOutput: (line) => output.push(line) });
  if (stack.providerKind !== "keycloak") {
    await stack.stop();
    throw new Error(`startStack did not find Keycloak at ${keycloak.issuer}`);
  }
  return {
    kind: "keycloak",
    label: `Keycloak ${keycloak.version}`,
    issuer: keycloak.issuer,
    stack,
    output,
    docsOrigin,
    refreshTokenReason: "algorithm_not_allowed",
    keys: signingKeys(keycloak, admin),
    // Admin console > Users > alice > Sessions > "Sign out" (all her sessions), through the Admin REST API.
    signOutUser: async (userId) => {
      await (await admin()).users.logout({ id: userId });
    },
    // Admin console > Users > bob > "Enabled" off (or on again), through the Admin REST API.
    setUserEnabled: async (userId, enabled) => {
      await (await admin()).users.update({ id: userId }, { enabled });
    },
    async stop() {
      await stack.stop();
      const cleanup = await admin();
      await cleanup.clients.del({ id: noAudienceId });
      await cleanup.clients.del({ id: lightweightId });
    },
  };
}
