/**
 * The embedded provider as the provider under test: a copy of the demo realm whose api-docs client
 * allows the test's origin, plus a client without the audience mapper and one of lightweight tokens, served by local/provider
 * through startStack (as `npm start` does when nothing answers at the issuer).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, startStack } from "../../local/stack.js";
import { realmForDocsOrigin } from "../helpers/docs-stack.js";
import { contractStackEnv, LIGHTWEIGHT_CLIENT_REPRESENTATION, NO_AUDIENCE_CLIENT, type ProviderUnderTest } from "./subject.js";

export async function startEmbeddedSubject(): Promise<ProviderUnderTest & { stop(): Promise<void> }> {
  const port = await freePort();
  const docsOrigin = `http://localhost:${port}`;
  const realm = (await realmForDocsOrigin(docsOrigin)) as { clients: Array<Record<string, unknown>>; users: Array<Record<string, unknown>> };
  realm.clients.push({
    clientId: NO_AUDIENCE_CLIENT.id,
    enabled: true,
    protocol: "openid-connect",
    publicClient: false,
    clientAuthenticatorType: "client-secret",
    secret: NO_AUDIENCE_CLIENT.secret,
    standardFlowEnabled: false,
    serviceAccountsEnabled: true,
    directAccessGrantsEnabled: false,
  });
  realm.clients.push(structuredClone(LIGHTWEIGHT_CLIENT_REPRESENTATION));
  realm.users.push({ username: `service-account-${NO_AUDIENCE_CLIENT.id}`, enabled: true, serviceAccountClientId: NO_AUDIENCE_CLIENT.id, realmRoles: [] });
  const workDir = await mkdtemp(join(tmpdir(), "kc-contract-"));
  const realmFile = join(workDir, "realm.json");
  await writeFile(realmFile, JSON.stringify(realm));

  const output: string[] = [];
  const stack = await startStack({
    issuer: `http://localhost:${await freePort()}/realms/demo`,
    port,
    lambdaPort: 0,
    realmFile,
    env: contractStackEnv(docsOrigin),
    onOutput: (line) => output.push(line),
  }).catch(async (error: unknown) => {
    await rm(workDir, { recursive: true, force: true });
    throw error;
  });
  const provider = stack.provider;
  if (provider === undefined) {
    await stack.stop();
    await rm(workDir, { recursive: true, force: true });
    throw new Error("startStack found another provider at the embedded provider's issuer");
  }
  return {
    kind: "embedded",
    label: "the embedded provider",
    issuer: stack.issuer,
    stack,
    output,
    docsOrigin,
    refreshTokenReason: "malformed_token",
    signOutUser: undefined,
    setUserEnabled: undefined,
    keys: {
      active: async () => provider.signingKeys.active(),
      add: () => provider.signingKeys.add(),
      makePassive: async (kid) => provider.signingKeys.setActive(kid, false),
      remove: async (kid) => provider.signingKeys.remove(kid),
    },
    async stop() {
      await stack.stop();
      await rm(workDir, { recursive: true, force: true });
    },
  };
}
