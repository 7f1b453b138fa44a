import { MalformedAuthorizationHeaderError, MissingTokenError } from "../errors.js";

/**
 * Extract the token from an `Authorization` header value: RFC 6750 section 2.1, "Bearer" in any
 * case, one or more spaces, one token; no tab, no second token, no other scheme. What the token
 * itself may contain is the JWT decoder's business (base64url and two dots): a character scan
 * here would cost more than the rest of a repeated token's check.
 *
 * @example
 * bearerToken("Bearer eyJ...") // "eyJ..."
 * bearerToken("Basic abc")     // throws MalformedAuthorizationHeaderError
 */
export function bearerToken(headerValue: string | undefined | null): string {
  if (headerValue === undefined || headerValue === null || headerValue === "") {
    throw new MissingTokenError("no Authorization header");
  }
  if (headerValue.length < 8 || headerValue.charCodeAt(6) !== SPACE || headerValue.slice(0, 6).toLowerCase() !== "bearer") {
    throw new MalformedAuthorizationHeaderError("Authorization is not 'Bearer <token>'");
  }
  let start = 7;
  while (headerValue.charCodeAt(start) === SPACE) start += 1;
  const token = headerValue.slice(start);
  // memchr-fast scans for the separators that would make this two values, or none.
  if (token === "" || token.includes(" ") || token.includes("\t") || token.includes(",")) {
    throw new MalformedAuthorizationHeaderError("Authorization is not 'Bearer <token>'");
  }
  return token;
}

const SPACE = 32;

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
