/**
 * A test oracle for REST API policies, written apart from lib/policy.ts so the two can disagree:
 * how API Gateway picks the resource a request path belongs to, and how it evaluates an execute-api
 * policy (IAM wildcards: `*` any characters including `/`, `?` one character; an explicit Deny wins).
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
    policy.policyDocument.Statement.some((statement) => statement.Effect === effect && "Resource" in statement && [statement.Resource].flat().some((glob) => matches(String(glob))));
  return !hits("Deny") && hits("Allow");
}

/**
 * Concrete requests (`GET/reports/latest`) that API Gateway routes to `route` within `table`:
 * each path parameter set to "x", "y/z" for greedy ones, and every literal segment of the table.
 */
export function sampleRequests(route: RouteShape, table: readonly RouteShape[]): string[] {
  const literals = new Set(["x", ...table.flatMap((other) => segments(other.path).filter((segment) => !segment.startsWith("{")))]);
  let paths: string[][] = [[]];
  for (const segment of segments(route.path)) {
    const values = !segment.startsWith("{") ? [segment] : segment.endsWith("+}") ? [...literals, "y/z"] : [...literals];
    paths = paths.flatMap((prefix) => values.map((value) => [...prefix, value]));
  }
  return paths.map((parts) => parts.join("/")).filter((path) => resolve(route.method, path, table) === route).map((path) => `${route.method}/${path}`);
}

/** API Gateway's resource tree: at each level a literal child wins over `{param}`, which wins over `{param+}`. */
function resolve(method: string, path: string, table: readonly RouteShape[]): RouteShape | undefined {
  const parts = path.split("/");
  const scored = table
    .filter((route) => route.method === method)
    .map((route) => ({ route, score: score(segments(route.path), parts) }))
    .filter((entry): entry is { route: RouteShape; score: string } => entry.score !== undefined)
    .sort((a, b) => (a.score < b.score ? 1 : a.score > b.score ? -1 : 0));
  return scored[0]?.route;
}

function score(template: readonly string[], parts: readonly string[]): string | undefined {
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
