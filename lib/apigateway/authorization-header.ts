import { DpopProofDuplicatedError, DpopProofMalformedError, MalformedAuthorizationHeaderError, MissingTokenError } from "../errors.js";

/** The two schemes the authorizer reads: RFC 6750 bearer tokens and RFC 9449 DPoP-bound tokens. */
export type AuthorizationScheme = "Bearer" | "DPoP";

export interface Credentials {
  readonly scheme: AuthorizationScheme;
  readonly token: string;
}

/**
 * Read an `Authorization` header value: `Bearer <token>` (RFC 6750 section 2.1) or `DPoP <token>`
 * (RFC 9449 section 7.1), the scheme in any case (RFC 9110 11.1), one or more spaces, one token;
 * no tab, no second token, no other scheme. Whether a DPoP-bound token came with its scheme and
 * proof is the key-binding check's business (lib/dpop/); what the token itself may contain is the
 * JWT decoder's (base64url and two dots): a character scan here would cost more than the rest of
 * a repeated token's check.
 *
 * @example
 * credentials("Bearer eyJ...") // { scheme: "Bearer", token: "eyJ..." }
 * credentials("dpop eyJ...")   // { scheme: "DPoP", token: "eyJ..." }
 * credentials("Basic abc")     // throws MalformedAuthorizationHeaderError
 */
export function credentials(headerValue: string | undefined | null): Credentials {
  if (headerValue === undefined || headerValue === null || headerValue === "") {
    throw new MissingTokenError("no Authorization header");
  }
  // Events are JSON from outside: a header value may be anything (an array has a length too).
  if (typeof headerValue !== "string") throw new MalformedAuthorizationHeaderError("Authorization is not a string");
  let scheme: AuthorizationScheme;
  let start: number;
  if (headerValue.length >= 8 && headerValue.charCodeAt(6) === SPACE && headerValue.slice(0, 6).toLowerCase() === "bearer") {
    scheme = "Bearer";
    start = 7;
  } else if (headerValue.length >= 6 && headerValue.charCodeAt(4) === SPACE && headerValue.slice(0, 4).toLowerCase() === "dpop") {
    scheme = "DPoP";
    start = 5;
  } else {
    throw new MalformedAuthorizationHeaderError("Authorization is neither 'Bearer <token>' nor 'DPoP <token>'");
  }
  while (headerValue.charCodeAt(start) === SPACE) start += 1;
  const token = headerValue.slice(start);
  // memchr-fast scans for the separators that would make this two values, or none.
  if (token === "" || token.includes(" ") || token.includes("\t") || token.includes(",")) {
    throw new MalformedAuthorizationHeaderError(`Authorization is not '${scheme} <token>'`);
  }
  return { scheme, token };
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

/**
 * The request's one `DPoP` proof header (RFC 9449 section 4.3: exactly one); undefined when
 * absent. Two headers, or one value holding two (HTTP APIs join repeated headers with commas, and
 * a compact JWS has no comma), are refused: which of them would the client have meant?
 */
export function dpopHeader(headers: Headers, multiValueHeaders?: MultiValueHeaders): string | undefined {
  const duplicated = () => new DpopProofDuplicatedError("more than one DPoP header");
  const value: unknown = singleHeader(headers, multiValueHeaders, "dpop", duplicated);
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw new DpopProofMalformedError("the DPoP header is not a string");
  if (value.includes(",")) throw duplicated();
  return value;
}
