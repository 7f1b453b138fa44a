/**
 * The environment a deployed authorizer gets, read from serverless.yml: `provider.environment`
 * and `functions.authorizer.environment` with `${param:...}` resolved for one stage (default `prod`,
 * BENCH_STAGE to change it), plus what the Lambda runtime itself sets (function name, region,
 * memory, TZ...) and the node flags its bootstrap passes for the function's memory size.
 *
 * Variables resolve to their declared fallbacks: `${env:NAME, 'x'}` is `x` whatever this shell has
 * set, so a run measures the stage as serverless.yml declares it, not as the bench's shell happens
 * to be. Only KEYCLOAK_ISSUER is replaced (and must be: a stage's issuer is https, the bench's is
 * the local realm server on 127.0.0.1, which the product accepts over http as loopback).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parse } from "yaml";
import { serverlessResolver, type Scalar } from "../local/serverless-variables.js";
import { ROOT } from "./bundle.js";

interface ServerlessYml {
  service: string;
  params?: Record<string, Record<string, Scalar>>;
  provider: { runtime?: string; region?: string; memorySize?: number | string; environment?: Record<string, Scalar> };
  functions: Record<string, { handler: string; memorySize?: number | string; timeout?: number; environment?: Record<string, Scalar> }>;
}

export interface DeployedFunction {
  readonly stage: string;
  readonly functionName: string;
  readonly region: string;
  readonly memoryMb: number;
  readonly runtime: string;
  /** The function's own variables (serverless.yml), resolved; KEYCLOAK_ISSUER replaced. */
  readonly functionEnv: Readonly<Record<string, string>>;
  /** functionEnv plus what the Lambda runtime sets: the whole environment of the measured process. */
  readonly env: Readonly<Record<string, string>>;
  /** Node flags of the Lambda bootstrap for this memory size. */
  readonly nodeFlags: readonly string[];
}

/** Lambda bootstrap (nodejs base image): new space = memory/10, semi space half of it, old space the rest. */
export function lambdaNodeFlags(memoryMb: number): string[] {
  const newSpace = Math.floor(memoryMb / 10);
  return ["--expose-gc", "--max-http-header-size", "81920", `--max-semi-space-size=${Math.floor(newSpace / 2)}`, `--max-old-space-size=${memoryMb - newSpace}`];
}

export async function deployedAuthorizer(issuer: string, options: { stage?: string; functionKey?: string } = {}): Promise<DeployedFunction> {
  const stage = options.stage ?? process.env.BENCH_STAGE ?? "prod";
  const functionKey = options.functionKey ?? "authorizer";
  const document = parse(await readFile(join(ROOT, "serverless.yml"), "utf8")) as ServerlessYml;
  const params = { ...(document.params?.default ?? {}), ...(document.params?.[stage] ?? {}) };
  // No shell: a stage is measured as serverless.yml declares it (`${env:...}` at its fallback).
  const resolve = serverlessResolver(stage, params);
  const fn = document.functions[functionKey];
  if (fn === undefined) throw new Error(`serverless.yml has no function ${functionKey}`);

  const functionEnv: Record<string, string> = {};
  for (const [name, value] of Object.entries({ ...(document.provider.environment ?? {}), ...(fn.environment ?? {}) })) {
    functionEnv[name] = resolve(value, `environment.${name}`);
  }
  functionEnv.KEYCLOAK_ISSUER = issuer;

  const functionName = `${document.service}-${stage}-${functionKey}`;
  const region = resolve(document.provider.region ?? "us-east-1", "provider.region");
  const memoryMb = Number(resolve(fn.memorySize ?? document.provider.memorySize ?? 1024, "memorySize"));
  const runtime = resolve(document.provider.runtime ?? "nodejs22.x", "provider.runtime");
  const env: Record<string, string> = {
    // Set by the Lambda runtime for every function (reserved variables).
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_EXECUTION_ENV: `AWS_Lambda_${runtime}`,
    AWS_LAMBDA_FUNCTION_NAME: functionName,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memoryMb),
    AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
    AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${functionName}`,
    AWS_LAMBDA_LOG_STREAM_NAME: "2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef",
    _HANDLER: fn.handler,
    // One trace header for the whole run (the runtime sets it per invocation; Powertools logs it).
    _X_AMZN_TRACE_ID: "Root=1-6750a1b2-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=0;Lineage=1:abcdef12:0",
    TZ: ":UTC",
    LANG: "en_US.UTF-8",
    ...functionEnv,
  };
  return { stage, functionName, region, memoryMb, runtime, functionEnv, env, nodeFlags: lambdaNodeFlags(memoryMb) };
}
