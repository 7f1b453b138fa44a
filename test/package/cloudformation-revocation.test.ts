/**
 * `serverless package --stage prod --param revocation=true`: the back-channel logout receiver on a
 * public route of both APIs, the DynamoDB table (on demand, TTL), least-privilege roles (the
 * receiver may only write items, the authorizer only read them, each only its own logs), and
 * API Gateway's result cache TTL following the revocation window. (revocation off: see
 * cloudformation-deploy.test.ts, "revocation off".)
 */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { join } from "node:path";
import { AUTHORIZER_SETTINGS, loadAuthorizerConfig } from "../../lib/config/authorizer-config.js";
import { LOGOUT_RECEIVER_SETTINGS, loadLogoutReceiverConfig } from "../../lib/config/logout-receiver-config.js";
import { packageService, resourcesOf, restRouteKeys, type PackagedService } from "../helpers/serverless-package.js";
import { listZip } from "../helpers/unzip.js";

const ISSUER = "https://keycloak.example.com/realms/demo";
const TABLE = "keycloak-lambda-authorizer-prod-revocations";
let prod: PackagedService;
beforeAll(async () => {
  prod = await packageService(["--stage", "prod", "--param", `keycloakIssuer=${ISSUER}`, "--param", "revocation=true"], { KEYCLOAK_ISSUER: "" });
}, 180_000);
afterAll(() => prod?.remove());

type Statement = { Effect: string; Action: string[]; Resource: unknown[] };
const resource = (name: string): { Type: string; Properties: Record<string, unknown> } => {
  const found = prod.template.Resources[name];
  if (found === undefined) throw new Error(`no resource ${name}`);
  return found;
};
const statementsOf = (role: string): Statement[] =>
  (resource(role).Properties.Policies as Array<{ PolicyDocument: { Statement: Statement[] } }>).flatMap((policy) => policy.PolicyDocument.Statement);
const variables = (name: string): Record<string, string> => (resource(name).Properties.Environment as { Variables: Record<string, string> }).Variables;

test("the table: on-demand, key pk (string), TTL on expiresAt", () => {
  expect(resource("RevocationTable")).toMatchObject({
    Type: "AWS::DynamoDB::Table",
    Properties: {
      TableName: TABLE,
      BillingMode: "PAY_PER_REQUEST",
      KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
      AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
      TimeToLiveSpecification: { AttributeName: "expiresAt", Enabled: true },
    },
  });
});

describe("IAM", () => {
  test("the authorizer runs with a role that may read the table (BatchGetItem, GetItem) and write its own logs, nothing else", () => {
    expect(resource("AuthorizerLambdaFunction").Properties.Role).toEqual({ "Fn::GetAtt": ["AuthorizerRevocationReaderRole", "Arn"] });
    const statements = statementsOf("AuthorizerRevocationReaderRole");
    expect(statements.flatMap((statement) => statement.Action).sort()).toEqual([
      "dynamodb:BatchGetItem",
      "dynamodb:GetItem",
      "logs:CreateLogStream",
      "logs:PutLogEvents",
    ]);
    const dynamo = statements.find((statement) => statement.Action.some((action) => action.startsWith("dynamodb:")));
    expect(dynamo?.Resource).toEqual([{ "Fn::GetAtt": ["RevocationTable", "Arn"] }]);
    expect(JSON.stringify(statements)).toContain("log-group:/aws/lambda/keycloak-lambda-authorizer-prod-authorizer:*");
  });

  test("the receiver runs with a role that may only put items (no read, delete or scan) and write its own logs", () => {
    expect(resource("BackchannelLogoutLambdaFunction").Properties.Role).toEqual({ "Fn::GetAtt": ["BackchannelLogoutWriterRole", "Arn"] });
    const statements = statementsOf("BackchannelLogoutWriterRole");
    expect(statements.flatMap((statement) => statement.Action).sort()).toEqual(["dynamodb:PutItem", "logs:CreateLogStream", "logs:PutLogEvents"]);
    expect(JSON.stringify(statements)).toContain("log-group:/aws/lambda/keycloak-lambda-authorizer-prod-backchannelLogout:*");
  });

  test("no other role touches DynamoDB, and no action anywhere is a wildcard", () => {
    for (const [name, role] of resourcesOf(prod.template, "AWS::IAM::Role")) {
      const actions = (role.Policies as Array<{ PolicyDocument: { Statement: Statement[] } }>).flatMap((policy) =>
        policy.PolicyDocument.Statement.flatMap((s) => s.Action),
      );
      expect(actions.filter((action) => action.includes("*"))).toEqual([]);
      if (!["AuthorizerRevocationReaderRole", "BackchannelLogoutWriterRole"].includes(name))
        expect(actions.filter((action) => action.startsWith("dynamodb:"))).toEqual([]);
    }
  });
});

describe("functions", () => {
  test("the receiver's environment is exactly its configuration's settings, and loads", () => {
    expect(Object.keys(variables("BackchannelLogoutLambdaFunction")).sort()).toEqual(
      [...Object.values(LOGOUT_RECEIVER_SETTINGS).map((setting) => setting.name), "POWERTOOLS_LOG_LEVEL"].sort(),
    );
    const config = loadLogoutReceiverConfig(variables("BackchannelLogoutLambdaFunction"));
    expect(config.issuers.single?.issuer).toBe(ISSUER);
    expect(config).toMatchObject({
      logoutClients: ["api-client", "api-docs"],
      revocationTable: TABLE,
      revocationEndpoint: undefined,
    });
  });

  test("the authorizer's environment is exactly its settings, with the table named", () => {
    expect(Object.keys(variables("AuthorizerLambdaFunction")).sort()).toEqual(
      [...Object.values(AUTHORIZER_SETTINGS).map((setting) => setting.name), "POWERTOOLS_LOG_LEVEL"].sort(),
    );
    expect(loadAuthorizerConfig(variables("AuthorizerLambdaFunction"))).toMatchObject({
      revocationTable: TABLE,
      revocationCacheSeconds: 15,
      revocationFailOpen: false,
    });
  });

  test("the receiver is public (no authorizer) on both APIs: POST /backchannel-logout", () => {
    expect(restRouteKeys(prod.template)).toContainEqual({ key: "POST /backchannel-logout", authorization: "NONE" });
    const route = resourcesOf(prod.template, "AWS::ApiGatewayV2::Route").find(([, r]) => r.RouteKey === "POST /backchannel-logout");
    expect(route?.[1].AuthorizationType ?? "NONE").toBe("NONE");
  });

  test("with revocation on the authorizer is functions/authorizer-full.ts, one file with the AWS SDK left to the runtime", async () => {
    expect(resource("AuthorizerLambdaFunction").Properties.Handler).toBe("functions/authorizer-full.handler");
    const entries = await listZip(join(prod.dir, "authorizer.zip"));
    expect(entries.map((entry) => entry.name)).toEqual(["functions/authorizer-full.mjs"]);
    // About 108 KB with DPoP and revocation in it; the SDK alone would add several hundred.
    expect(entries[0]?.size).toBeLessThan(116 * 1024);
    const receiver = await listZip(join(prod.dir, "backchannelLogout.zip"));
    expect(receiver.map((entry) => entry.name)).toEqual(["functions/backchannel-logout.mjs"]);
  });
});

test("API Gateway's result cache follows the window: revocationWindowSeconds (60) minus the lookup cache (15) on both API kinds", () => {
  expect(resourcesOf(prod.template, "AWS::ApiGateway::Authorizer")[0]?.[1].AuthorizerResultTtlInSeconds).toBe(45);
  expect(resourcesOf(prod.template, "AWS::ApiGatewayV2::Authorizer")[0]?.[1].AuthorizerResultTtlInSeconds).toBe(45);
});

test("a window shorter than the lookup cache fails the package with a message naming both", async () => {
  const failure = await packageService(
    ["--stage", "prod", "--param", `keycloakIssuer=${ISSUER}`, "--param", "revocation=true", "--param", "revocationWindowSeconds=10"],
    { KEYCLOAK_ISSUER: "" },
  ).then(
    async (packaged) => {
      await packaged.remove();
      return "";
    },
    (error: { stdout?: string; stderr?: string }) => `${error.stdout ?? ""}${error.stderr ?? ""}`,
  );
  expect(failure).toContain("revocationWindowSeconds (10) must be");
}, 120_000);
