/**
 * Every API Gateway event shape this project reads, in one place: the three authorizer events
 * (REST TOKEN, REST REQUEST, HTTP API payload 2.0) and the two proxy events protected handlers get
 * (REST, HTTP API payload 2.0). Everything else asks here instead of reading events itself.
 */
import type {
  APIGatewayProxyEvent,
  APIGatewayProxyEventV2,
  APIGatewayRequestAuthorizerEvent,
  APIGatewayRequestAuthorizerEventV2,
  APIGatewayTokenAuthorizerEvent,
} from "aws-lambda";
import { authorizationHeader, dpopHeader, singleHeader } from "./authorization-header.js";
import { UnsupportedEventError } from "../errors.js";
import { parseMethodArn, type MethodArn } from "./method-arn.js";

// --- authorizer events ----------------------------------------------------------------------------

export type AuthorizerEvent = APIGatewayTokenAuthorizerEvent | APIGatewayRequestAuthorizerEvent | APIGatewayRequestAuthorizerEventV2;

/** Which of the three API Gateway authorizer events this is, told apart by shape. */
export type EventKind = "rest-token" | "rest-request" | "http-v2";

export function eventKind(event: unknown): EventKind | undefined {
  if (typeof event !== "object" || event === null) return undefined;
  const candidate = event as Record<string, unknown>;
  if (candidate.version === "2.0" && candidate.type === "REQUEST") return "http-v2";
  if (typeof candidate.methodArn !== "string") return undefined;
  if (candidate.type === "TOKEN") return "rest-token";
  if (candidate.type === "REQUEST") return "rest-request";
  return undefined;
}

/** The `Authorization` value the client sent (TOKEN: the configured token source). */
export function authorizationOf(event: AuthorizerEvent, kind: EventKind): string | undefined {
  if (kind === "rest-token") {
    const value = (event as APIGatewayTokenAuthorizerEvent).authorizationToken;
    return typeof value === "string" ? value : undefined;
  }
  if (kind === "rest-request") {
    const rest = event as APIGatewayRequestAuthorizerEvent;
    return authorizationHeader(rest.headers, rest.multiValueHeaders);
  }
  return authorizationHeader((event as APIGatewayRequestAuthorizerEventV2).headers);
}

/** A REST authorizer event's method ARN, parsed; undefined for HTTP API events or an unreadable ARN. */
export function methodArnOf(event: AuthorizerEvent, kind: EventKind): MethodArn | undefined {
  if (kind === "http-v2") return undefined;
  const { methodArn } = event as APIGatewayTokenAuthorizerEvent | APIGatewayRequestAuthorizerEvent;
  return typeof methodArn === "string" ? parseMethodArn(methodArn) : undefined;
}

/**
 * The request's `DPoP` proof header (REQUEST and HTTP API events; a TOKEN event carries only its
 * token source); undefined when absent, throws DpopProofDuplicatedError for more than one.
 */
export function dpopProofOf(event: AuthorizerEvent, kind: EventKind): string | undefined {
  if (kind === "rest-token") return undefined;
  if (kind === "rest-request") {
    const rest = event as APIGatewayRequestAuthorizerEvent;
    return dpopHeader(rest.headers, rest.multiValueHeaders);
  }
  return dpopHeader((event as APIGatewayRequestAuthorizerEventV2).headers);
}

/** What a proof of possession is bound to (RFC 9449 `htm`, `htu`): the method and the URL the client called. */
export interface RequestTarget {
  readonly method: string;
  /** `https://<host><path>`, as the client saw it: no query, no fragment, not yet normalised. */
  readonly url: string;
}

/**
 * The method and URL of the request being authorized; undefined for TOKEN events (which carry
 * neither) or when the event lacks them.
 *
 * The path is the one the client used, prefixes included: REST `requestContext.path` carries the
 * stage (`/dev/secured`) on the execute-api host and the base path mapping (`/v1/secured`) on a
 * custom domain; HTTP API `rawPath` carries a named stage or an API mapping key the same way. The
 * host is `requestContext.domainName` (the custom domain when one was used; API Gateway says it is
 * the Host header's), else the Host header. The scheme is https: API Gateway has no other.
 * serverless-offline (`offline`: its IS_OFFLINE=true) serves plain http and puts a made-up
 * `domainName` in its events, so there the Host header and http are used.
 */
export function requestTargetOf(event: AuthorizerEvent, kind: EventKind, offline: boolean): RequestTarget | undefined {
  if (kind === "rest-token") return undefined;
  const headers = (event as { headers?: Record<string, string | undefined> | null }).headers;
  const hostHeader = (): string | undefined => singleHeader(headers, undefined, "host", () => new UnsupportedEventError("more than one Host header"));
  let method: unknown;
  let path: unknown;
  let domainName: unknown;
  if (kind === "rest-request") {
    const rest = event as APIGatewayRequestAuthorizerEvent;
    method = rest.requestContext?.httpMethod ?? rest.httpMethod;
    path = rest.requestContext?.path ?? rest.path;
    domainName = (rest.requestContext as { domainName?: unknown } | undefined)?.domainName;
  } else {
    const http = event as APIGatewayRequestAuthorizerEventV2;
    method = http.requestContext?.http?.method;
    path = http.rawPath;
    domainName = http.requestContext?.domainName;
  }
  const host: unknown = offline ? hostHeader() : typeof domainName === "string" && domainName !== "" ? domainName : hostHeader();
  if (typeof method !== "string" || typeof path !== "string" || !path.startsWith("/") || typeof host !== "string" || host === "") return undefined;
  return { method, url: `${offline ? "http" : "https"}://${host}${path}` };
}

/** The declared route a REQUEST or HTTP API event is for (REST: method + resource; HTTP API: `routeKey`). */
export function declaredRouteOf(event: AuthorizerEvent, kind: EventKind): { readonly method: string; readonly path: string } | undefined {
  if (kind === "rest-request") {
    const { httpMethod, resource } = event as APIGatewayRequestAuthorizerEvent;
    return typeof httpMethod === "string" && typeof resource === "string" ? { method: httpMethod, path: resource } : undefined;
  }
  if (kind === "http-v2") {
    const { routeKey } = event as APIGatewayRequestAuthorizerEventV2;
    const [method, path] = typeof routeKey === "string" ? routeKey.split(" ") : [];
    return method !== undefined && path !== undefined ? { method, path } : undefined;
  }
  return undefined;
}

/** `GET /reports/1` for logs: the HTTP API route key, or the method and path of a REST method ARN. */
export function requestLabel(event: unknown): string | undefined {
  if (typeof event !== "object" || event === null) return undefined;
  const { methodArn, routeKey } = event as { methodArn?: unknown; routeKey?: unknown };
  if (typeof routeKey === "string") return routeKey;
  if (typeof methodArn !== "string") return undefined;
  const arn = parseMethodArn(methodArn);
  return arn === undefined ? undefined : `${arn.method} /${arn.path}`;
}

// --- proxy events: what a protected handler receives -----------------------------------------------

export type ProxyEvent = APIGatewayProxyEvent | APIGatewayProxyEventV2;

export function isHttpApiEvent(event: ProxyEvent): event is APIGatewayProxyEventV2 {
  return (event as APIGatewayProxyEventV2).version === "2.0" && typeof (event as APIGatewayProxyEventV2).routeKey === "string";
}

/** The declared route an event is for: REST method + resource, HTTP API `routeKey`. */
export function routeOf(event: ProxyEvent): { readonly method: string; readonly path: string } | undefined {
  if (isHttpApiEvent(event)) {
    const [method, path] = event.routeKey.split(" ");
    return method !== undefined && path !== undefined ? { method, path } : undefined;
  }
  return typeof event.httpMethod === "string" && typeof event.resource === "string" ? { method: event.httpMethod, path: event.resource } : undefined;
}

/**
 * What the Lambda authorizer returned as context: REST puts it at `requestContext.authorizer`,
 * HTTP API (payload 2.0) at `requestContext.authorizer.lambda`.
 */
export function authorizerContextOf(event: ProxyEvent): Readonly<Record<string, unknown>> | undefined {
  const authorizer = (event.requestContext as { authorizer?: Record<string, unknown> | null } | undefined)?.authorizer ?? undefined;
  if (authorizer === undefined || typeof authorizer !== "object") return undefined;
  if (isHttpApiEvent(event)) {
    const lambda = authorizer.lambda;
    return typeof lambda === "object" && lambda !== null ? (lambda as Record<string, unknown>) : undefined;
  }
  return authorizer;
}

/** A request header, any case. */
export function headerOf(event: ProxyEvent, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) if (key.toLowerCase() === wanted) return value;
  return undefined;
}

/** A query string parameter. */
export function queryOf(event: ProxyEvent, name: string): string | undefined {
  return event.queryStringParameters?.[name] ?? undefined;
}

/** Where a request is, as the caller sees it. */
export interface RequestPlace {
  /** The declared path: `/docs/{asset}`. */
  readonly route: string;
  /** The path before the route, as the caller reached it: `/dev` on REST, `` at the HTTP API root. */
  readonly basePath: string;
  readonly apiKind: "rest" | "http";
  readonly stage: string | undefined;
}

/**
 * The route and the base path of the API from the event. REST: `requestContext.path` is the path
 * the caller used (`/dev/docs`, or a custom domain's `/v1/docs`), `resource` the route; HTTP API:
 * `rawPath` (`/docs`, or `/prod/docs` on a named stage) and `routeKey`. serverless-offline
 * (`offline`: its IS_OFFLINE=true) leaves the stage out of a REST event's `requestContext.path`
 * although its URLs carry it, so there the stage is put back.
 */
export function placeOf(event: ProxyEvent, offline: boolean): RequestPlace {
  const http = isHttpApiEvent(event);
  const route = http ? (event.routeKey.split(" ")[1] ?? "") : event.resource;
  let tail = route;
  for (const [name, value] of Object.entries(event.pathParameters ?? {})) if (value !== undefined) tail = tail.replace(`{${name}}`, value);
  const stage = event.requestContext?.stage;
  const seen = http ? event.rawPath : (event.requestContext?.path ?? event.path);
  const restStage = !http && stage !== undefined ? `/${stage}` : "";
  let basePath = typeof seen === "string" && seen.endsWith(tail) ? seen.slice(0, seen.length - tail.length).replace(/\/+$/, "") : restStage;
  if (offline && !http && basePath === "") basePath = restStage;
  return { route, basePath, apiKind: http ? "http" : "rest", stage };
}
