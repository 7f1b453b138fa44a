/**
 * An error the API answers with, shaped like `http-errors` so @middy/http-error-handler turns it
 * into a response: `statusCode`, `expose`, `headers`, and the JSON body as `message`.
 */
export class HttpError extends Error {
  override readonly name = "HttpError";
  readonly expose = true;
  constructor(
    readonly statusCode: 401 | 403 | 503,
    readonly body: { readonly error: string; readonly message: string },
    readonly headers: Readonly<Record<string, string>>,
    options?: { cause?: unknown; reason?: string },
  ) {
    super(JSON.stringify(body), options);
    this.reason = options?.reason;
  }
  /** For a 5xx: the reason code its log line carries (4xx answers are logged where decided). */
  readonly reason: string | undefined;
}

/**
 * Whom a 401 or 403 challenges: the realm, and for a request made with the DPoP scheme the proof
 * algorithms accepted, since RFC 9449 section 7.1 answers such a request with a `DPoP` challenge.
 * A plain realm name is a Bearer challenge.
 */
export type Challenge = string | { readonly realm: string; readonly dpopAlgorithms: readonly string[] };

/** What cannot stand in a quoted header parameter: quotes, backslashes, control characters (a line break would end the header). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it removes
const UNQUOTABLE = /["\\\x00-\x1f\x7f]/g;

/**
 * An RFC 6750 section 3 challenge: `Bearer realm="demo", error="invalid_token"`. No error code
 * when the request carried no credentials at all (section 3.1).
 */
export function bearerChallenge(realm: string, error?: "invalid_token" | "insufficient_scope"): string {
  const quotedRealm = realm.replace(UNQUOTABLE, "");
  return error === undefined ? `Bearer realm="${quotedRealm}"` : `Bearer realm="${quotedRealm}", error="${error}"`;
}

/** The `WWW-Authenticate` value: Bearer, or RFC 9449's `DPoP realm="demo", error="...", algs="ES256 ..."`. */
export function challengeHeader(challenge: Challenge, error: "invalid_token" | "insufficient_scope"): string {
  if (typeof challenge === "string") return bearerChallenge(challenge, error);
  const quotedRealm = challenge.realm.replace(UNQUOTABLE, "");
  return `DPoP realm="${quotedRealm}", error="${error}", algs="${challenge.dpopAlgorithms.join(" ")}"`;
}

/** 401: no usable identity reached the API. */
export function unauthorized(challenge: Challenge, options?: { cause?: unknown }): HttpError {
  return new HttpError(
    401,
    {
      error: "invalid_token",
      message: typeof challenge === "string" ? "A valid Bearer access token is required." : "A valid DPoP-bound access token and a DPoP proof are required.",
    },
    { "WWW-Authenticate": challengeHeader(challenge, "invalid_token") },
    options,
  );
}

/** 403: a valid token that lacks what the route requires (said in words, never the token's contents). */
export function forbidden(challenge: Challenge, requirement: string): HttpError {
  return new HttpError(
    403,
    { error: "insufficient_scope", message: `This route requires ${requirement}.` },
    { "WWW-Authenticate": challengeHeader(challenge, "insufficient_scope") },
  );
}

/**
 * 503: the API could not decide (Keycloak's introspection unreachable for a strict route).
 * Refused, never allowed; the client may retry. Logged by the handler's error handler, with its cause.
 */
export function unavailable(reason: string, options: { cause?: unknown } = {}): HttpError {
  return new HttpError(
    503,
    { error: "temporarily_unavailable", message: "The identity provider could not be asked about this token; try again shortly." },
    { "Retry-After": "1" },
    { ...options, reason },
  );
}
