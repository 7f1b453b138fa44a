import { MalformedAuthorizationHeaderError, MissingTokenError } from "./errors.js";

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

/**
 * The single `Authorization` value of a header map whose names may come in any case (REST keeps
 * the client's casing, HTTP APIs lower-case them). Two values are ambiguous and refused.
 */
export function authorizationHeader(
  headers: Readonly<Record<string, string | undefined>> | null | undefined,
  multiValueHeaders?: Readonly<Record<string, readonly string[] | undefined>> | null,
): string | undefined {
  let found: string | undefined;
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (name.toLowerCase() !== "authorization" || value === undefined) continue;
    if (found !== undefined) throw new MalformedAuthorizationHeaderError("more than one Authorization header");
    found = value;
  }
  for (const [name, values] of Object.entries(multiValueHeaders ?? {})) {
    if (name.toLowerCase() === "authorization" && values !== undefined && values.length > 1) {
      throw new MalformedAuthorizationHeaderError("more than one Authorization header");
    }
  }
  return found;
}
