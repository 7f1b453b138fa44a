/**
 * Many realms end to end (issue 17), through serverless-offline against the embedded provider
 * serving two realms on one server (keycloak/realm-demo.json and keycloak/realm-acme.json), as one
 * Keycloak serves many: with KEYCLOAK_ISSUER a `{realm}` pattern, tokens of both realms are
 * accepted on both API kinds, the Organizations claim intact; where the allow-list names only demo,
 * acme's tokens are refused.
 */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { fileURLToPath } from "node:url";
import { freePort, startStack, type RunningStack } from "../../local/stack.js";
import { passwordTokens, payloadOf, requestToken } from "../helpers/oidc-client.js";

const ACME_REALM_FILE = fileURLToPath(new URL("../../keycloak/realm-acme.json", import.meta.url));
const ACME_CLIENT = { id: "api-client", secret: "acme-api-client-secret" };

let open: RunningStack;
let demoOnly: RunningStack;
const tokens: Record<string, string> = {};

async function stack(env: Record<string, string>): Promise<RunningStack> {
  const origin = `http://localhost:${await freePort()}`;
  return startStack({ issuer: `${origin}/realms/{realm}`, port: 0, lambdaPort: 0, extraRealmFiles: [ACME_REALM_FILE], env, revocation: false });
}

beforeAll(async () => {
  [open, demoOnly] = await Promise.all([stack({}), stack({ KEYCLOAK_REALMS_ALLOW: "demo" })]);
  const acmeIssuer = open.provider?.realms.get("acme");
  if (acmeIssuer === undefined) throw new Error("the embedded provider serves no acme realm");
  tokens.alice = (await passwordTokens(open.issuer, "alice")).access_token;
  const carol = await requestToken(acmeIssuer, { grant_type: "password", username: "carol", password: "carol", scope: "openid organization" }, ACME_CLIENT);
  expect(carol.status).toBe(200);
  tokens.carol = carol.body.access_token;
  const otherAcme = demoOnly.provider?.realms.get("acme") as string;
  const carolThere = await requestToken(otherAcme, { grant_type: "password", username: "carol", password: "carol", scope: "openid organization" }, ACME_CLIENT);
  tokens.carolDemoOnly = carolThere.body.access_token;
  tokens.aliceDemoOnly = (await passwordTokens(demoOnly.issuer, "alice")).access_token;
}, 180_000);
afterAll(() => Promise.all([open?.stop(), demoOnly?.stop()]));

const secured = async (base: string, path: string, token: string | undefined) => {
  const response = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: response.status === 200 ? ((await response.json()) as { claims: Record<string, unknown> }) : undefined };
};

describe.each([
  ["HTTP API", ""],
  ["REST API", "/dev"],
])("%s", (_kind, prefix) => {
  test("KEYCLOAK_ISSUER http://localhost:<port>/realms/{realm}: a token of realm acme is accepted, its organization claim as Keycloak wrote it", async () => {
    const { status, body } = await secured(open.baseUrl, `${prefix}/secured`, tokens.carol);
    expect(status).toBe(200);
    expect(body?.claims).toStrictEqual(payloadOf(tokens.carol as string));
    expect(body?.claims.iss).toBe(open.provider?.realms.get("acme"));
    expect(body?.claims.organization).toEqual(["acme-corp"]);
  });

  test("the same authorizer accepts realm demo's tokens", async () => {
    const { status, body } = await secured(open.baseUrl, `${prefix}/secured`, tokens.alice);
    expect(status).toBe(200);
    expect(body?.claims.iss).toBe(open.issuer);
  });

  test("KEYCLOAK_REALMS_ALLOW=demo: acme's token is refused (401), demo's accepted", async () => {
    expect((await secured(demoOnly.baseUrl, `${prefix}/secured`, tokens.carolDemoOnly)).status).toBe(401);
    expect((await secured(demoOnly.baseUrl, `${prefix}/secured`, tokens.aliceDemoOnly)).status).toBe(200);
  });
});

describe("the embedded provider's acme realm, as Keycloak 26.4 issues its tokens", () => {
  test("the organization claim only with the organization scope asked for, which the scope claim then names", async () => {
    const acmeIssuer = open.provider?.realms.get("acme") as string;
    const without = await requestToken(acmeIssuer, { grant_type: "password", username: "carol", password: "carol", scope: "openid" }, ACME_CLIENT);
    expect(payloadOf(without.body.access_token)).not.toHaveProperty("organization");
    const claims = payloadOf(tokens.carol as string);
    expect(claims).toMatchObject({ iss: acmeIssuer, aud: "secured-api", azp: "api-client", organization: ["acme-corp"] });
    expect(String(claims.scope).split(" ")).toContain("organization");
  });

  test("realm demo's users do not exist in realm acme, nor acme's clients' secrets in demo", async () => {
    const acmeIssuer = open.provider?.realms.get("acme") as string;
    expect((await requestToken(acmeIssuer, { grant_type: "password", username: "alice", password: "alice", scope: "openid" }, ACME_CLIENT)).status).toBe(401);
    expect((await requestToken(open.issuer, { grant_type: "password", username: "carol", password: "carol", scope: "openid" }, ACME_CLIENT)).status).toBe(401);
  });
});
