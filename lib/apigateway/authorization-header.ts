import { MalformedAuthorizationHeaderError, MissingTokenError } from "../errors.js";

// RFC 6750 section 2.1: "Bearer" (any case), one or more spaces, one b64token. No tabs, no
// second token, no other scheme.
const BEARER = /^[Bb][Ee][Aa][Rr][Ee][Rr] +([A-Za-z0-9\-._~+/]+=*)$/;

/**
 * Extract the token from an `Authorization` header value.
 *
 * @example
 * bearerToken("Bearer eyJ...") // "eyJ..."
 * bearerToken("Basic abc")     // throws MalformedAuthorizationHeaderError
 */
export function bearerToken(headerValue: string | undefined | null): string {
  if (headerValue === undefined || headerValue === null || headerValue === "") {
    throw new MissingTokenError("no Authorization header");
  }
  const match = BEARER.exec(headerValue);
  if (match === null) throw new MalformedAuthorizationHeaderError("Authorization is not 'Bearer <token>'");
  return match[1] as string;
}

/** Header maps as API Gateway events carry them. */
export type Headers = Readonly<Record<string, string | undefined>> | null | undefined;
export type MultiValueHeaders = Readonly<Record<string, readonly string[] | undefined>> | null | undefined;

/**
 * The single value of a header whose name may come in any case (REST keeps the client's casing,
 * HTTP APIs lower-case them); `name` in lower case. Undefined when absent; `onDuplicate` is thrown
 * for two values (ambiguous: which one would API Gateway have used for its cache key?).
 */
export function singleHeader(headers: Headers, multiValueHeaders: MultiValueHeaders, name: string, onDuplicate: () => Error): string | undefined {
  let found: string | undefined;
  for (const key in headers ?? {}) {
    if (key.length !== name.length || key.toLowerCase() !== name) continue;
    const value = (headers as Record<string, string | undefined>)[key];
    if (value === undefined) continue;
    if (found !== undefined) throw onDuplicate();
    found = value;
  }
  for (const key in multiValueHeaders ?? {}) {
    if (key.length !== name.length || key.toLowerCase() !== name) continue;
    if (((multiValueHeaders as Record<string, readonly string[] | undefined>)[key]?.length ?? 0) > 1) throw onDuplicate();
  }
  return found;
}

/** The request's one `Authorization` value; two are refused. */
export function authorizationHeader(headers: Headers, multiValueHeaders?: MultiValueHeaders): string | undefined {
  return singleHeader(headers, multiValueHeaders, "authorization", () => new MalformedAuthorizationHeaderError("more than one Authorization header"));
}
