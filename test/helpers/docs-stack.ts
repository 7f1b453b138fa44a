/**
 * A local stack for the docs page on a free port: the embedded provider serves a copy of the demo
 * realm whose `api-docs` client allows exactly this port (redirect URI and web origin), as the
 * real file allows http://localhost:3000. So the browser test never needs port 3000 (which
 * `npm start` uses) and runs beside any other test file.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, ROOT, startStack, type RunningStack } from "../../local/stack.js";

interface RealmClient {
  clientId: string;
  rootUrl?: string;
  redirectUris?: string[];
  webOrigins?: string[];
  attributes?: Record<string, string>;
}

export interface DocsStack {
  readonly stack: RunningStack;
  /** `http://localhost:<port>`: the API, the docs page and the api-docs client's origin. */
  readonly origin: string;
  /** serverless-offline's output, for failure messages. */
  readonly output: readonly string[];
  stop(): Promise<void>;
}

/** The demo realm with the api-docs client, and every client's back-channel logout URL, moved from http://localhost:3000 to `origin`. */
export async function realmForDocsOrigin(origin: string): Promise<Record<string, unknown>> {
  const realm = JSON.parse(await readFile(join(ROOT, "keycloak", "realm-demo.json"), "utf8")) as { clients: RealmClient[] };
  const client = realm.clients.find((candidate) => candidate.clientId === "api-docs");
  if (client === undefined) throw new Error("keycloak/realm-demo.json has no api-docs client");
  const replace = (value: string): string => value.replace("http://localhost:3000", origin);
  if (client.rootUrl !== undefined) client.rootUrl = replace(client.rootUrl);
  client.redirectUris = (client.redirectUris ?? []).map(replace);
  client.webOrigins = (client.webOrigins ?? []).map(replace);
  for (const other of realm.clients) {
    const url = other.attributes?.["backchannel.logout.url"];
    if (url !== undefined && other.attributes !== undefined) other.attributes["backchannel.logout.url"] = replace(url);
  }
  return realm as unknown as Record<string, unknown>;
}

export async function startDocsStack(): Promise<DocsStack> {
  const port = await freePort();
  const origin = `http://localhost:${port}`;
  const workDir = await mkdtemp(join(tmpdir(), "kc-docs-"));
  const realmFile = join(workDir, "realm.json");
  await writeFile(realmFile, JSON.stringify(await realmForDocsOrigin(origin)));
  const output: string[] = [];
  let stack: RunningStack;
  try {
    stack = await startStack({
      issuer: `http://localhost:${await freePort()}/realms/demo`,
      port,
      lambdaPort: 0,
      realmFile,
      env: { CORS_ORIGINS: origin },
      onOutput: (line) => output.push(line),
    });
  } catch (error) {
    await rm(workDir, { recursive: true, force: true });
    throw error;
  }
  return {
    stack,
    origin,
    output,
    async stop() {
      await stack.stop();
      await rm(workDir, { recursive: true, force: true });
    },
  };
}
