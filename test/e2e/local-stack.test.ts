/**
 * The local stack end to end, over real HTTP: the embedded provider (from a copy of the realm file
 * with one extra client) and the API under serverless-offline, both on free ports.
 */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, startStack, type RunningStack } from "../../local/stack.js";
import { clientTokens, passwordTokens, payloadOf, type TokenSet } from "../helpers/oidc-client.js";

const NO_AUDIENCE_CLIENT = { id: "no-audience-client", secret: "no-audience-secret" };
const ROUTES = [
  ["REST API (TOKEN authorizer)", "/dev/secured"],
  ["HTTP API (payload 2.0 authorizer)", "/secured"],
] as const;

let stack: RunningStack;
let workDir: string;
const output: string[] = [];

beforeAll(async () => {
  // The demo realm plus a client without the audience mapper: its tokens lack `secured-api`.
  workDir = await mkdtemp(join(tmpdir(), "kc-e2e-"));
  const realm = JSON.parse(await readFile("keycloak/realm-demo.json", "utf8")) as { clients: Record<string, unknown>[]; users: Record<string, unknown>[] };
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
  realm.users.push({ username: `service-account-${NO_AUDIENCE_CLIENT.id}`, enabled: true, serviceAccountClientId: NO_AUDIENCE_CLIENT.id, realmRoles: [] });
  const realmFile = join(workDir, "realm.json");
  await writeFile(realmFile, JSON.stringify(realm));

  stack = await startStack({
    issuer: `http://localhost:${await freePort()}/realms/demo`,
    port: 0,
    lambdaPort: 0,
    realmFile,
    onOutput: (line) => output.push(line),
  });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await rm(workDir, { recursive: true, force: true });
});

async function call(path: string, authorization?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${stack.baseUrl}${path}`, authorization === undefined ? {} : { headers: { authorization } });
  const text = await response.text();
  return { status: response.status, body: text === "" ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

test("uses the embedded provider when nothing answers at the issuer", () => {
  expect(stack.providerKind).toBe("embedded");
});

describe.each(ROUTES)("%s at %s", (_name, path) => {
  let alice: TokenSet;
  let service: TokenSet;
  beforeAll(async () => {
    alice = await passwordTokens(stack.issuer, "alice");
    service = await clientTokens(stack.issuer);
  });

  test("alice's password-grant token gives 200 with exactly her token's claims", async () => {
    const { status, body } = await call(path, `Bearer ${alice.access_token}`);
    expect(status).toBe(200);
    expect(body.claims).toStrictEqual(payloadOf(alice.access_token));
    expect(body.claims).toMatchObject({ preferred_username: "alice", typ: "Bearer", realm_access: { roles: expect.arrayContaining(["admin"]) } });
  });

  test("the service account's client-credentials token gives 200 with its claims", async () => {
    const { status, body } = await call(path, `Bearer ${service.access_token}`);
    expect(status).toBe(200);
    expect(body.claims).toStrictEqual(payloadOf(service.access_token));
    expect(body.claims).toMatchObject({ preferred_username: "service-account-api-client", azp: "api-client" });
  });

  test.each<[string, () => string | undefined]>([
    ["no token", () => undefined],
    ["a Basic header", () => "Basic YWxpY2U6YWxpY2U="],
    ["a tampered token", () => tamper(alice.access_token)],
    ["an ID token", () => `Bearer ${alice.id_token ?? ""}`],
    ["a refresh token", () => `Bearer ${alice.refresh_token ?? ""}`],
  ])("%s is refused with 401", async (_case, header) => {
    expect((await call(path, header())).status).toBe(401);
  });

  test("a token whose aud lacks secured-api is refused with 401", async () => {
    const foreign = await clientTokens(stack.issuer, NO_AUDIENCE_CLIENT);
    expect(payloadOf(foreign.access_token).aud).not.toContain("secured-api");
    expect((await call(path, `Bearer ${foreign.access_token}`)).status).toBe(401);
  });
});

test("each refusal is logged with its reason code and without the token", async () => {
  const alice = await passwordTokens(stack.issuer, "alice");
  const forged = tamper(alice.access_token);
  expect((await call("/secured", forged)).status).toBe(401);
  // serverless-offline relays the function's output asynchronously: wait for the line.
  const logged = (): boolean => output.some((line) => line.includes('"request refused"') && line.includes('"reason":"invalid_signature"'));
  for (let waited = 0; !logged() && waited < 10_000; waited += 100) await new Promise((resolve) => setTimeout(resolve, 100));
  expect(logged()).toBe(true);
  expect(output.join("\n")).not.toContain(forged.slice(-40));
});

function tamper(token: string): string {
  const [header, , signature] = token.split(".") as [string, string, string];
  const claims = payloadOf(token);
  claims.realm_access = { roles: ["admin", "superuser"] };
  return `Bearer ${header}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${signature}`;
}
