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

type Scalar = string | number | boolean | null;

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

const VARIABLE = /\$\{([^{}]+)\}/g;

function fallbackOf(expression: string): string | undefined {
  const comma = expression.indexOf(",");
  if (comma === -1) return undefined;
  const raw = expression.slice(comma + 1).trim();
  const quoted = /^(['"])(.*)\1$/.exec(raw);
  return quoted === null ? raw : (quoted[2] as string);
}

export async function stageEnvironment(
  root: string,
  stage: string,
  overrides: Readonly<Record<string, string>>,
  shell: Readonly<Record<string, string | undefined>>,
): Promise<StageEnvironment> {
  const document = parse(await readFile(join(root, "serverless.yml"), "utf8")) as ServerlessYml;
  const params: Record<string, Scalar> = { ...(document.params?.default ?? {}), ...(document.params?.[stage] ?? {}), ...overrides };
  const resolve = (value: Scalar, where: string, depth = 0): string => {
    if (value === null) return "";
    if (typeof value !== "string") return String(value);
    if (depth > 10) throw new Error(`${where}: variables nest too deep`);
    return value.replace(VARIABLE, (_, inner: string) => {
      const expression = inner.trim();
      const source = (expression.split(",")[0] as string).trim();
      if (source.startsWith("param:")) {
        const name = source.slice("param:".length);
        if (!(name in params)) throw new Error(`${where}: \${${expression}} names no param of stage ${stage}`);
        return resolve(params[name] as Scalar, `params.${name}`, depth + 1);
      }
      if (source === "sls:stage" || source === "opt:stage") return stage;
      if (source.startsWith("env:")) {
        const value = shell[source.slice("env:".length)];
        if (value !== undefined) return value;
      }
      const fallback = fallbackOf(expression);
      if (fallback === undefined) throw new Error(`${where}: \${${expression}} has no value and no fallback`);
      return resolve(fallback, where, depth + 1);
    });
  };
  const fn = document.functions.authorizer;
  if (fn === undefined) throw new Error("serverless.yml has no function authorizer");
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries({ ...(document.provider?.environment ?? {}), ...(fn.environment ?? {}) })) {
    env[name] = resolve(value, `functions.authorizer.environment.${name}`);
  }
  const ttl = Number(resolve(params.authorizerCacheTtlSeconds ?? "300", "params.authorizerCacheTtlSeconds"));
  return { stage, local: resolve(params.localStage ?? false, "params.localStage") === "true", env, cacheTtlSeconds: Number.isFinite(ttl) ? ttl : 300 };
}
