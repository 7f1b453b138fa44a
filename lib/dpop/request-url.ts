/**
 * A DPoP proof's `htu` against the URL the request was sent to (RFC 9449 section 4.3, item 9):
 * compared without query and fragment, after the syntax- and scheme-based normalisation of RFC
 * 3986 section 6.2.2 and 6.2.3 that RFC 9449 asks for, so that two spellings of one URL agree and
 * two URLs never do.
 *
 * The WHATWG URL parser does most of it: scheme and host to lower case (IDNs to punycode), the
 * default port dropped, an empty path made `/`, dot segments removed (`%2e` included). What it
 * leaves is done here: percent-encoded unreserved characters decoded (`%7E` is `~`), and the hex
 * digits of the other escapes in upper case (`%2f` is `%2F`).
 *
 * One step further than RFC 3986 allows: escapes of the characters a path segment may hold as
 * they are (`:`, `@` and the sub-delims `!$&'()*+,;=`) are decoded too. The URL a client signs
 * keeps `%3A` as sent, while the path API Gateway and serverless-offline hand the authorizer may
 * have it decoded (`a:b`), so the two spellings are taken as one URL. (A backend that tells them
 * apart, a Java one reading `;` as a parameter separator, would see one proof fit both; the proof
 * still works once, for this token.) `/`, `?`, `#`, `%` and the rest stay escaped, so a segment
 * boundary or a query can never be made up this way.
 */

/** Longer `htu` values are not URLs of this API: refused before parsing. */
const MAX_URL_LENGTH = 4096;
/** RFC 3986 `pchar` less `%`: unreserved, sub-delims, `:` and `@`. */
const PATH_CHARACTER = /^[A-Za-z0-9._~!$&'()*+,;=:@-]$/;

/**
 * `scheme://host[:port]/path`, normalised; undefined for anything that is not an absolute http(s)
 * URL without user info.
 *
 * @example
 * normalizedRequestUrl("HTTPS://API.Example.com:443/a/../%7euser?x=1#f") // "https://api.example.com/~user"
 */
export function normalizedRequestUrl(value: string): string | undefined {
  if (value.length > MAX_URL_LENGTH) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if ((url.protocol !== "https:" && url.protocol !== "http:") || url.username !== "" || url.password !== "" || url.hostname === "") return undefined;
  const path = url.pathname.includes("%") ? url.pathname.replace(/%[0-9A-Fa-f]{2}/g, normalizeEscape) : url.pathname;
  return `${url.protocol}//${url.host}${path}`;
}

function normalizeEscape(encoded: string): string {
  const character = String.fromCharCode(Number.parseInt(encoded.slice(1), 16));
  return PATH_CHARACTER.test(character) ? character : encoded.toUpperCase();
}
