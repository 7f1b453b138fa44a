/**
 * `npm run bench`: performance of what ships. The authorizer bundle (functions/authorizer.ts
 * built as `serverless package` builds it) runs in child processes with the deployed stage's
 * environment, Lambda's node flags and stdout/stderr piped and drained, next to raw
 * crypto.verify, aws-jwt-verify, fast-jwt and jose on the same tokens. Not a test: it measures.
 *
 *   npm run bench                      warm scenarios, cold start, cold burst, token-cache memory
 *   npm run bench -- --profile         CPU profile of the handler (or BENCH_PROFILE=1)
 *   BENCH_ONLY=distinct,cold           suites (warm cold burst memory realms introspection profile offline) or warm scenarios by name prefix
 *   BENCH_RUNS=7                       measured rounds per figure (medians)
 *   BENCH_STAGE=prod                   the serverless.yml stage whose environment is measured
 *
 * stdout: a header, one line per figure (bench/stats.ts), the profile report; progress on stderr.
 * Everything, every run included, also goes to bench/results/latest.json (gitignored).
 */
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { arch, cpus, loadavg, platform, release, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleAuthorizer, buildChildScript, ROOT } from "./bundle.js";
import { coldFigures } from "./cold.js";
import type { BenchContext, SuiteResult } from "./context.js";
import { introspectionFigures } from "./introspection.js";
import { deployedAuthorizer } from "./deployed-env.js";
import { TOKEN_CACHE_SIZE_WHEN_OFF, TOKEN_CACHE_VARIABLE } from "./events.js";
import { startRevocationStore } from "../local/revocation-store.js";
import { startIdp } from "./idp.js";
import { memoryFigures } from "./memory.js";
import { realmFigures } from "./realms.js";
import { offlineFigures } from "./offline.js";
import { profileFigures } from "./profile.js";
import { SCENARIOS } from "./scenarios/index.js";
import { formatHeader, formatLine, progress, type Figure } from "./stats.js";
import { warmFigures } from "./warm.js";

const SUITES = ["warm", "cold", "burst", "memory", "realms", "introspection", "profile", "offline"] as const;
type Suite = (typeof SUITES)[number];
const DEFAULT_SUITES: readonly Suite[] = ["warm", "cold", "burst", "memory", "realms", "introspection"];

const args = process.argv.slice(2);
const profileFlag = args.includes("--profile") || process.env.BENCH_PROFILE === "1";
const unknownArgs = args.filter((a) => a !== "--profile");
if (unknownArgs.length > 0) throw new Error(`npm run bench: unknown argument(s) ${unknownArgs.join(" ")} (only --profile)`);

const runs = Number(process.env.BENCH_RUNS ?? 7);
if (!Number.isInteger(runs) || runs < 1) throw new Error("BENCH_RUNS must be a whole number >= 1");

const selectors = process.env.BENCH_ONLY?.split(",")
  .map((s) => s.trim())
  .filter(Boolean);
const suites = new Set<Suite>(selectors === undefined ? (profileFlag ? ["profile"] : DEFAULT_SUITES) : []);
const scenarioSelectors: string[] = [];
for (const s of selectors ?? []) {
  if ((SUITES as readonly string[]).includes(s)) suites.add(s as Suite);
  else if (SCENARIOS.some((scenario) => scenario.name === s || scenario.name.startsWith(`${s}.`))) scenarioSelectors.push(s);
  else throw new Error(`BENCH_ONLY: "${s}" is neither a suite (${SUITES.join(", ")}) nor a scenario (${SCENARIOS.map((x) => x.name).join(", ")})`);
}
if (scenarioSelectors.length > 0 && !suites.has("warm")) suites.add("warm");
if (profileFlag) suites.add("profile");
const only = suites.has("warm") && scenarioSelectors.length > 0 && !selectors?.includes("warm") ? scenarioSelectors : undefined;

function git(...gitArgs: string[]): string {
  try {
    return execFileSync("git", gitArgs, { cwd: ROOT, stdio: ["ignore", "pipe", "ignore"] })
      .toString()
      .trim();
  } catch {
    return "?";
  }
}

const started = performance.now();
const date = new Date().toISOString();
const machine = {
  cpus: `${cpus().length} x ${cpus()[0]?.model.trim() ?? "?"}`,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  os: `${platform()} ${release()} ${arch()}`,
  node: process.version,
};
const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");
const loadAtStart = load();
const commit = `${git("rev-parse", "--short", "HEAD")}${git("status", "--porcelain", "--untracked-files=no", "--", "functions", "lib", "serverless.yml", "package-lock.json") === "" ? "" : "+uncommitted"}`;
const benchEnv = Object.entries(process.env)
  .filter(([k]) => k.startsWith("BENCH_"))
  .map(([k, v]) => `${k}=${v ?? ""}`);
const command = `${benchEnv.length > 0 ? `${benchEnv.join(" ")} ` : ""}npm run bench${args.length > 0 ? ` -- ${args.join(" ")}` : ""}`;

const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

const tmp = await mkdtemp(join(tmpdir(), "kc-bench-"));
const resultsDir = fileURLToPath(new URL("results/", import.meta.url));
await mkdir(resultsDir, { recursive: true });
const idp = await startIdp();
// The revocation scenarios' DynamoDB-compatible store, in this process (a store read is a network
// wait for the measured Lambda, not its CPU).
const revocation = await startRevocationStore({ table: "bench-revocations" });
const results: Partial<Record<Suite, SuiteResult>> = {};
const figures: Figure[] = [];
try {
  progress("bundling functions/authorizer.ts with serverless.yml's custom.esbuild options");
  const [bundle, fullBundle, childScript] = await Promise.all([
    bundleAuthorizer(join(tmp, "bundle")),
    bundleAuthorizer(join(tmp, "bundle"), { variant: "full" }),
    buildChildScript(),
  ]);
  // The AWS SDK, as the Lambda runtime provides it to the bundle (which excludes it): only
  // @aws-sdk/*, so anything else the bundle failed to include still fails here as on Lambda.
  await mkdir(join(tmp, "bundle", "node_modules"), { recursive: true });
  await symlink(join(ROOT, "node_modules", "@aws-sdk"), join(tmp, "bundle", "node_modules", "@aws-sdk"), "dir");
  const realm = idp.realm("bench");
  const deployed = await deployedAuthorizer(realm.issuer);
  const audience = (deployed.functionEnv.KEYCLOAK_AUDIENCE ?? "").split(",")[0]?.trim() || "secured-api";
  // Unset or empty: the product's own default, which the bench cannot read without lib/; taken as on.
  const cacheSetting = deployed.functionEnv[TOKEN_CACHE_VARIABLE];
  const tokenCacheSize = cacheSetting === undefined || cacheSetting === "" ? TOKEN_CACHE_SIZE_WHEN_OFF : Number(cacheSetting);
  const fnTimeout = 10;
  const ctx: BenchContext = {
    runs,
    only,
    bundle,
    fullBundle,
    childScript,
    deployed,
    idp,
    realm,
    audience,
    lambda: { functionName: deployed.functionName, region: deployed.region, memoryMb: deployed.memoryMb, timeoutSeconds: fnTimeout },
    tokenCacheSize,
    revocation,
    tmp,
    resultsDir,
  };

  const shownEnv = Object.entries(deployed.functionEnv)
    .filter(([k, v]) => v !== "" && k !== "KEYCLOAK_ISSUER")
    .map(([k, v]) => `${k}=${v}`);
  out(`# ${command}`);
  out(`# ${date}  commit ${commit} (${git("rev-parse", "--abbrev-ref", "HEAD")})`);
  out(`# machine: ${machine.cpus}, ${machine.memoryGiB} GiB, ${machine.os}, node ${machine.node}; load average ${loadAtStart} at start`);
  out(
    `# measured: ${bundle.entry} (export ${bundle.exportName}) bundled as serverless package does (${(bundle.bytes / 1024).toFixed(1)} KB, ${deployed.runtime} ${deployed.memoryMb} MB), stage ${deployed.stage} environment:`,
  );
  out(`#   ${shownEnv.join(" ")}`);
  out(`#   KEYCLOAK_ISSUER=${realm.issuer} (local realm server), node ${deployed.nodeFlags.join(" ")}`);
  out(`#   stdout/stderr piped and drained by the bench; ${runs} measured rounds per figure, alternating contenders; values are medians`);
  out(`# suites: ${[...suites].join(", ")}${only === undefined ? "" : ` (scenarios: ${only.join(", ")})`}`);
  out(formatHeader());

  const emit = (suite: Suite, result: SuiteResult): void => {
    results[suite] = result;
    for (const f of result.figures) {
      figures.push(f);
      out(formatLine(f));
    }
  };
  if (suites.has("warm")) emit("warm", await warmFigures(ctx));
  if (suites.has("cold") || suites.has("burst")) {
    const cold = await coldFigures(ctx, { cold: suites.has("cold"), burst: suites.has("burst") });
    emit(suites.has("cold") ? "cold" : "burst", cold);
  }
  if (suites.has("memory")) emit("memory", await memoryFigures(ctx));
  if (suites.has("realms")) emit("realms", await realmFigures(ctx));
  if (suites.has("introspection")) emit("introspection", await introspectionFigures(ctx));
  if (suites.has("offline")) emit("offline", await offlineFigures(ctx));
  if (suites.has("profile")) {
    const profile = await profileFigures(ctx);
    emit("profile", profile);
    if (profile.report !== undefined) out(profile.report);
  }

  const targeted = figures.filter((f) => f.target !== undefined);
  const missed = targeted.filter((f) => f.met !== true && f.target?.stretch !== true);
  const stretchMissed = targeted.filter((f) => f.met !== true && f.target?.stretch === true);
  const seconds = (performance.now() - started) / 1000;
  out(
    `# targets: ${targeted.length - missed.length - stretchMissed.length} met, ${missed.length} missed${missed.length > 0 ? ` (${missed.map((f) => f.name).join(", ")})` : ""}` +
      `${stretchMissed.length > 0 ? `, stretch missed: ${stretchMissed.map((f) => f.name).join(", ")}` : ""}`,
  );
  out(`# ${seconds.toFixed(0)} s; load average ${load()} at the end`);
  await writeFile(
    join(resultsDir, "latest.json"),
    `${JSON.stringify(
      {
        command,
        date,
        commit,
        machine,
        loadAverage: { start: loadAtStart, end: load() },
        seconds,
        runs,
        suites: [...suites],
        stage: deployed.stage,
        functionEnv: deployed.functionEnv,
        env: deployed.env,
        nodeFlags: deployed.nodeFlags,
        bundle: { bytes: bundle.bytes, options: bundle.options },
        figures,
        details: Object.fromEntries(Object.entries(results).map(([k, v]) => [k, v.details ?? {}])),
      },
      null,
      2,
    )}\n`,
  );
  progress(`results: ${join(resultsDir, "latest.json")}`);
} finally {
  await revocation.close();
  await idp.close();
  await rm(tmp, { recursive: true, force: true });
}
