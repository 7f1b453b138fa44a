/**
 * Opt-in (BENCH_ONLY=offline): not the deployed handler's cost, but the local stack's.
 * Through serverless-offline: GET /secured behind the authorizer versus the same `secured`
 * function invoked directly on serverless-offline's Lambda endpoint (no authorizer, no routing),
 * with the event the authorizer would have produced. serverless.yml has no public route, and the
 * Lambda invoke endpoint is the closest "same handler, no authorizer" path it offers.
 */
import autocannon from "autocannon";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { freePort, startStack } from "../local/stack.js";
import { clientTokens } from "../test/helpers/oidc-client.js";
import type { BenchContext, SuiteResult } from "./context.js";
import { eventJson, lambdaContext } from "./events.js";
import { runMeasured } from "./measured-process.js";
import { figure, progress } from "./stats.js";

const DURATION_S = 2;
const CONNECTIONS = 10;
const FUNCTION_NAME = "keycloak-lambda-authorizer-dev-secured";

interface Target {
  readonly name: string;
  readonly options: autocannon.Options;
}

async function measure(target: Target): Promise<{ rps: number; p99: number }> {
  const result = await autocannon({ ...target.options, connections: CONNECTIONS, duration: DURATION_S });
  if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0) {
    throw new Error(`${target.name}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`);
  }
  return { rps: result.requests.average, p99: result.latency.p99 };
}

/** The authorizer context the bundle answers for this token on a REST TOKEN event (what API Gateway hands `secured`). */
async function authorizerContext(ctx: BenchContext, issuer: string, token: string): Promise<unknown> {
  const file = join(ctx.tmp, "offline-answer.json");
  await writeFile(
    file,
    JSON.stringify({
      exportName: ctx.bundle.exportName,
      event: JSON.parse(eventJson("rest-token", `Bearer ${token}`)) as unknown,
      context: lambdaContext(ctx.lambda),
    }),
  );
  const script = `
import { readFileSync, writeSync } from "node:fs";
const { exportName, event, context } = JSON.parse(readFileSync(process.argv[2], "utf8"));
const handler = (await import(process.argv[1]))[exportName];
const result = await handler(event, { ...context, getRemainingTimeInMillis: () => 10000 });
writeSync(3, JSON.stringify(result.context));
process.exit(0);
`;
  const { fd3 } = await runMeasured(["--input-type=module", "-e", script, ctx.bundle.url, file], {
    env: { ...ctx.deployed.env, KEYCLOAK_ISSUER: issuer },
    nodeFlags: ctx.deployed.nodeFlags,
    fd3: true,
  });
  return JSON.parse(fd3) as unknown;
}

export async function offlineFigures(ctx: BenchContext): Promise<SuiteResult> {
  const runs = ctx.runs;
  const lambdaPort = await freePort();
  progress("starting the local stack (embedded provider + serverless-offline)");
  const stack = await startStack({ port: 0, lambdaPort, issuer: `http://localhost:${await freePort()}/realms/demo` });
  try {
    const token = (await clientTokens(stack.issuer)).access_token;
    const authorization = `Bearer ${token}`;
    // The event API Gateway would hand `secured` after the authorizer allowed this token.
    const invokeEvent = JSON.stringify({
      httpMethod: "GET",
      path: "/secured",
      resource: "/secured",
      headers: {},
      requestContext: { authorizer: await authorizerContext(ctx, stack.issuer, token) },
    });
    const targets: Target[] = [
      { name: "rest", options: { url: `${stack.baseUrl}/dev/secured`, headers: { authorization } } },
      { name: "http-api", options: { url: `${stack.baseUrl}/secured`, headers: { authorization } } },
      {
        name: "invoke",
        options: {
          url: `http://localhost:${lambdaPort}/2015-03-31/functions/${FUNCTION_NAME}/invocations`,
          method: "POST",
          headers: { "content-type": "application/json" },
          body: invokeEvent,
        },
      },
    ];
    // Every path must answer 200 with the claims before it is timed, or the figures mean nothing.
    for (const target of targets) {
      const response = await fetch(target.options.url as string, {
        method: target.options.method ?? "GET",
        headers: target.options.headers as Record<string, string>,
        ...(target.options.body === undefined ? {} : { body: target.options.body as string }),
      });
      const text = await response.text();
      // The invoke endpoint wraps the function's answer: its own statusCode must be 200 as well.
      const inner = target.name === "invoke" ? (JSON.parse(text) as { statusCode?: number }).statusCode : 200;
      if (response.status !== 200 || inner !== 200 || !text.includes("claims")) {
        throw new Error(`${target.name} did not answer 200 with claims: ${response.status} ${text.slice(0, 200)}`);
      }
      await measure(target); // warm-up: first requests load and JIT the handlers
    }
    const samples = (): { rps: number[]; p99: number[] } => ({ rps: [], p99: [] });
    const invoke = samples();
    const rest = samples();
    const httpApi = samples();
    const results = new Map<string, { rps: number[]; p99: number[] }>([
      ["invoke", invoke],
      ["rest", rest],
      ["http-api", httpApi],
    ]);
    for (let run = 1; run <= runs; run += 1) {
      progress(`serverless-offline run ${run}/${runs}`);
      for (const target of targets) {
        const { rps, p99 } = await measure(target);
        const into = results.get(target.name);
        if (into === undefined) throw new Error(`no results for ${target.name}`);
        into.rps.push(rps);
        into.p99.push(p99);
      }
    }
    const about = "serverless-offline, autocannon 10 connections 2 s, against invoking `secured` directly";
    return {
      figures: [
        figure({ name: "offline.rest-secured/invoke", unit: "req/s", runs: rest.rps, baselineRuns: invoke.rps, about }),
        figure({ name: "offline.rest-secured-p99/invoke-p99", unit: "ms", runs: rest.p99, baselineRuns: invoke.p99, about }),
        figure({ name: "offline.http-api-secured/invoke", unit: "req/s", runs: httpApi.rps, baselineRuns: invoke.rps, about }),
        figure({ name: "offline.http-api-secured-p99/invoke-p99", unit: "ms", runs: httpApi.p99, baselineRuns: invoke.p99, about }),
      ],
    };
  } finally {
    await stack.stop();
  }
}
