/**
 * The environment a stage's authorizer gets, read from serverless.yml the way `serverless
 * package --stage <stage>` resolves it: the stage's params over the defaults, `--param` values over
 * both, `${env:NAME, 'fallback'}` from this shell's environment (as serverless does at deploy
 * time), `${sls:stage}`/`${opt:stage}` the stage. Also the API Gateway result cache TTL, which is
 * no function setting but decides how long answers are replayed.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parse } from "yaml";
import { serverlessResolver, type Scalar } from "../serverless-variables.js";

interface ServerlessYml {
  params?: Record<string, Record<string, Scalar>>;
  provider?: { environment?: Record<string, Scalar> };
  functions: Record<string, { environment?: Record<string, Scalar> }>;
}

export interface StageEnvironment {
  readonly stage: string;
  /** serverless.yml's `localStage` param: true for the stage npm start runs (dev). */
  readonly local: boolean;
  /** The authorizer function's environment as deployed; '' values mean "the code's default". */
  readonly env: Readonly<Record<string, string>>;
  /** `authorizerCacheTtlSeconds`: how long API Gateway replays an answer per token (both API kinds). */
  readonly cacheTtlSeconds: number;
}

export async function stageEnvironment(
  root: string,
  stage: string,
  overrides: Readonly<Record<string, string>>,
  shell: Readonly<Record<string, string | undefined>>,
): Promise<StageEnvironment> {
  const document = parse(await readFile(join(root, "serverless.yml"), "utf8")) as ServerlessYml;
  const params: Record<string, Scalar> = { ...(document.params?.default ?? {}), ...(document.params?.[stage] ?? {}), ...overrides };
  const resolve = serverlessResolver(stage, params, shell);
  const fn = document.functions.authorizer;
  if (fn === undefined) throw new Error("serverless.yml has no function authorizer");
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries({ ...(document.provider?.environment ?? {}), ...(fn.environment ?? {}) })) {
    env[name] = resolve(value, `functions.authorizer.environment.${name}`);
  }
  const ttl = Number(resolve(params.authorizerCacheTtlSeconds ?? "300", "params.authorizerCacheTtlSeconds"));
  return { stage, local: resolve(params.localStage ?? false, "params.localStage") === "true", env, cacheTtlSeconds: Number.isFinite(ttl) ? ttl : 300 };
}
