/**
 * Through serverless-offline: GET /secured behind the authorizer versus the same `secured`
 * function invoked directly on serverless-offline's Lambda endpoint (no authorizer, no routing),
 * with the event the authorizer would have produced. serverless.yml has no public route, and the
 * Lambda invoke endpoint is the closest "same handler, no authorizer" path it offers.
 */
import autocannon from "autocannon";
import { toAuthorizerContext } from "../lib/apigateway/context.js";
import type { KeycloakClaims } from "../lib/claims.js";
import { freePort, startStack } from "../local/stack.js";
import { clientTokens, payloadOf } from "../test/helpers/oidc-client.js";
import { figure, progress, type Figure } from "./stats.js";

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

export async function offlineFigures(runs: number): Promise<Figure[]> {
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
      requestContext: { authorizer: toAuthorizerContext({ claims: payloadOf(token) as KeycloakClaims, claimsJson: JSON.stringify(payloadOf(token)) }) },
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
    const results = new Map<string, { rps: number[]; p99: number[] }>(targets.map((t) => [t.name, { rps: [], p99: [] }]));
    for (let run = 1; run <= runs; run += 1) {
      progress(`serverless-offline run ${run}/${runs}`);
      for (const target of targets) {
        const { rps, p99 } = await measure(target);
        results.get(target.name)!.rps.push(rps);
        results.get(target.name)!.p99.push(p99);
      }
    }
    const invoke = results.get("invoke")!;
    const rest = results.get("rest")!;
    const httpApi = results.get("http-api")!;
    return [
      figure("offline.rest-secured", "req/s", rest.rps, "direct invoke req/s", invoke.rps),
      figure("offline.rest-secured-p99", "ms", rest.p99, "direct invoke p99 ms", invoke.p99),
      figure("offline.http-api-secured", "req/s", httpApi.rps, "direct invoke req/s", invoke.rps),
      figure("offline.http-api-secured-p99", "ms", httpApi.p99, "direct invoke p99 ms", invoke.p99),
    ];
  } finally {
    await stack.stop();
  }
}
