/**
 * What `serverless package` would upload: the authorizer zip holds the one minified bundle and
 * nothing else, stays small (it is unpacked on every cold start), and every function targets
 * nodejs22.x on arm64.
 */
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { packageService, resourcesOf, type PackagedService } from "../helpers/serverless-package.js";
import { listZip } from "../helpers/unzip.js";

const ISSUER = "https://keycloak.example.com/realms/demo";
// Issue 15: it is unpacked on every cold start. DPoP and revocation, off here, are not in it
// (infra/authorizer-entry.cjs builds functions/authorizer.ts).
const MAX_BYTES = 100 * 1024;

let packaged: PackagedService;
beforeAll(async () => {
  // A deployed stage with its defaults (DPoP and revocation off), so nothing falls back to the
  // local stage's settings of serverless.yml.
  packaged = await packageService(["--stage", "prod", "--param", `keycloakIssuer=${ISSUER}`], { KEYCLOAK_ISSUER: "" });
}, 120_000);
afterAll(() => packaged?.remove());

test("the authorizer zip holds only the bundled .mjs: no sources, node_modules, tests or local code", async () => {
  const entries = await listZip(join(packaged.dir, "authorizer.zip"));
  expect(entries.map((entry) => entry.name)).toEqual(["functions/authorizer.mjs"]);
  const [, authorizer] = resourcesOf(packaged.template, "AWS::Lambda::Function").find(([name]) => name === "AuthorizerLambdaFunction") ?? [];
  expect(authorizer?.Handler).toBe("functions/authorizer.handler");
});

test("the authorizer bundle and its zip are under 100 KB", async () => {
  const [bundle] = await listZip(join(packaged.dir, "authorizer.zip"));
  expect(bundle?.size).toBeGreaterThan(0);
  expect(bundle?.size).toBeLessThan(MAX_BYTES);
  expect((await stat(join(packaged.dir, "authorizer.zip"))).size).toBeLessThan(MAX_BYTES);
});

test("every function runs nodejs22.x on arm64, with the issuer given at package time", () => {
  const functions = resourcesOf(packaged.template, "AWS::Lambda::Function");
  expect(functions.map(([name]) => name)).toEqual(expect.arrayContaining(["AuthorizerLambdaFunction", "SecuredLambdaFunction"]));
  for (const [, properties] of functions) {
    expect(properties.Runtime).toBe("nodejs22.x");
    expect(properties.Architectures).toEqual(["arm64"]);
  }
  const authorizer = packaged.template.Resources.AuthorizerLambdaFunction?.Properties as { Environment: { Variables: Record<string, string> } };
  expect(authorizer.Environment.Variables.KEYCLOAK_ISSUER).toBe(ISSUER);
});
