/**
 * The realm as the authorizer meets it: the fetch rules for its URLs, discovery (reachable, and
 * its `issuer` exactly KEYCLOAK_ISSUER), and the JWKS (a signing key for an allowed algorithm,
 * judged by the authorizer's own key rules).
 */
import { discoveryUrl } from "../../lib/keys/discovery.js";
import { createFetchJson, isLoopbackHost } from "../../lib/keys/fetch-json.js";
import { judgeKey, type KeyProblem } from "../../lib/keys/key-rules.js";
import { hintFor } from "../../lib/operations/hints.js";
import type { Report } from "./checklist.js";
import type { DoctorConfig } from "./doctor-config.js";

export type Jwk = Readonly<Record<string, unknown>>;

export interface RealmFacts {
  /** The JWKS the realm publishes, when it could be fetched. */
  readonly keys: readonly Jwk[] | undefined;
}

const PROBLEM_WORDS: Readonly<Record<KeyProblem, string>> = {
  not_a_signing_key: "not a signing key (use or key_ops says encryption): never verifies tokens",
  weak_rsa_key: "RSA under 2048 bits or a bad exponent: refused",
  alg_disagrees_with_key: "its alg contradicts its key type: refused",
  unsupported_key_type: "a key type the authorizer does not verify with (oct, or an unknown curve)",
  invalid_key_material: "its material makes no key: refused",
};

/** Why a fetch failed, in a few words: the message and the network error code beneath it. */
export function failureText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  const code = typeof cause?.code === "string" ? cause.code : typeof cause?.message === "string" ? cause.message : undefined;
  return code === undefined ? message : `${message}: ${code}`;
}

function fetchRule(report: Report, what: string, url: URL, config: DoctorConfig): void {
  if (url.protocol === "https:") {
    report.add({ status: "ok", text: `${what} is https (${url.origin})` });
  } else if (url.protocol === "http:" && isLoopbackHost(url.hostname)) {
    report.add({ status: "ok", text: `${what} is plain http to a loopback host (${url.origin}): allowed, it cannot leave this machine` });
  } else if (url.protocol === "http:" && config.allowHttp) {
    report.add({
      status: "warn",
      text: `${what} is plain http to ${url.host}, allowed only by KEYCLOAK_ALLOW_HTTP=true: keys fetched in clear text can be swapped on the way`,
      fix: "serve Keycloak over https (a TLS proxy, or KC_HTTPS_*), set KEYCLOAK_ISSUER to the https URL and KEYCLOAK_ALLOW_HTTP back to false",
    });
  } else {
    report.add({
      status: "FAIL",
      text: `${what} is ${url.protocol}// to ${url.host}: the authorizer refuses to fetch keys there (keys_unavailable, a 500 for every request)`,
      fix: "serve Keycloak over https and set KEYCLOAK_ISSUER to the https URL (KEYCLOAK_ALLOW_HTTP=true only on a trusted network, never in production)",
    });
  }
}

export async function checkRealm(
  report: Report,
  config: DoctorConfig,
  options: { readonly localStage: boolean; readonly withToken: boolean },
): Promise<RealmFacts> {
  const issuer = new URL(config.issuer);
  fetchRule(report, "KEYCLOAK_ISSUER", issuer, config);
  if (!options.localStage && (issuer.protocol !== "https:" || isLoopbackHost(issuer.hostname))) {
    report.add({
      status: "FAIL",
      text: `a deployed stage with a ${issuer.protocol === "https:" ? "loopback" : "plain http"} issuer: serverless package/deploy refuses it (infra/stage-check.cjs)`,
      fix: "pass the realm's public https URL: --param keycloakIssuer=https://<host>/realms/<realm>",
    });
  }
  // The doctor looks even where the authorizer would refuse to fetch, to say what it would find.
  const fetchJson = createFetchJson({ timeoutMs: config.fetchTimeoutMs, allowHttp: true });

  let jwksUri = config.jwksUri;
  if (jwksUri === undefined) {
    let discovery: unknown;
    try {
      discovery = await fetchJson(discoveryUrl(config.issuer));
    } catch (error) {
      report.add({
        status: "FAIL",
        text: `discovery does not answer (${failureText(error)})`,
        fix: "check KEYCLOAK_ISSUER: the realm's URL exactly as in tokens' iss, https://<host>/realms/<realm> (no /auth since Keycloak 17); and that Keycloak runs there (locally: npm run keycloak, or npm start for the embedded provider)",
      });
      return { keys: undefined };
    }
    const document = (typeof discovery === "object" && discovery !== null ? discovery : {}) as Record<string, unknown>;
    report.add({ status: "ok", text: `discovery answers at ${discoveryUrl(config.issuer)}` });
    const advertised = document.issuer;
    if (advertised === config.issuer) {
      report.add({ status: "ok", text: "discovery's issuer is exactly KEYCLOAK_ISSUER" });
    } else {
      const shown = typeof advertised === "string" ? advertised : String(advertised);
      const sameRealm = hintFor({ code: "invalid_issuer", payload: { iss: advertised } }, config);
      report.add({
        status: "FAIL",
        text: `discovery's issuer is ${JSON.stringify(shown)}, not KEYCLOAK_ISSUER ${JSON.stringify(config.issuer)}: the authorizer refuses these keys (keys_unavailable), and every token Keycloak issues carries the other iss (invalid_issuer)`,
        fix:
          sameRealm === undefined
            ? `set KEYCLOAK_ISSUER to exactly ${shown}`
            : `set KEYCLOAK_ISSUER to exactly ${shown}, and pin Keycloak's hostname (KC_HOSTNAME or --hostname, or the realm's Frontend URL) so that every client gets tokens with that one issuer`,
      });
    }
    if (typeof document.jwks_uri !== "string" || !URL.canParse(document.jwks_uri)) {
      report.add({ status: "FAIL", text: "discovery names no valid jwks_uri", fix: "KEYCLOAK_ISSUER must be a Keycloak realm (or set KEYCLOAK_JWKS_URI)" });
      return { keys: undefined };
    }
    jwksUri = document.jwks_uri;
  }
  const jwksUrl = new URL(jwksUri);
  if (jwksUrl.origin !== issuer.origin) fetchRule(report, "the JWKS URI", jwksUrl, config);

  let keys: Jwk[];
  try {
    const document = (await fetchJson(jwksUri)) as { keys?: unknown };
    if (!Array.isArray(document.keys)) throw new Error("the JWKS has no keys array");
    keys = document.keys.filter((key): key is Jwk => typeof key === "object" && key !== null);
  } catch (error) {
    report.add({
      status: "FAIL",
      text: `the JWKS does not answer (${failureText(error)}) at ${jwksUri}`,
      fix: "check KEYCLOAK_JWKS_URI, or leave it empty to use discovery's",
    });
    return { keys: undefined };
  }
  const allowedAlgorithms: ReadonlySet<string> = new Set(config.algorithms);
  const fitting: string[] = [];
  const unfit = new Map<string, string[]>();
  for (const key of keys) {
    const kid = typeof key.kid === "string" ? key.kid : "(no kid)";
    const verdict = judgeKey(key);
    if (verdict.problem !== undefined) {
      const what = key.use === "enc" ? `an encryption key (${String(key.alg ?? key.kty)}), never used to verify tokens` : PROBLEM_WORDS[verdict.problem];
      report.add({ status: "info", text: `JWKS key ${kid}: ${what}` });
      continue;
    }
    const usable = [...verdict.algorithms].filter((alg) => allowedAlgorithms.has(alg));
    if (usable.length > 0) fitting.push(`${usable.join("/")} (kid ${kid})`);
    else {
      // A key labelled with its alg (Keycloak labels every key) is for that one; else for its type's.
      const label = typeof key.alg === "string" ? key.alg : [...verdict.algorithms].join("/");
      unfit.set(label, [...(unfit.get(label) ?? []), kid]);
    }
  }
  const unfitList = [...unfit].map(([alg, kids]) => `${alg} (kid ${kids.join(", ")})`).join("; ");
  if (fitting.length > 0) {
    report.add({ status: "ok", text: `the JWKS has signing keys for an allowed algorithm: ${fitting.join("; ")}` });
    if (unfit.size > 0) {
      report.add({
        status: "warn",
        text: `the realm also publishes signing keys for ${unfitList}, not in KEYCLOAK_ALGORITHMS (${config.algorithms.join(", ")}): tokens signed with them (a client's Access token signature algorithm) are refused`,
        fix: `if a client's tokens are signed with ${[...unfit.keys()].join(" or ")}, add it to KEYCLOAK_ALGORITHMS; else nothing to do`,
      });
    }
  } else if (unfit.size === 0) {
    report.add({
      status: "FAIL",
      text: "the JWKS has no key the authorizer can verify tokens with",
      fix: "give the realm an active, enabled signing key provider (Realm settings > Keys > Providers: rsa-generated, 2048 bits or more)",
    });
  } else {
    report.add({
      status: "FAIL",
      text: `the realm's signing keys are for ${unfitList}, none in KEYCLOAK_ALGORITHMS (${config.algorithms.join(", ")}): every token is refused (algorithm_not_allowed)`,
      fix: `add ${[...unfit.keys()].join(" or ")} to KEYCLOAK_ALGORITHMS, or give the realm an active ${config.algorithms[0] ?? "RS256"} key (Realm settings > Keys > Providers)`,
    });
  }
  if (config.algorithms.some((alg) => alg.startsWith("ES")) && !config.ecdsaAllowHighS) {
    report.add({
      status: "warn",
      text: "ECDSA is allowed with high-S signatures refused: Keycloak does not normalise s, so about half of its ES* tokens are refused (non_canonical_token)",
      fix: "set KEYCLOAK_ECDSA_ALLOW_HIGH_S=true for a Keycloak realm signing with ES256/384/512",
    });
  }
  if (!options.withToken) {
    report.add({ status: "info", text: "which key the realm signs access tokens with shows only in a token: pass --client, --user NAME or --token" });
  }
  return { keys };
}
