/**
 * One token, explained check by check in the authorizer's order (lib/token/access-token-verifier.ts),
 * then decided by the authorizer itself: the real verifier and the real handler, with this
 * configuration, so the decision shown is the one a deployed authorizer makes. Then the routes the
 * token meets, and how long a logged-out user keeps access. Prints claims it names, never the token.
 */
import type { APIGatewayAuthorizerResult } from "aws-lambda";
import { gatewayViolations } from "../../lib/apigateway/gateway-rules.js";
import { createAuthorizerHandler } from "../../lib/authorizer/authorizer-handler.js";
import { requestTargetOf } from "../../lib/apigateway/events.js";
import { dpopThumbprint } from "../../lib/claims.js";
import { keyBindingCheck } from "../../lib/dpop/key-binding-check.js";
import { MemoryReplayCache } from "../../lib/dpop/replay-cache.js";
import { AuthorizerFailureError, TokenRejectedError, type RejectionCode } from "../../lib/errors.js";
import { isCanonicalEcdsaSignature, judgeKey } from "../../lib/keys/key-rules.js";
import { HINTED_REASONS, hintFor, rolesHint } from "../../lib/operations/hints.js";
import { describeRequirement, isSatisfied } from "../../lib/routes/requirements.js";
import type { RouteTable } from "../../lib/routes/route.js";
import { authorizerEvent } from "../../lib/testing/events.js";
import { createAccessTokenVerifier } from "../../lib/token/access-token-verifier.js";
import { assertCanonical, decodeJwt, type DecodedJwt } from "../../lib/token/jwt-decoder.js";
import type { DpopClientKey } from "../dpop-client.js";
import type { Report } from "./checklist.js";
import type { Jwk } from "./realm-checks.js";
import type { DoctorConfig } from "./doctor-config.js";

interface Step {
  readonly code: RejectionCode;
  readonly ok: boolean;
  readonly text: string;
  readonly keyProblem?: string;
}

/** What to do about a refusal that is no configuration mismatch (those get lib/operations/hints.ts's hint). */
const OTHER_FIXES: Partial<Record<RejectionCode, string>> = {
  token_too_large: "the token carries too many claims (roles, groups): trim its mappers, or raise KEYCLOAK_MAX_TOKEN_BYTES",
  malformed_token: "send the access_token of the token response as it came (three base64url parts)",
  token_expired: "get a fresh token (access tokens live for the realm's Access Token Lifespan)",
  token_not_yet_valid: "the clocks of Keycloak and this machine differ: fix the clock (NTP), or raise KEYCLOAK_CLOCK_SKEW_SECONDS",
  iat_in_future: "the clocks of Keycloak and this machine differ: fix the clock (NTP), or raise KEYCLOAK_CLOCK_SKEW_SECONDS",
  client_not_allowed: "add the client id (azp) to KEYCLOAK_ALLOWED_CLIENTS, or leave it empty for any client",
  unknown_kid: "the token's key is not (or no longer) in the realm's JWKS: a token of another realm, or of a deleted key; get a new token",
  invalid_signature: "the token was altered, or signed by a key that is not this realm's: get a new token from the realm",
  non_canonical_token:
    "send the token exactly as Keycloak issued it; for ES256/384/512 realms set KEYCLOAK_ECDSA_ALLOW_HIGH_S=true (Keycloak does not normalise ECDSA)",
  sender_constrained_token:
    "the client has DPoP or mTLS bound tokens on (cnf): for DPoP set KEYCLOAK_DPOP=allowed and send the token as DPoP with a proof (docs/dpop.md); else turn binding off for this client",
  missing_exp: "Keycloak always sets exp: this is no Keycloak access token",
  missing_iat: "Keycloak always sets iat: this is no Keycloak access token",
};

const shown = (value: unknown): string => {
  const text = JSON.stringify(value) ?? "undefined";
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
};

function explain(decoded: DecodedJwt, config: DoctorConfig, keys: readonly Jwk[] | undefined): Step[] {
  const { header, payload } = decoded;
  const now = Date.now() / 1000;
  const skew = config.clockSkewSeconds;
  const steps: Step[] = [];
  const step = (code: RejectionCode, ok: boolean, text: string, keyProblem?: string): void => {
    steps.push({ code, ok, text, ...(keyProblem === undefined ? {} : { keyProblem }) });
  };
  const alg = header.alg;
  step(
    "algorithm_not_allowed",
    typeof alg === "string" && config.algorithms.includes(alg as never),
    `alg ${shown(alg)} in KEYCLOAK_ALGORITHMS (${config.algorithms.join(", ")})`,
  );
  step("missing_kid", typeof header.kid === "string" && header.kid !== "", `kid ${shown(header.kid)} present`);
  step("unsupported_crit", header.crit === undefined, "no crit header");
  step(
    "embedded_key_header",
    !["jwk", "jku", "x5u", "x5c"].some((name) => Object.hasOwn(header, name)),
    "no jwk, jku, x5u or x5c header (keys are never taken from the token)",
  );
  step("invalid_issuer", payload.iss === config.issuer, `iss ${shown(payload.iss)} is exactly KEYCLOAK_ISSUER`);
  let canonical = true;
  try {
    assertCanonical(decoded);
  } catch {
    canonical = false;
  }
  step("non_canonical_token", canonical, "canonical base64url (no padding, no stray bits)");
  if (payload.exp !== undefined) step("token_expired", payload.exp + skew >= now, `exp in ${Math.round(payload.exp - now)} s (skew ${skew} s)`);
  if (payload.nbf !== undefined) step("token_not_yet_valid", payload.nbf - skew <= now, `nbf ${Math.round(payload.nbf - now)} s from now (skew ${skew} s)`);
  const audiences = typeof payload.aud === "string" ? [payload.aud] : Array.isArray(payload.aud) ? payload.aud : [];
  step(
    "invalid_audience",
    audiences.some((aud) => config.audiences.includes(aud)),
    `aud ${shown(payload.aud)} has one of KEYCLOAK_AUDIENCE (${config.audiences.join(", ")})`,
  );
  step("missing_exp", payload.exp !== undefined, "exp present");
  step("missing_iat", payload.iat !== undefined, "iat present");
  if (payload.iat !== undefined) step("iat_in_future", payload.iat - skew <= now, "iat not in the future");
  // Keycloak writes DPoP into the access tokens it binds to a DPoP key (lib/token/access-token-verifier.ts).
  step("invalid_token_type", payload.typ === "Bearer" || payload.typ === "DPoP", `typ ${shown(payload.typ)} is Bearer or DPoP (an access token)`);
  if (config.allowedClients.length > 0) {
    step(
      "client_not_allowed",
      typeof payload.azp === "string" && config.allowedClients.includes(payload.azp),
      `azp ${shown(payload.azp)} in KEYCLOAK_ALLOWED_CLIENTS`,
    );
  }
  const principal = Object.hasOwn(payload, config.principalClaim) ? payload[config.principalClaim] : undefined;
  step("missing_subject", typeof principal === "string" && principal !== "", `${config.principalClaim} (KEYCLOAK_PRINCIPAL_CLAIM) a non-empty string`);
  step(...bindingStep(payload.cnf, Object.hasOwn(payload, "cnf"), config.dpop));
  if (keys !== undefined && typeof header.kid === "string") {
    const published = keys.filter((key) => key.kid === header.kid);
    step("unknown_kid", published.length > 0, `kid is in the realm's JWKS`);
    if (published.length > 0) {
      const verdicts = published.map((key) => judgeKey(key));
      const problem = verdicts.find((verdict) => verdict.problem !== undefined)?.problem;
      const usable = verdicts.some((verdict) => verdict.problem === undefined);
      step(
        "key_not_usable",
        usable,
        usable ? "the key is a signing key the authorizer accepts" : `the key is refused (${problem ?? "?"})`,
        usable ? undefined : problem,
      );
      if (usable) {
        step(
          "key_algorithm_mismatch",
          verdicts.some((verdict) => verdict.problem === undefined && typeof alg === "string" && verdict.algorithms.has(alg)),
          `alg ${shown(alg)} fits the key (${published.map((key) => `${String(key.kty)}${key.alg === undefined ? "" : ` ${String(key.alg)}`}`).join(", ")})`,
        );
      }
    }
  }
  if (typeof alg === "string" && alg.startsWith("ES")) {
    const signature = Buffer.from(decoded.signatureB64, "base64url");
    step(
      "non_canonical_token",
      isCanonicalEcdsaSignature(alg, signature, config.ecdsaAllowHighS),
      `ECDSA signature is r || s${config.ecdsaAllowHighS ? "" : " and low-S"}`,
    );
  }
  return steps;
}

function fixFor(code: string, decoded: DecodedJwt | undefined, config: DoctorConfig, keyProblem?: string): string | undefined {
  if (HINTED_REASONS.has(code)) {
    const hint = hintFor({ code, header: decoded?.header, payload: decoded?.payload, detail: keyProblem === undefined ? undefined : { keyProblem } }, config);
    if (hint !== undefined) return hint;
  }
  return OTHER_FIXES[code as RejectionCode];
}

/** The key-binding check's verdict on `cnf`, as lib/dpop/key-binding-check.ts decides it for a token sent as a client sends it. */
function bindingStep(cnf: unknown, present: boolean, dpop: DoctorConfig["dpop"]): [RejectionCode, boolean, string] {
  if (!present) return ["sender_constrained_token", true, "no cnf (not bound to a DPoP or mTLS key)"];
  if (dpopThumbprint(cnf) === undefined) return ["sender_constrained_token", false, `cnf ${shown(cnf)} binds it by other means than DPoP (cnf.jkt alone)`];
  if (dpop === "off") return ["sender_constrained_token", false, "cnf.jkt binds it to a DPoP key, and KEYCLOAK_DPOP is off"];
  return [
    "sender_constrained_token",
    true,
    `cnf.jkt binds it to a DPoP key: the API takes it as DPoP <token> with a proof by that key (KEYCLOAK_DPOP ${dpop})`,
  ];
}

export interface TokenOutcome {
  /** The token's lifespan (exp - iat), when it says. */
  readonly lifespanSeconds: number | undefined;
}

export async function checkToken(
  report: Report,
  config: DoctorConfig,
  token: string,
  keys: readonly Jwk[] | undefined,
  routes: RouteTable,
  dpopKey?: DpopClientKey,
): Promise<TokenOutcome> {
  report.add({
    status: token.length <= config.maxTokenBytes ? "ok" : "FAIL",
    text: `size ${token.length} bytes (KEYCLOAK_MAX_TOKEN_BYTES ${config.maxTokenBytes})`,
  });
  let decoded: DecodedJwt | undefined;
  try {
    decoded = decodeJwt(token);
    report.add({ status: "ok", text: "a JWS compact JWT with JSON header and claims" });
  } catch (error) {
    report.add({ status: "FAIL", text: `not a JWS compact JWT: ${error instanceof Error ? error.message : String(error)}`, fix: OTHER_FIXES.malformed_token });
  }
  const steps = decoded === undefined ? [] : explain(decoded, config, keys);
  for (const item of steps) {
    report.add({ status: item.ok ? "ok" : "FAIL", text: item.text, fix: item.ok ? undefined : fixFor(item.code, decoded, config, item.keyProblem) });
  }

  // The decision, by the authorizer's own code: the verifier, then the handler's answers.
  const verifier = createAccessTokenVerifier(config);
  const keyBinding = keyBindingCheck({
    mode: config.dpop,
    algorithms: config.dpopAlgorithms,
    proofMaxAgeSeconds: config.dpopProofMaxAgeSeconds,
    clockSkewSeconds: config.clockSkewSeconds,
    replayStore: new MemoryReplayCache({ maxEntries: 100 }),
    routes,
    offline: false,
  });
  // A token bound to a DPoP key is sent as a client does: `DPoP <token>` with a fresh proof per
  // request, by the doctor's own key when it got the token; without that key (--token) no proof
  // can be made, and the proof is taken as valid (said so below).
  const bound = config.dpop !== "off" && decoded !== undefined && dpopThumbprint(decoded.payload.cnf) !== undefined;
  const requestOf = (kind: "rest-request" | "http-v2") => {
    const event = authorizerEvent(kind, bound ? `DPoP ${token}` : `Bearer ${token}`);
    if (bound && dpopKey !== undefined) {
      const target = requestTargetOf(event, kind, false);
      if (target !== undefined) (event as { headers: Record<string, string> }).headers.DPoP = dpopKey.proof(target.method, target.url, token);
    }
    return event;
  };
  const assumeProof = bound && dpopKey === undefined;
  const decide = async () => {
    const verified = await verifier.verify(token);
    // Then, as the handler does, the key binding (lib/dpop/): a Bearer token, or a DPoP-bound one with its proof.
    if (!assumeProof) await keyBinding({ event: requestOf("http-v2"), kind: "http-v2", scheme: bound ? "DPoP" : "Bearer", token, verified });
    return { verified };
  };
  const outcome = await decide().catch((error: unknown) => ({ error }));
  if ("error" in outcome) {
    const { error } = outcome;
    if (error instanceof TokenRejectedError) {
      if (error.code === "invalid_signature")
        report.add({ status: "FAIL", text: "the signature does not verify with the realm's key", fix: OTHER_FIXES.invalid_signature });
      const first = steps.find((item) => !item.ok);
      const agrees = first === undefined || first.code === error.code;
      report.line(
        `  decision: refused, 401, reason ${error.code} (the authorizer's log line says this)${agrees ? "" : ` [the explanation above disagrees: ${first?.code}]`}`,
      );
      // Every check above passed, yet the authorizer refuses (a DPoP proof, a revoked session...): a failure all the same.
      if (first === undefined) report.add({ status: "FAIL", text: `the authorizer refuses the token (${error.code}) though every check above passed` });
      // The fix of the check that decided, unless that check's line above already says it.
      if (decoded !== undefined && (!agrees || first === undefined)) {
        const fix = fixFor(error.code, decoded, config, error.detail?.keyProblem);
        if (fix !== undefined) report.line(`        fix: ${fix}`);
      }
    } else if (error instanceof AuthorizerFailureError) {
      report.add({
        status: "FAIL",
        text: `decision: the authorizer cannot judge the token, 500, reason ${error.code}: ${error.message}`,
        fix: "see the realm checks above",
      });
    } else {
      report.add({ status: "FAIL", text: `decision: unexpected error ${String(error)}` });
    }
  } else {
    report.add({ status: "ok", text: "the signature verifies with the realm's key" });
    if (bound) {
      report.add({
        status: assumeProof ? "info" : "ok",
        text: assumeProof
          ? "a DPoP-bound token: allowed only as DPoP <token> with a valid proof by the key of cnf.jkt, which the doctor does not hold (the proof is not checked here); refused as Bearer (dpop_token_as_bearer)"
          : "a DPoP-bound token: sent as DPoP <token> with a proof by the doctor's key, as a client does; refused as Bearer (dpop_token_as_bearer)",
      });
    }
    report.line(`  decision: allowed, principal ${config.principalClaim} ${shown(outcome.verified.principal)}, verified by kid ${outcome.verified.kid}`);
    // The handler as deployed with this key binding (each call a fresh proof), or, without the client's key, one taking the proof as valid.
    const handler = createAuthorizerHandler({ verifier, routes, keyBinding: assumeProof ? () => undefined : keyBinding });
    const problems: string[] = [];
    let allowed = 0;
    // DPoP needs the request's headers: a REQUEST authorizer on REST (infra/dpop.cjs).
    for (const kind of [bound ? "rest-request" : "rest-token", "http-v2"] as const) {
      const answer = await handler(kind === "rest-token" ? authorizerEvent(kind, `Bearer ${token}`) : requestOf(kind)).then(
        (result) => ({ result }),
        (error: unknown) => ({ error }),
      );
      problems.push(...gatewayViolations(kind, answer));
      if (kind !== "http-v2" && "result" in answer) {
        const statements = (answer.result as APIGatewayAuthorizerResult).policyDocument.Statement;
        allowed = statements
          .filter((statement) => statement.Effect === "Allow")
          .flatMap((statement) => ("Resource" in statement ? [statement.Resource].flat() : [])).length;
      }
    }
    report.add(
      problems.length === 0
        ? {
            status: "ok",
            text: `API Gateway accepts the answers: a REST policy allowing ${allowed} of ${routes.routes.length} routes, an HTTP API simple response`,
          }
        : { status: "FAIL", text: `API Gateway would refuse the answers (a 500): ${problems.join("; ")}` },
    );
  }

  if (decoded !== undefined) {
    const refused = "error" in outcome;
    report.section(refused ? "routes (the token is refused: these are the requirements its claims would meet)" : "routes this token may call");
    const fixes = new Set<string>();
    for (const route of routes.routes) {
      const meets = route.requires === undefined || isSatisfied(route.requires, decoded.payload);
      const needs = route.requires === undefined ? "any valid access token" : describeRequirement(route.requires);
      // One fix line for all the routes it holds for (a token without roles misses them all alike).
      const fix = meets ? undefined : rolesHint(route.requires, decoded.payload);
      report.add({
        status: meets ? "yes" : "no",
        text: `${route.method} ${route.path}  (${needs})`,
        fix: fix === undefined || fixes.has(fix) ? undefined : fix,
      });
      if (fix !== undefined) fixes.add(fix);
    }
  }
  const { exp, iat } = decoded?.payload ?? {};
  return { lifespanSeconds: typeof exp === "number" && typeof iat === "number" ? exp - iat : undefined };
}

/** The longest a logged-out user keeps access, in seconds, and whether the cache TTL makes it worse. */
export function checkAccessWindow(report: Report, config: DoctorConfig, lifespanSeconds: number | undefined, cacheTtlSeconds: number): void {
  const skew = config.clockSkewSeconds;
  if (lifespanSeconds === undefined) {
    report.add({
      status: "info",
      text: `a logged-out user keeps access until the access token expires: its lifespan plus ${skew} s of KEYCLOAK_CLOCK_SKEW_SECONDS (Keycloak's default lifespan is 300 s: ${300 + skew} s); pass --client or --user to measure this realm's`,
    });
    return;
  }
  const window = lifespanSeconds + skew;
  report.add({
    status: lifespanSeconds > 900 ? "warn" : "ok",
    text: `a logged-out user keeps access for up to ${window} s: access tokens pass until they expire (this one's lifespan is ${lifespanSeconds} s, plus ${skew} s of KEYCLOAK_CLOCK_SKEW_SECONDS); the API Gateway result cache (authorizerCacheTtlSeconds ${cacheTtlSeconds} s) adds nothing, the protected handler re-checks exp`,
    fix:
      lifespanSeconds > 900 ? "shorten the realm's (or the client's) Access Token Lifespan (Realm settings > Tokens); 300 s is Keycloak's default" : undefined,
  });
  if (cacheTtlSeconds > lifespanSeconds) {
    report.add({
      status: "warn",
      text: `authorizerCacheTtlSeconds (${cacheTtlSeconds} s) outlasts the token (${lifespanSeconds} s): API Gateway replays answers for tokens that expired (the handler still answers 401), and a role change takes up to ${cacheTtlSeconds} s`,
      fix: `set authorizerCacheTtlSeconds to at most ${lifespanSeconds}`,
    });
  }
}
