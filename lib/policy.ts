import type { APIGatewayAuthorizerResult, APIGatewaySimpleAuthorizerWithContextResult } from "aws-lambda";
import type { AuthorizerContext } from "./context.js";
import { isSatisfied } from "./requirements.js";
import type { Route } from "./routes.js";
import type { KeycloakClaims } from "./verifier.js";

/** `arn:aws:execute-api:region:account:apiId` and the stage, from any method ARN of the API. */
export interface StageArn {
  readonly api: string;
  readonly stage: string;
}

/**
 * @example
 * parseMethodArn("arn:aws:execute-api:eu-west-1:123456789012:abc123/dev/GET/secured")
 * // { api: "arn:aws:execute-api:eu-west-1:123456789012:abc123", stage: "dev" }
 */
export function parseMethodArn(methodArn: string): StageArn | undefined {
  const match = /^(arn:aws[\w-]*:execute-api:[\w-]+:[^:]+:[^/]+)\/([^/]+)\//.exec(methodArn);
  return match === null ? undefined : { api: match[1] as string, stage: match[2] as string };
}

/** The execute-api ARN of a route in a stage; path parameters become `*`. */
export function routeArn({ api, stage }: StageArn, route: Pick<Route, "method" | "path">): string {
  return `${api}/${stage}/${routeResource(route)}`;
}

/** `GET/reports/*`: the part of a route's ARN after the stage. */
function routeResource(route: Pick<Route, "method" | "path">): string {
  return `${route.method}/${route.path.replace(/^\//, "").replace(/\{[^}]+\}/g, "*")}`;
}

/**
 * The REST answer for a verified token: Allow on the routes this token may call, and an explicit
 * Deny on every other route that those Allows would otherwise reach. API Gateway caches this
 * policy per token and replays it on the token's other routes, so it must not depend on the route
 * of the first request (`methodArn` only names the stage). IAM's `*` also matches `/`, so an Allow
 * for `GET /reports/{id}` (`GET/reports/*`) alone would open `GET /reports/1/audit` too; the Deny
 * closes it (Deny always wins). A token that may call no route gets a Deny on the whole stage.
 */
export function routePolicy(
  principalId: string,
  stage: StageArn,
  claims: KeycloakClaims,
  routes: readonly Route[],
  context: AuthorizerContext,
): APIGatewayAuthorizerResult {
  const allowed = routes.map((route) => route.requires === undefined || isSatisfied(route.requires, claims));
  const { allow, deny } = statementsFor(routes, allowed);
  const prefix = `${stage.api}/${stage.stage}/`;
  const Statement: APIGatewayAuthorizerResult["policyDocument"]["Statement"] =
    allow.length === 0
      ? [{ Action: "execute-api:Invoke", Effect: "Deny", Resource: `${prefix}*` }]
      : [{ Action: "execute-api:Invoke", Effect: "Allow", Resource: allow.map((resource) => prefix + resource) }];
  if (allow.length > 0 && deny.length > 0) Statement.push({ Action: "execute-api:Invoke", Effect: "Deny", Resource: deny.map((resource) => prefix + resource) });
  return { principalId, policyDocument: { Version: "2012-10-17", Statement }, context };
}

interface Statements {
  readonly allow: readonly string[];
  readonly deny: readonly string[];
}

/** Per route table, per set of allowed routes: the table is fixed, so each answer is worked out once. */
const memo = new WeakMap<readonly Route[], Map<string, Statements>>();

function statementsFor(routes: readonly Route[], allowed: readonly boolean[]): Statements {
  let byMask = memo.get(routes);
  if (byMask === undefined) {
    byMask = new Map();
    memo.set(routes, byMask);
  }
  const mask = allowed.map((yes) => (yes ? "1" : "0")).join("");
  let statements = byMask.get(mask);
  if (statements === undefined) {
    const allowGlobs = routes.filter((_, index) => allowed[index]).map(routeResource);
    const matchers = allowGlobs.map(globMatcher);
    // A Deny is needed for a refused route only where some Allow reaches a request that API
    // Gateway routes to it; elsewhere it would be noise (and could shadow an allowed route).
    const deny = routes
      .filter((route, index) => !allowed[index] && requestsRoutedTo(route, routes).some((resource) => matchers.some((matches) => matches(resource))))
      .map(routeResource);
    statements = { allow: allowGlobs, deny };
    byMask.set(mask, statements);
  }
  return statements;
}

/** IAM's wildcard match on an execute-api resource: `*` is any run of characters, `/` included. */
function globMatcher(glob: string): (resource: string) => boolean {
  const pattern = new RegExp(`^${glob.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
  return (resource) => pattern.test(resource);
}

/**
 * Sample requests (`GET/reports/x`) that API Gateway routes to `route` and to no more specific
 * route of the table. Path parameters take "x" and every literal segment of the table, which is
 * every value that can make two routes' patterns meet.
 */
function requestsRoutedTo(route: Pick<Route, "method" | "path">, routes: readonly Pick<Route, "method" | "path">[]): string[] {
  const literals = new Set<string>(["x"]);
  for (const other of routes) for (const segment of segmentsOf(other.path)) if (!isParameter(segment)) literals.add(segment);
  let paths: string[][] = [[]];
  for (const segment of segmentsOf(route.path)) {
    const values = !isParameter(segment) ? [segment] : segment.endsWith("+}") ? [...literals, "x/y"] : [...literals];
    paths = paths.flatMap((prefix) => values.map((value) => [...prefix, value]));
    if (paths.length > 4096) paths = paths.slice(0, 4096);
  }
  return paths
    .map((parts) => parts.join("/"))
    .filter((path) => mostSpecificRoute(route.method, path, routes) === route)
    .map((path) => `${route.method}/${path}`);
}

/** API Gateway's choice among matching resources: a literal segment beats `{param}`, which beats `{param+}`. */
function mostSpecificRoute<R extends Pick<Route, "method" | "path">>(method: string, path: string, routes: readonly R[]): R | undefined {
  const parts = path === "" ? [] : path.split("/");
  let best: { route: R; rank: number[] } | undefined;
  for (const route of routes) {
    if (route.method !== method) continue;
    const rank = matchRank(segmentsOf(route.path), parts);
    if (rank === undefined) continue;
    if (best === undefined || compareRanks(rank, best.rank) > 0) best = { route, rank };
  }
  return best?.route;
}

function matchRank(template: readonly string[], parts: readonly string[]): number[] | undefined {
  const rank: number[] = [];
  for (let index = 0; index < template.length; index += 1) {
    const segment = template[index] as string;
    if (isParameter(segment) && segment.endsWith("+}")) {
      return index < parts.length ? [...rank, 0] : undefined;
    }
    const part = parts[index];
    if (part === undefined || part === "") return undefined;
    if (isParameter(segment)) rank.push(1);
    else if (segment === part) rank.push(2);
    else return undefined;
  }
  return template.length === parts.length ? rank : undefined;
}

function compareRanks(a: readonly number[], b: readonly number[]): number {
  for (let index = 0; index < Math.max(a.length, b.length); index += 1) {
    const difference = (a[index] ?? -1) - (b[index] ?? -1);
    if (difference !== 0) return difference;
  }
  return 0;
}

const segmentsOf = (path: string): string[] => path.replace(/^\//, "").split("/").filter((segment) => segment !== "");
const isParameter = (segment: string): boolean => segment.startsWith("{") && segment.endsWith("}");

/** HTTP API payload 2.0 simple response. */
export function allowSimple(context: AuthorizerContext): APIGatewaySimpleAuthorizerWithContextResult<AuthorizerContext> {
  return { isAuthorized: true, context };
}
