/**
 * A test oracle for REST API policies, written apart from lib/apigateway/policy.ts so the two can
 * disagree: how API Gateway picks the resource a request path belongs to, how it evaluates an
 * execute-api policy (IAM wildcards: `*` any characters including `/`, `?` one character; an
 * explicit Deny wins), and every request path up to a depth, by brute force.
 */
import type { APIGatewayAuthorizerResult } from "aws-lambda";

interface RouteShape {
  readonly method: string;
  readonly path: string;
}

/** True when the policy lets `arn` through. */
export function iamAllows(policy: APIGatewayAuthorizerResult, arn: string): boolean {
  const matches = (glob: string): boolean => {
    let pattern = "^";
    for (const char of glob) pattern += char === "*" ? ".*" : char === "?" ? "." : char.replace(/[.+^${}()|[\]\\/-]/g, "\\$&");
    return new RegExp(`${pattern}$`).test(arn);
  };
  const hits = (effect: string): boolean =>
    policy.policyDocument.Statement.some(
      (statement) => statement.Effect === effect && "Resource" in statement && [statement.Resource].flat().some((glob) => matches(String(glob))),
    );
  return !hits("Deny") && hits("Allow");
}

/**
 * Every request (`GET/reports/x`) of 0 to `depth` segments, each segment one of the table's
 * literals or one of two other values, with the route API Gateway sends it to (if any).
 */
export function everyRequest(table: readonly RouteShape[], depth: number): Array<{ request: string; route: RouteShape | undefined }> {
  const values = [...new Set(table.flatMap((route) => segments(route.path).filter((segment) => !segment.startsWith("{")))), "q1", "q2"];
  const methods = [...new Set(table.map((route) => route.method))];
  const found: Array<{ request: string; route: RouteShape | undefined }> = [];
  let paths: string[][] = [[]];
  for (let length = 0; length <= depth; length += 1) {
    for (const parts of paths) for (const method of methods) found.push({ request: `${method}/${parts.join("/")}`, route: resolve(method, parts, table) });
    paths = paths.flatMap((prefix) => values.map((value) => [...prefix, value]));
  }
  return found;
}

/** API Gateway's resource tree: at each level a literal child wins over `{param}`, which wins over `{param+}`. */
function resolve(method: string, parts: readonly string[], table: readonly RouteShape[]): RouteShape | undefined {
  let best: { route: RouteShape; score: string } | undefined;
  for (const route of table) {
    if (route.method !== method) continue;
    const score = scoreOf(segments(route.path), parts);
    if (score !== undefined && (best === undefined || score > best.score)) best = { route, score };
  }
  return best?.route;
}

function scoreOf(template: readonly string[], parts: readonly string[]): string | undefined {
  let result = "";
  for (const [index, segment] of template.entries()) {
    if (segment.endsWith("+}")) return index < parts.length ? `${result}0` : undefined;
    const part = parts[index];
    if (part === undefined) return undefined;
    if (segment.startsWith("{")) result += "1";
    else if (segment === part) result += "2";
    else return undefined;
  }
  return template.length === parts.length ? result : undefined;
}

const segments = (path: string): string[] => path.split("/").filter((segment) => segment !== "");
