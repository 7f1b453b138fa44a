/**
 * serverless.yml's `${...}` variables, resolved the way `serverless package` resolves the ones
 * this project uses, for tools that read a stage's configuration without running the framework
 * (`npm run doctor`, `npm run bench`): `${param:...}` from the stage's params, `${sls:stage}` and
 * `${opt:stage}`, `${env:NAME, fallback}` from `shell` when given and set, and anything else
 * (`${file(...)}`, other `${opt:...}`) by its declared fallback.
 */
export type Scalar = string | number | boolean | null;

const VARIABLE = /\$\{([^{}]+)\}/g;

function fallbackOf(expression: string): string | undefined {
  const comma = expression.indexOf(",");
  if (comma === -1) return undefined;
  const raw = expression.slice(comma + 1).trim();
  const quoted = /^(['"])(.*)\1$/.exec(raw);
  return quoted === null ? raw : (quoted[2] as string);
}

/** A resolver for one stage; `where` names the value in errors. */
export function serverlessResolver(
  stage: string,
  params: Readonly<Record<string, Scalar>>,
  shell?: Readonly<Record<string, string | undefined>>,
): (value: Scalar, where: string) => string {
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
      if (shell !== undefined && source.startsWith("env:")) {
        const set = shell[source.slice("env:".length)];
        if (set !== undefined) return set;
      }
      const fallback = fallbackOf(expression);
      if (fallback === undefined) throw new Error(`${where}: \${${expression}} has no value and no fallback`);
      return resolve(fallback, where, depth + 1);
    });
  };
  return (value, where) => resolve(value, where);
}
