/**
 * What API Gateway gets back from the authorizer: a REST IAM policy that stays right when cached
 * and replayed on the token's other routes, or an HTTP API simple response.
 */
import type { APIGatewayAuthorizerResult, APIGatewaySimpleAuthorizerWithContextResult } from "aws-lambda";
import type { KeycloakClaims } from "../claims.js";
import { isSatisfied } from "../routes/requirements.js";
import type { Route, RouteTable } from "../routes/route.js";
import type { AuthorizerContext } from "./context.js";
import { routeResource, type MethodArn } from "./method-arn.js";

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
  stage: Pick<MethodArn, "api" | "stage">,
  claims: KeycloakClaims,
  table: RouteTable,
  context: AuthorizerContext,
): APIGatewayAuthorizerResult {
  return { principalId, policyDocument: policyDocumentFor(table, rightsOf(table, claims), `${stage.api}/${stage.stage}/`), context };
}

/**
 * The policy of a lightweight access token (KEYCLOAK_LIGHTWEIGHT_TOKENS): the strict routes
 * (`introspect: true`) alone, whatever they require. It carries no roles to judge, so each strict
 * route's handler judges Keycloak's introspection answer instead; every other route is denied.
 * Built from the whole table, so that its patterns never cover another route.
 */
export function strictRoutesPolicy(
  principalId: string,
  stage: Pick<MethodArn, "api" | "stage">,
  table: RouteTable,
  context: AuthorizerContext,
): APIGatewayAuthorizerResult {
  let mask = strictMasks.get(table);
  if (mask === undefined) {
    mask = table.routes.map((route) => (route.introspect === true ? "1" : "0")).join("");
    strictMasks.set(table, mask);
  }
  return { principalId, policyDocument: policyDocumentFor(table, mask, `${stage.api}/${stage.stage}/`), context };
}
/** A table's strict routes as a rights mask: the same for every lightweight token. */
const strictMasks = new WeakMap<RouteTable, string>();

type PolicyDocument = APIGatewayAuthorizerResult["policyDocument"];

/** Which routes the claims may call, as "1"/"0" per route; per claims object (shared by token-cache hits). */
const rights = new WeakMap<KeycloakClaims, { table: RouteTable; mask: string }>();
function rightsOf(table: RouteTable, claims: KeycloakClaims): string {
  const known = rights.get(claims);
  if (known !== undefined && known.table === table) return known.mask;
  // A strict route's requirement is judged on Keycloak's introspection answer, in the handler
  // (lib/introspection): roles granted since the token was issued count there, so it is allowed here.
  const mask = table.routes
    .map((route) => (route.requires === undefined || route.introspect === true || isSatisfied(route.requires, claims) ? "1" : "0"))
    .join("");
  rights.set(claims, { table, mask });
  return mask;
}

/**
 * The policy document for a set of rights in a stage, built once and shared (API Gateway only
 * reads it). Per table: at most MAX_MEMO documents; past it the memo starts over (still correct).
 */
const documents = new WeakMap<RouteTable, Map<string, PolicyDocument>>();
function policyDocumentFor(table: RouteTable, mask: string, prefix: string): PolicyDocument {
  let known = documents.get(table);
  if (known === undefined) {
    known = new Map();
    documents.set(table, known);
  }
  const key = `${mask}|${prefix}`;
  let document = known.get(key);
  if (document === undefined) {
    const { allow, deny } = statementsFor(
      table,
      [...mask].map((bit) => bit === "1"),
    );
    const Statement: PolicyDocument["Statement"] =
      allow.length === 0
        ? [{ Action: "execute-api:Invoke", Effect: "Deny", Resource: `${prefix}*` }]
        : [{ Action: "execute-api:Invoke", Effect: "Allow", Resource: allow.map((resource) => prefix + resource) }];
    if (allow.length > 0 && deny.length > 0)
      Statement.push({ Action: "execute-api:Invoke", Effect: "Deny", Resource: deny.map((resource) => prefix + resource) });
    document = { Version: "2012-10-17", Statement };
    if (known.size >= MAX_MEMO) known.clear();
    known.set(key, document);
  }
  return document;
}

interface Statements {
  readonly allow: readonly string[];
  readonly deny: readonly string[];
}

/** Distinct documents remembered per table; past it the memo starts over (still correct). */
const MAX_MEMO = 1024;

function statementsFor(table: RouteTable, allowed: readonly boolean[]): Statements {
  const { routes } = table;
  const reach = reachability(table);
  const allowedIndexes = routes.flatMap((_, index) => (allowed[index] ? [index] : []));
  // A Deny is needed for a refused route only where some Allow reaches a request that API
  // Gateway routes to it; elsewhere it would be noise (and could shadow an allowed route).
  const deny = routes.filter((_, index) => !allowed[index] && allowedIndexes.some((from) => reach(from, index))).map(routeResource);
  return { allow: allowedIndexes.map((index) => routeResource(routes[index] as Route)), deny };
}

// --- which Allow reaches which route ----------------------------------------------------------------
//
// Requests are sequences of path segments. Only whether a segment equals one of the table's
// literals matters (IAM's `*` in our patterns always stands for whole segments, one or more), so
// the alphabet is those literals plus one symbol for "anything else". Each pattern and route is
// a small automaton over it, and "does the Allow pattern of A match a request that API Gateway
// routes to D" is the non-emptiness of pattern(A) ∩ route(D) minus every route more specific than
// D: decided exactly by a search over the product of their state sets.

type Token = { readonly kind: "literal"; readonly value: string } | { readonly kind: "one" } | { readonly kind: "many" };

/** More path segments than this in one route: not analysed; refused routes then always get a Deny. */
const MAX_TOKENS = 24;
const OTHER = "\u0000other";

const tokensOf = (path: string): Token[] =>
  path
    .split("/")
    .filter((segment) => segment !== "")
    .map((segment) => (!segment.startsWith("{") ? { kind: "literal", value: segment } : segment.endsWith("+}") ? { kind: "many" } : { kind: "one" }));

/** IAM pattern of a route: literals stay, every parameter is `*` (one or more whole segments). */
const patternTokens = (path: string): Token[] => tokensOf(path).map((token) => (token.kind === "literal" ? token : { kind: "many" }));

/** Segment kinds for API Gateway's choice among matching resources: literal > {param} > {param+}. */
const rankOf = (tokens: readonly Token[]): number[] => tokens.map((token) => (token.kind === "literal" ? 2 : token.kind === "one" ? 1 : 0));

function outranks(a: readonly number[], b: readonly number[]): boolean {
  for (let index = 0; index < Math.max(a.length, b.length); index += 1) {
    const difference = (a[index] ?? -1) - (b[index] ?? -1);
    if (difference !== 0) return difference > 0;
  }
  return false;
}

/** The automaton's states after reading `symbol` from `states` (a bit set; state i = i tokens read). */
function step(tokens: readonly Token[], states: number, symbol: string): number {
  let next = 0;
  for (let state = 0; state <= tokens.length; state += 1) {
    if ((states & (1 << state)) === 0) continue;
    const token = tokens[state];
    if (token !== undefined && (token.kind !== "literal" || token.value === symbol)) next |= 1 << (state + 1);
    // After a "many" token, more segments may follow under it.
    if (state > 0 && tokens[state - 1]?.kind === "many") next |= 1 << state;
  }
  return next;
}

const accepts = (tokens: readonly Token[], states: number): boolean => (states & (1 << tokens.length)) !== 0;

const reachMemo = new WeakMap<RouteTable, (from: number, to: number) => boolean>();

function reachability(table: RouteTable): (from: number, to: number) => boolean {
  const known = reachMemo.get(table);
  if (known !== undefined) return known;
  const { routes } = table;
  const tokens = routes.map((route) => tokensOf(route.path));
  const patterns = routes.map((route) => patternTokens(route.path));
  const ranks = tokens.map(rankOf);
  const alphabet = [...new Set(tokens.flat().flatMap((token) => (token.kind === "literal" ? [token.value] : [])))];
  alphabet.push(OTHER);
  const cache = new Map<string, boolean>();
  const reach = (from: number, to: number): boolean => {
    const key = `${from},${to}`;
    let answer = cache.get(key);
    if (answer === undefined) {
      answer = reaches(from, to);
      cache.set(key, answer);
    }
    return answer;
  };
  const reaches = (from: number, to: number): boolean => {
    const target = routes[to] as Route;
    if ((routes[from] as Route).method !== target.method) return false;
    const pattern = patterns[from] as Token[];
    const route = tokens[to] as Token[];
    const better = routes.flatMap((other, index) =>
      index !== to && other.method === target.method && outranks(ranks[index] as number[], ranks[to] as number[]) ? [tokens[index] as Token[]] : [],
    );
    if ([pattern, route, ...better].some((automaton) => automaton.length > MAX_TOKENS)) return true; // fail closed
    // IAM's `*` also matches nothing: `GET/*` (the pattern of `/{x}`) matches the root, `GET/`.
    if (route.length === 0 && pattern.length === 1 && pattern[0]?.kind === "many") return true;
    // Breadth-first over (pattern states, route states, states of every more specific route).
    const start = [1, 1, ...better.map(() => 1)];
    const seen = new Set<string>([start.join(",")]);
    const queue = [start];
    while (queue.length > 0) {
      const [p, r, ...others] = queue.shift() as number[];
      if (accepts(pattern, p as number) && accepts(route, r as number) && better.every((automaton, index) => !accepts(automaton, others[index] as number)))
        return true;
      for (const symbol of alphabet) {
        const next = [
          step(pattern, p as number, symbol),
          step(route, r as number, symbol),
          ...better.map((automaton, index) => step(automaton, others[index] as number, symbol)),
        ];
        if (next[0] === 0 || next[1] === 0) continue;
        const id = next.join(",");
        if (seen.has(id)) continue;
        seen.add(id);
        queue.push(next);
      }
    }
    return false;
  };
  reachMemo.set(table, reach);
  return reach;
}

/** HTTP API payload 2.0 simple response. */
export function allowSimple(context: AuthorizerContext): APIGatewaySimpleAuthorizerWithContextResult<AuthorizerContext> {
  return { isAuthorized: true, context };
}
