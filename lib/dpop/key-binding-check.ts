/**
 * What a token bound to a key (`cnf`, RFC 7800) needs before it is accepted, as the authorizer's
 * key-binding request check: the binding is the token's `cnf.jkt`, whatever its `typ` says.
 *
 * With DPoP on (`allowed` or `required`):
 * - a `cnf.jkt` token must come as `DPoP <token>` with one valid, fresh proof signed by that key
 *   (lib/dpop/dpop-proof.ts, then the replay store); as `Bearer` it is refused, so a thief cannot
 *   strip the binding;
 * - a token bound otherwise (mTLS `x5t#S256`, or anything beside `jkt`) is refused: no such proof is checked here;
 * - a plain token is refused as `DPoP` (there is no key to prove), and as `Bearer` where DPoP is
 *   required: everywhere (`required`), or on a route whose requirement a DPoP-bound token would
 *   meet and this one does not (`dpopBound()` in lib/routes/requirements.ts).
 * With DPoP off, every bound token and the `DPoP` scheme are refused (refuseKeyBinding).
 */
import { dpopThumbprint } from "../claims.js";
import { declaredRouteOf, dpopProofOf, requestTargetOf } from "../apigateway/events.js";
import type { CheckedRequest, RequestCheck } from "../authorizer/authorizer-handler.js";
import type { DpopMode } from "../config/dpop-settings.js";
import {
  AuthorizerError,
  ConfigError,
  DpopProofMissingError,
  DpopProofReplayedError,
  DpopReplayStoreUnavailableError,
  DpopRequiredError,
  DpopTokenAsBearerError,
  DpopTokenNotBoundError,
  SenderConstrainedTokenError,
  UnsupportedEventError,
} from "../errors.js";
import { isSatisfied, needsDpopBinding } from "../routes/requirements.js";
import type { RouteTable } from "../routes/route.js";
import { createDpopProofVerifier } from "./dpop-proof.js";
import type { ReplayStore } from "./replay-cache.js";
import { normalizedRequestUrl } from "./request-url.js";
import { isKeyBound, refuseKeyBinding } from "../authorizer/refuse-key-binding.js";

export { refuseKeyBinding };

const bound = isKeyBound;

export interface KeyBindingOptions {
  readonly mode: DpopMode;
  readonly algorithms: readonly string[];
  readonly proofMaxAgeSeconds: number;
  readonly clockSkewSeconds: number;
  readonly replayStore: ReplayStore;
  /** The routes, for their `dpopBound()` requirements. */
  readonly routes: RouteTable;
  /** serverless-offline: http, and the Host header (lib/apigateway/events.ts requestTargetOf). */
  readonly offline: boolean;
  /** Milliseconds since the epoch; tests drive it. */
  readonly now?: () => number;
}

/**
 * The key-binding check for a DPoP mode; `off` is refuseKeyBinding. Throws ConfigError when a
 * route requires a DPoP-bound token that the mode would refuse.
 */
export function keyBindingCheck(options: KeyBindingOptions): RequestCheck {
  const dpopRoutes = options.routes.routes.filter((route) => route.requires !== undefined && needsDpopBinding(route.requires));
  if (options.mode === "off") {
    if (dpopRoutes.length > 0) {
      const names = dpopRoutes.map((route) => `${route.method} ${route.path}`).join(", ");
      throw new ConfigError(`KEYCLOAK_DPOP is off, but ${names} require${dpopRoutes.length === 1 ? "s" : ""} a DPoP-bound token: set KEYCLOAK_DPOP=allowed`);
    }
    return refuseKeyBinding;
  }
  const { mode, replayStore, routes, offline, now = Date.now } = options;
  const proofs = createDpopProofVerifier({
    algorithms: options.algorithms,
    maxAgeSeconds: options.proofMaxAgeSeconds,
    clockSkewSeconds: options.clockSkewSeconds,
  });

  /** A plain token on a route that a DPoP-bound token with the same claims could call, and this one cannot. */
  const routeWantsDpop = ({ event, kind, verified }: CheckedRequest): boolean => {
    const declared = declaredRouteOf(event, kind);
    const route = declared === undefined ? undefined : routes.find(declared.method, declared.path);
    if (route?.requires === undefined || !needsDpopBinding(route.requires) || isSatisfied(route.requires, verified.claims)) return false;
    return isSatisfied(route.requires, { ...verified.claims, cnf: { jkt: "(bound)" } });
  };

  const failure = (cause: unknown): AuthorizerError =>
    cause instanceof AuthorizerError ? cause : new DpopReplayStoreUnavailableError("the DPoP replay store failed", { cause });
  const settle = (fresh: boolean): void => {
    if (!fresh) throw new DpopProofReplayedError("DPoP proof jti was used before");
  };

  // Synchronous unless the replay store answers with a promise: a plain request pays no await.
  return (request) => {
    const { event, kind, scheme, token, verified } = request;
    if (!bound(verified.claims)) {
      if (scheme === "DPoP") throw new DpopTokenNotBoundError("the DPoP scheme with a token that is not bound to a key");
      if (mode === "required") throw new DpopRequiredError("a bearer token where DPoP is required");
      if (dpopRoutes.length > 0 && routeWantsDpop(request)) throw new DpopRequiredError("a bearer token on a route that requires DPoP");
      return;
    }
    const jkt = dpopThumbprint(verified.claims.cnf);
    if (jkt === undefined) throw new SenderConstrainedTokenError("token is bound to a key by other means than DPoP (cnf without only jkt)");
    if (scheme === "Bearer") throw new DpopTokenAsBearerError("a DPoP-bound token sent as a bearer token");
    const proof = dpopProofOf(event, kind);
    if (proof === undefined || proof === "") throw new DpopProofMissingError("no DPoP proof header");
    const target = requestTargetOf(event, kind, offline);
    const url = target === undefined ? undefined : normalizedRequestUrl(target.url);
    if (target === undefined || url === undefined) throw new UnsupportedEventError("the event lacks the method or URL a DPoP proof is bound to");
    const checked = proofs.check(proof, { method: target.method, url, accessToken: token, jkt }, now() / 1000);
    let claimed: boolean | Promise<boolean>;
    try {
      claimed = replayStore.claim(checked.jti, checked.acceptableUntil);
    } catch (cause) {
      throw failure(cause);
    }
    if (typeof claimed === "boolean") return settle(claimed);
    return Promise.resolve(claimed).then(settle, (cause: unknown) => {
      throw failure(cause);
    });
  };
}
