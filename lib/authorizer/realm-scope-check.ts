/**
 * Route requirements against the trusted issuers, at cold start. With several trusted realms (a
 * `{realm}` pattern, or a list), each realm's administrators control what its tokens carry: roles,
 * scopes, organizations. So:
 * - `realm("acme")` must name one realm only: a name that trusted issuers on several hosts (or a
 *   pattern and an exact issuer elsewhere) could both have is refused; name the whole issuer;
 * - a route whose requirement does not name the realm is met by tokens of every trusted realm:
 *   said once, as a WARN line listing those routes (their handlers may scope by `context.realm`).
 */
import type { TrustedIssuers } from "../config/trusted-issuers.js";
import { ConfigError } from "../errors.js";
import type { Logger } from "../operations/logger.js";
import { isRealmScoped, realmsNamed } from "../routes/requirements.js";
import { routeKey, type RouteTable } from "../routes/route.js";

/** The trusted issuers that could carry a realm of this name. */
function issuersNaming(issuers: TrustedIssuers, name: string): string[] {
  return [
    ...issuers.exact.filter((trusted) => trusted.name === name).map((trusted) => trusted.issuer),
    ...issuers.patterns.map((pattern) => pattern.replace("{realm}", name)).filter((issuer) => issuers.match(issuer) !== undefined),
  ];
}

export function checkRealmScopes(routes: RouteTable, issuers: TrustedIssuers, logger: Logger): void {
  for (const route of routes.routes) {
    for (const named of route.requires === undefined ? [] : realmsNamed(route.requires)) {
      if (named.includes("://")) continue;
      const candidates = new Set(issuersNaming(issuers, named));
      if (candidates.size > 1) {
        throw new ConfigError(
          `${routeKey(route)} requires realm("${named}"), which several trusted issuers could be (${[...candidates].join(", ")}): name the whole issuer, realm("${[...candidates][0]}")`,
        );
      }
    }
  }
  if (issuers.single !== undefined) return;
  const unscoped = routes.routes.filter((route) => route.requires !== undefined && !isRealmScoped(route.requires)).map(routeKey);
  if (unscoped.length > 0) {
    logger.warn("route requirements met by tokens of any trusted realm", {
      reason: "realm_unscoped_requirements",
      routes: unscoped.join(", "),
      hint: "every trusted realm's administrators can put roles, scopes and organizations into their tokens: combine such requirements with realm(...), or check context.realm in the handler (docs/many-realms.md)",
    });
  }
}
