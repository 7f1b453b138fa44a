/**
 * Strict routes (`introspect: true`): what token introspection costs the secured function, as
 * `serverless package` bundles it (functions/secured.ts) with a deployed stage's environment plus
 * the introspection client (the stage defaults have none), against the bench's Keycloak stand-in
 * on loopback (bench/idp.ts), whose introspection answers at once. In one measured child, rounds
 * alternating, the same bundle:
 *
 * - `plain`: `GET /secured`, no introspection (the baseline);
 * - `strict.repeated`: `GET /secured/strict`, 100 tokens round-robin, answers from the per-token cache;
 * - `strict.distinct`: `GET /secured/strict`, every token new: one introspection request each,
 *   a loopback round trip here (an in-region Keycloak adds its network time and its own work).
 *
 * The child counts the stand-in's introspection requests around the distinct rounds: one per token.
 */
import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { bundleAuthorizer } from "./bundle.js";
import type { BenchContext, SuiteResult } from "./context.js";
import { deployedAuthorizer } from "./deployed-env.js";
import { figure, progress, type Figure } from "./stats.js";
import { validTokens } from "./tokens.js";

const PLAIN_OPS = 1000;
const REPEATED_TOKENS = 100;
const DISTINCT_OPS = 200;

/** A REST proxy event as API Gateway sends it after the authorizer allowed `token` (its claims in the context as JSON). */
function proxyEvent(route: string, token: string): string {
  const payloadJson = Buffer.from(token.split(".")[1] as string, "base64url").toString("utf8");
  const claims = JSON.parse(payloadJson) as Record<string, unknown>;
  return JSON.stringify({
    resource: route,
    path: route,
    httpMethod: "GET",
    headers: { Authorization: `Bearer ${token}`, Host: "abcdef1234.execute-api.eu-west-1.amazonaws.com", "User-Agent": "bench" },
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: null,
    isBase64Encoded: false,
    requestContext: {
      accountId: "123456789012",
      apiId: "abcdef1234",
      httpMethod: "GET",
      path: `/prod${route}`,
      resourcePath: route,
      stage: "prod",
      requestId: "bench",
      // What lib/apigateway/context.ts puts there: the payload's JSON text, and plain copies.
      authorizer: { kc_claims: payloadJson, realm: "bench", sub: claims.sub, azp: claims.azp, principalId: claims.sub, integrationLatency: 1 },
    },
  });
}

/** The measured child: plain JavaScript, no TypeScript loader, the Lambda node flags. */
const CHILD = `
import { readFileSync } from "node:fs";
const { bundleUrl, exportName, eventsFile, rounds, statsUrl, realm } = JSON.parse(process.argv[2]);
const { plain, repeated, distinct } = JSON.parse(readFileSync(eventsFile, "utf8"));
const handler = (await import(bundleUrl))[exportName];
const context = { awsRequestId: "bench", functionName: "bench", getRemainingTimeInMillis: () => 3000 };
const run = async (events) => {
  const parsed = events.map((e) => JSON.parse(e));
  const started = process.hrtime.bigint();
  for (const event of parsed) {
    const answer = await handler(event, context);
    if (answer.statusCode !== 200) throw new Error("answered " + answer.statusCode + ": " + answer.body);
  }
  return Number(process.hrtime.bigint() - started) / 1000 / parsed.length;
};
const introspections = async () => (await (await fetch(statsUrl)).json())[realm].introspection;
await run(plain); await run(repeated); await run(distinct[0]);
const results = { plain: [], repeated: [], distinct: [] };
const before = await introspections();
for (let round = 1; round <= rounds; round += 1) {
  const order = round % 2 === 0 ? ["plain", "repeated", "distinct"] : ["distinct", "repeated", "plain"];
  for (const name of order) results[name].push(await run(name === "distinct" ? distinct[round] : name === "plain" ? plain : repeated));
}
const requests = (await introspections()) - before;
process.send({ results, requests }, () => process.exit(0));
`;

export async function introspectionFigures(ctx: BenchContext): Promise<SuiteResult> {
  progress("introspection: bundling functions/secured.ts");
  const bundle = await bundleAuthorizer(join(ctx.tmp, "secured"), { functionKey: "secured" });
  const deployed = await deployedAuthorizer(ctx.realm.issuer, { functionKey: "secured" });
  const rounds = Math.max(3, ctx.runs);
  progress(`introspection: signing ${REPEATED_TOKENS + DISTINCT_OPS * (rounds + 1)} tokens`);
  const tokens = await validTokens(ctx.realm, ctx.audience, REPEATED_TOKENS + DISTINCT_OPS * (rounds + 1));
  const repeatedTokens = tokens.slice(0, REPEATED_TOKENS);
  const events = {
    plain: Array.from({ length: PLAIN_OPS }, (_, i) => proxyEvent("/secured", repeatedTokens[i % REPEATED_TOKENS] as string)),
    repeated: Array.from({ length: PLAIN_OPS }, (_, i) => proxyEvent("/secured/strict", repeatedTokens[i % REPEATED_TOKENS] as string)),
    distinct: Array.from({ length: rounds + 1 }, (_, round) =>
      tokens.slice(REPEATED_TOKENS + round * DISTINCT_OPS, REPEATED_TOKENS + (round + 1) * DISTINCT_OPS).map((t) => proxyEvent("/secured/strict", t)),
    ),
  };
  const eventsFile = join(ctx.tmp, "introspection-events.json");
  await writeFile(eventsFile, JSON.stringify(events));
  const script = join(ctx.tmp, "introspection-child.mjs");
  await writeFile(script, CHILD);
  const realm = new URL(ctx.realm.issuer).pathname.split("/").pop() as string;
  const start = {
    bundleUrl: bundle.url,
    exportName: bundle.exportName,
    eventsFile,
    rounds,
    statsUrl: `${new URL(ctx.realm.issuer).origin}/__bench/stats`,
    realm,
  };
  progress(`introspection: ${rounds} rounds`);
  const outcome = await new Promise<{ results: Record<"plain" | "repeated" | "distinct", number[]>; requests: number }>((resolve, reject) => {
    const child = spawn(process.execPath, [...deployed.nodeFlags, script, JSON.stringify(start)], {
      // Exactly the deployed environment, and the API's client for introspection.
      env: { ...deployed.env, KEYCLOAK_INTROSPECTION_CLIENT_ID: "secured-api", KEYCLOAK_INTROSPECTION_CLIENT_SECRET: "bench-secret" },
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    let answer: { results: Record<"plain" | "repeated" | "distinct", number[]>; requests: number } | undefined;
    child.on("message", (message) => {
      answer = message as typeof answer;
    });
    child.on("exit", (code) =>
      answer !== undefined && code === 0 ? resolve(answer) : reject(new Error(`introspection child exited ${code}: ${output.slice(-2000)}`)),
    );
  });
  const { results, requests } = outcome;
  const figures: Figure[] = [
    figure({
      name: "introspection.strict.repeated/plain",
      unit: "us/op",
      runs: results.repeated,
      baselineRuns: results.plain,
      about: "a strict route with the answer cached, against a plain route",
    }),
    figure({
      name: "introspection.strict.distinct/plain",
      unit: "us/op",
      runs: results.distinct,
      baselineRuns: results.plain,
      about: "a strict route whose token is new: one introspection request (loopback) each",
    }),
    figure({
      name: "introspection.requests-per-token",
      unit: "count",
      runs: [requests / (rounds * DISTINCT_OPS)],
      target: { on: "value", op: "<=", limit: 1 },
      about: "introspection requests per distinct token, measured rounds",
    }),
  ];
  return { figures, details: { bundleBytes: bundle.bytes, functionEnv: deployed.functionEnv, rounds, requests } };
}
