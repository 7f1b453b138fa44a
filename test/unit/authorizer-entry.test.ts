/**
 * Which authorizer a stage deploys (infra/authorizer-entry.cjs), and that an authorizer built
 * without a feature refuses, at cold start, a configuration that needs it.
 */
import { describe, expect, test } from "@jest/globals";
import { createRequire } from "node:module";
import { lambdaAuthorizer } from "../../lib/authorizer/lambda-authorizer.js";
import { routeTable } from "../../lib/routes/route.js";

const authorizerEntry = createRequire(import.meta.url)("../../infra/authorizer-entry.cjs") as (options: {
  resolveVariable: (name: string) => Promise<unknown>;
}) => Promise<string>;

const entryFor = (params: Record<string, string>, local = false): Promise<string> => {
  const saved = process.env.KLA_LOCAL_AUTHORIZER;
  if (local) process.env.KLA_LOCAL_AUTHORIZER = "true";
  else delete process.env.KLA_LOCAL_AUTHORIZER;
  const resolveVariable = async (name: string) => ({ keycloakDpop: "", revocation: "false", localStage: "false", ...params })[name.replace(/^param:/, "")];
  return authorizerEntry({ resolveVariable }).finally(() => {
    if (saved === undefined) delete process.env.KLA_LOCAL_AUTHORIZER;
    else process.env.KLA_LOCAL_AUTHORIZER = saved;
  });
};

describe("infra/authorizer-entry.cjs", () => {
  test("DPoP and revocation off (the defaults): functions/authorizer.ts, built without either", async () => {
    expect(await entryFor({})).toBe("functions/authorizer.handler");
    expect(await entryFor({ keycloakDpop: "off" })).toBe("functions/authorizer.handler");
  });

  test("either on: functions/authorizer-full.ts", async () => {
    expect(await entryFor({ keycloakDpop: "allowed" })).toBe("functions/authorizer-full.handler");
    expect(await entryFor({ keycloakDpop: "required" })).toBe("functions/authorizer-full.handler");
    expect(await entryFor({ revocation: "true" })).toBe("functions/authorizer-full.handler");
  });

  test("the local stack's authorizer (gateway rules checked) only on a local stage", async () => {
    expect(await entryFor({ localStage: "true" }, true)).toBe("local/offline/authorizer.handler");
    await expect(entryFor({ localStage: "false" }, true)).rejects.toThrow(/only for a local stage/);
  });
});

describe("an authorizer built without a feature", () => {
  const routes = routeTable([{ method: "GET", path: "/secured", summary: "s" }]);
  const env = { KEYCLOAK_ISSUER: "https://keycloak.example.com/realms/demo", KEYCLOAK_AUDIENCE: "secured-api" };

  test("refuses KEYCLOAK_DPOP on, and a revocation table, at cold start: never a silently weaker authorizer", () => {
    expect(() => lambdaAuthorizer(routes, { ...env, KEYCLOAK_DPOP: "allowed" })).toThrow(
      /KEYCLOAK_DPOP is allowed, but this authorizer was built without DPoP/,
    );
    expect(() => lambdaAuthorizer(routes, { ...env, KEYCLOAK_REVOCATION_TABLE: "t" })).toThrow(/built without revocation/);
  });
});
