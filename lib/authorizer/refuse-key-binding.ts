/**
 * DPoP off, the authorizer's default: no key-bound token (`cnf`) and no `DPoP` scheme gets through.
 * Its own small module, so that an authorizer built without DPoP (functions/authorizer.ts) bundles
 * none of lib/dpop's proof checking.
 */
import type { AuthorizationScheme } from "../apigateway/authorization-header.js";
import type { KeycloakClaims, VerifiedToken } from "../claims.js";
import { DpopNotEnabledError, SenderConstrainedTokenError } from "../errors.js";

/** A token bound to a key of any kind (RFC 7800 `cnf`). */
export const isKeyBound = (claims: KeycloakClaims): boolean => Object.hasOwn(claims, "cnf");

/** A request check (lib/authorizer/authorizer-handler.ts `RequestCheck`), typed by what it reads so that the handler can default to it. */
export const refuseKeyBinding = ({ scheme, verified }: { readonly scheme: AuthorizationScheme; readonly verified: VerifiedToken }): void => {
  if (isKeyBound(verified.claims)) throw new SenderConstrainedTokenError("token is bound to a key (cnf) and DPoP is off here");
  if (scheme === "DPoP") throw new DpopNotEnabledError("the DPoP scheme is used and DPoP is off here");
};
