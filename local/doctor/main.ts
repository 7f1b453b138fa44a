/**
 * `npm run doctor`: checks the authorizer's configuration against the live realm and prints a
 * checklist with the fix for each failure. Exit code 0 when nothing failed (warnings allowed), 1
 * when a check failed, 2 for a usage error.
 *
 *   npm run doctor                                 the local configuration (stage dev, this shell's KEYCLOAK_*)
 *   npm run doctor -- --stage prod --param keycloakIssuer=https://...   what `serverless deploy --stage prod` would configure
 *   npm run doctor -- --client [--client-id ID --client-secret S]      ... and a token of the client's service account, explained
 *   npm run doctor -- --user alice [--password X]  ... and a user's token (password grant; the password defaults to the name)
 *   npm run doctor -- --token <jwt>                ... and that token (`--token -` reads it from stdin)
 *
 * Prints no secret and no token: names, codes, claims that identify (iss, aud, azp, typ), counts.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { API_ROUTES } from "../../functions/routes.js";
import { loadAuthorizerConfig, type AuthorizerConfig } from "../../lib/config/authorizer-config.js";
import { DEMO_CLIENT, requestTokens } from "../token-request.js";
import { createDpopClientKey, type DpopClientKey } from "../dpop-client.js";
import { Report, type Check } from "./checklist.js";
import type { DoctorConfig } from "./doctor-config.js";
import { checkRealm } from "./realm-checks.js";
import { stageEnvironment } from "./stage-env.js";
import { checkAccessWindow, checkToken } from "./token-checks.js";

const USAGE =
  "usage: npm run doctor -- [--stage NAME] [--param NAME=VALUE]... [--realm NAME] [--token JWT|- | --user NAME [--password X] | --client] [--client-id ID] [--client-secret S]";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

class UsageError extends Error {}

function options(argv: readonly string[]) {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      stage: { type: "string", default: "dev" },
      param: { type: "string", multiple: true, default: [] },
      realm: { type: "string" },
      token: { type: "string" },
      user: { type: "string" },
      password: { type: "string" },
      client: { type: "boolean", default: false },
      "client-id": { type: "string", default: DEMO_CLIENT.id },
      "client-secret": { type: "string", default: DEMO_CLIENT.secret },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  const sources = [values.token !== undefined, values.user !== undefined, values.client].filter(Boolean).length;
  if (sources > 1) throw new UsageError("give at most one of --token, --user and --client");
  const params: Record<string, string> = {};
  for (const pair of values.param) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`--param ${pair}: write NAME=VALUE`);
    params[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return { ...values, params };
}

/** A token to explain, where it came from (never the token itself in the label), and the DPoP key it is bound to when the doctor made one. */
async function tokenToExplain(
  opts: ReturnType<typeof options>,
  config: DoctorConfig,
  report: Report,
): Promise<{ token: string; dpopKey?: DpopClientKey } | undefined> {
  if (opts.token !== undefined) {
    const token = (opts.token === "-" ? readFileSync(0, "utf8") : opts.token).trim();
    report.section(`token (from --token${opts.token === "-" ? " -, stdin" : ""})`);
    return { token };
  }
  if (opts.user === undefined && !opts.client) return undefined;
  const label = opts.client ? `client credentials of client ${opts["client-id"]}` : `password grant of user ${opts.user} with client ${opts["client-id"]}`;
  report.section(`token (${label}, from the realm's token endpoint)`);
  const grant = {
    grant: opts.client ? ("client_credentials" as const) : ("password" as const),
    ...(opts.user === undefined ? {} : { user: opts.user }),
    ...(opts.password === undefined ? {} : { password: opts.password }),
    clientId: opts["client-id"],
    clientSecret: opts["client-secret"],
  };
  try {
    let dpopKey: DpopClientKey | undefined;
    const tokens = await requestTokens(config.issuer, grant).catch(async (error: unknown) => {
      // A client with "Require DPoP bound tokens": asked again as such a client asks, with a proof.
      // Keycloak: "DPoP proof is missing"; the embedded provider: "DPoP proof JWT not provided".
      if (!(error instanceof Error && /DPoP proof (is missing|JWT not provided)/.test(error.message))) throw error;
      dpopKey = createDpopClientKey();
      report.add({ status: "info", text: "the client requires DPoP-bound tokens: asked again with a proof by a key the doctor made for this run" });
      return requestTokens(config.issuer, grant, dpopKey);
    });
    if (typeof tokens.access_token !== "string") throw new Error("the token response has no access_token");
    return { token: tokens.access_token, ...(dpopKey === undefined ? {} : { dpopKey }) };
  } catch (error) {
    report.add({
      status: "FAIL",
      text: `no token: ${error instanceof Error ? error.message : String(error)}`,
      fix: opts.client
        ? "check --client-id and --client-secret, and that the client has Service accounts roles (client credentials) on"
        : "check the user's name and password, and that the client has Direct access grants (password grant) on",
    });
    return undefined;
  }
}

async function main(): Promise<number> {
  let opts: ReturnType<typeof options>;
  try {
    opts = options(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`doctor: ${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`);
    return 2;
  }
  if (opts.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const report = new Report((line) => process.stdout.write(`${line}\n`));
  const stage = await stageEnvironment(ROOT, opts.stage, opts.params, process.env);
  report.line(`npm run doctor: the authorizer of stage ${stage.stage} as serverless.yml configures it (this shell's environment and --param applied)`);
  report.line(`  KEYCLOAK_ISSUER ${stage.env.KEYCLOAK_ISSUER === "" ? "(empty)" : stage.env.KEYCLOAK_ISSUER}`);

  report.section("configuration");
  let config: AuthorizerConfig;
  try {
    config = loadAuthorizerConfig(stage.env);
  } catch (error) {
    report.add({
      status: "FAIL",
      text: `the authorizer would not start: ${error instanceof Error ? error.message : String(error)}`,
      fix: "set the variable (or --param) it names; docs/configuration.md lists every setting",
    });
    return finish(report);
  }
  report.add({
    status: "ok",
    text: `the settings are valid: KEYCLOAK_AUDIENCE ${config.audiences.join(",")}; KEYCLOAK_ALGORITHMS ${config.algorithms.join(",")}; principal claim ${config.principalClaim}${config.allowedClients.length > 0 ? `; allowed clients ${config.allowedClients.join(",")}` : ""}`,
  });

  const checked = issuerToCheck(config, opts.realm);
  if (typeof checked !== "string") {
    report.add(checked);
    return finish(report);
  }
  if (config.issuers.single === undefined) {
    report.add({
      status: "ok",
      text: `KEYCLOAK_ISSUER trusts ${trustedList(config)}: checking ${checked}${opts.realm === undefined ? " (--realm NAME checks another)" : ""}`,
    });
  }
  const doctorConfig: DoctorConfig = { ...config, issuer: checked };

  report.section("realm");
  const withToken = opts.token !== undefined || opts.user !== undefined || opts.client;
  const facts = await checkRealm(report, doctorConfig, { localStage: stage.local, withToken });

  let lifespan: number | undefined;
  const explained = await tokenToExplain(opts, doctorConfig, report);
  if (explained !== undefined) lifespan = (await checkToken(report, doctorConfig, explained.token, facts.keys, API_ROUTES, explained.dpopKey)).lifespanSeconds;

  report.section("access after logout");
  // With DPoP on, serverless.yml turns API Gateway's result cache off (infra/dpop.cjs): proofs are single-use.
  checkAccessWindow(report, doctorConfig, lifespan, config.dpop === "off" ? stage.cacheTtlSeconds : 0);
  return finish(report);
}

function trustedList(config: AuthorizerConfig): string {
  return [...config.issuers.exact.map((trusted) => trusted.issuer), ...config.issuers.patterns].join(", ");
}

/**
 * The one realm the doctor looks at: the only issuer, or `--realm NAME` among several issuers or
 * patterns (else the first exact issuer); a check that fails when no realm can be chosen.
 */
function issuerToCheck(config: AuthorizerConfig, realm: string | undefined): string | Check {
  const { issuers } = config;
  if (realm === undefined) {
    const first = issuers.single ?? issuers.exact[0];
    if (first !== undefined) return first.issuer;
    return {
      status: "FAIL",
      text: `KEYCLOAK_ISSUER has only realm patterns (${issuers.patterns.join(", ")}): the doctor needs one realm to look at`,
      fix: "pass --realm NAME (a realm of that Keycloak)",
    };
  }
  const candidates = [
    ...issuers.exact.filter((trusted) => trusted.name === realm).map((trusted) => trusted.issuer),
    ...issuers.patterns.map((pattern) => pattern.replace("{realm}", realm)),
  ];
  const trusted = candidates.map((candidate) => issuers.match(candidate)).find((match) => match !== undefined);
  if (trusted !== undefined) return trusted.issuer;
  return {
    status: "FAIL",
    text: `realm ${JSON.stringify(realm)} is not one KEYCLOAK_ISSUER trusts (${trustedList(config)}; allow-list and deny-list applied)`,
    fix: "pass --realm with a realm name the configuration trusts, or add its issuer to KEYCLOAK_ISSUER (or to KEYCLOAK_REALMS_ALLOW)",
  };
}

function finish(report: Report): number {
  report.line("");
  report.line(
    report.failures === 0
      ? `result: no check failed${report.warnings > 0 ? ` (${report.warnings} warning${report.warnings === 1 ? "" : "s"})` : ""}`
      : `result: ${report.failures} check${report.failures === 1 ? "" : "s"} failed`,
  );
  return report.failures === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`doctor: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
