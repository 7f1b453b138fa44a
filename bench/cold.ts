/**
 * Cold start and cold burst: each run a fresh `node` (Lambda's flags, the deployed environment,
 * stdout/stderr piped and drained) importing the bundle, against a bare `node -e ""` run in the
 * same round. Keys come from the local realm server, whose counters say how often they were fetched.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { BenchContext, SuiteResult } from "./context.js";
import { eventJson, lambdaContext } from "./events.js";
import { runMeasured } from "./measured-process.js";
import { figure, percentile, progress, type Figure } from "./stats.js";
import { validTokens } from "./tokens.js";

const BURST = 200;

/** Shared by the cold scripts: the Lambda context from plain fields, and a wait for the realm's keys to be served. */
const PRELUDE = `
import { readFileSync, writeSync } from "node:fs";
const [url, payloadFile] = process.argv.slice(1);
const payload = JSON.parse(readFileSync(payloadFile, "utf8"));
const context = (fields) => ({ ...fields, getRemainingTimeInMillis: () => 10000, done() {}, fail() {}, succeed() {} });
const cpuMs = () => { const { user, system } = process.cpuUsage(); return (user + system) / 1000; };
const report = (value) => writeSync(3, JSON.stringify({ ...value, cpuMs: cpuMs() }));
const allowed = (r) => r !== null && typeof r === "object" && r.isAuthorized === true;
// node:http only where it is needed (after-init), so the bare script loads no more than node itself.
const jwksServed = async () => { const { get } = await import("node:http"); return new Promise((resolve, reject) => {
  get(payload.statsUrl, (res) => { let body = ""; res.on("data", (c) => (body += c)); res.on("end", () => resolve(JSON.parse(body)[payload.realm]?.jwks ?? 0)); }).on("error", reject);
}); };
`;

/** One cold start: import, then (unless mode is "import") the first answer, immediately or once init's key prefetch is done. */
const FIRST = `${PRELUDE}
if (payload.mode === "bare") { report({}); process.exit(0); }
const t0 = performance.now();
const handler = (await import(url))[payload.exportName];
const importMs = performance.now() - t0;
if (payload.mode === "import") { report({ importMs }); process.exit(0); }
let waitedMs = 0;
if (payload.mode === "after-init") {
  const w0 = performance.now();
  while ((await jwksServed()) <= payload.jwksBefore) {
    if (performance.now() - w0 > 5000) throw new Error("the keys were never fetched during init");
    await new Promise((r) => setTimeout(r, 2));
  }
  await new Promise((r) => setTimeout(r, 20));
  waitedMs = performance.now() - w0;
}
const a0 = performance.now();
const result = await handler(payload.event, context(payload.context));
const answerMs = performance.now() - a0;
if (!allowed(result)) { report({ error: result }); process.exit(1); }
report({ importMs, answerMs, waitedMs, sinceStartMs: performance.now() });
process.exit(0);
`;

/** BURST concurrent first invocations of a freshly imported handler, then BURST more once warm (other tokens). */
const BURST_SCRIPT = `${PRELUDE}
const handler = (await import(url))[payload.exportName];
const burst = async (events) => {
  const start = performance.now();
  return Promise.all(events.map(async (event, i) => {
    const result = await handler(event, context({ ...payload.context, awsRequestId: payload.context.awsRequestId + "-" + i }));
    if (!allowed(result)) throw new Error("refused: " + JSON.stringify(result).slice(0, 200));
    return performance.now() - start;
  }));
};
const cold = await burst(payload.cold);
const warm = await burst(payload.warm);
report({ cold, warm });
process.exit(0);
`;

interface FirstReport {
  /** The process's CPU time (user + system) since it started, when it reported. */
  cpuMs: number;
  importMs?: number;
  answerMs?: number;
  waitedMs?: number;
  error?: unknown;
}

export async function coldFigures(ctx: BenchContext, parts: { cold: boolean; burst: boolean }): Promise<SuiteResult> {
  const figures: Figure[] = [];
  const details: Record<string, unknown> = {};
  const { deployed, realm, idp } = ctx;
  const spawnOptions = { env: deployed.env, nodeFlags: deployed.nodeFlags, fd3: true };
  const statsUrl = `${idp.origin}/__bench/stats`;
  const scriptArgs = (script: string, payloadFile: string) => ["--input-type=module", "-e", script, ctx.bundle.url, payloadFile];

  if (parts.cold) {
    figures.push(
      figure({
        name: "cold.bundle-size",
        unit: "KB",
        runs: [ctx.bundle.bytes / 1024],
        target: { on: "value", op: "<", limit: 100 },
        about: "the authorizer bundle as serverless package builds it",
      }),
    );
    // "bare" is the same script and payload, exiting before it imports the bundle (the baseline);
    // "node-e" is a plain `node -e ""`, printed for reference.
    const modes = ["node-e", "bare", "import", "first", "after-init"] as const;
    const wall: Record<(typeof modes)[number], number[]> = { "node-e": [], bare: [], import: [], first: [], "after-init": [] };
    const inProcess = { importMs: [] as number[], firstAnswerMs: [] as number[], afterInitAnswerMs: [] as number[], waitedMs: [] as number[] };
    const fetches = { discovery: [] as number[], jwks: [] as number[] };
    const outputBytes: number[] = [];
    const cpu = { bare: [] as number[], import: [] as number[], first: [] as number[], "after-init": [] as number[] };
    // Process start-up times are noisy and cheap to repeat: twice the rounds of the other figures.
    const coldRuns = 2 * ctx.runs;
    for (let run = 0; run <= coldRuns; run += 1) {
      progress(`cold start run ${run}/${coldRuns}${run === 0 ? " (warm-up, discarded)" : ""}`);
      for (let j = 0; j < modes.length; j += 1) {
        const mode = modes[(run + j) % modes.length] as (typeof modes)[number];
        if (mode === "node-e") {
          const { ms } = await runMeasured(["-e", ""], spawnOptions);
          if (run > 0) wall["node-e"].push(ms);
          continue;
        }
        // A realm of its own per process (same keys): its counters are this cold start's fetches only,
        // even if a killed process's prefetch reaches the server late.
        const own = idp.realm(`cold-${run}-${mode}`, { shareKeyWith: realm.realm });
        const [token] = await validTokens(own, ctx.audience, 1);
        const payloadFile = join(ctx.tmp, `cold-${mode}.json`);
        const event = JSON.parse(eventJson("http-v2", `Bearer ${token as string}`)) as unknown;
        await writeFile(
          payloadFile,
          JSON.stringify({ mode, exportName: ctx.bundle.exportName, event, context: lambdaContext(ctx.lambda), statsUrl, realm: own.realm, jwksBefore: 0 }),
        );
        const { ms, fd3, output } = await runMeasured(scriptArgs(FIRST, payloadFile), {
          ...spawnOptions,
          env: { ...deployed.env, KEYCLOAK_ISSUER: own.issuer },
        });
        const after = idp.counts(own.realm);
        const result = JSON.parse(fd3) as FirstReport;
        if (result.error !== undefined) throw new Error(`cold start (${mode}) was refused: ${JSON.stringify(result.error)}`);
        if (run === 0) continue;
        wall[mode].push(ms);
        cpu[mode].push(result.cpuMs);
        if (mode === "bare") continue;
        if (mode === "import") inProcess.importMs.push(result.importMs ?? Number.NaN);
        if (mode === "first") {
          inProcess.firstAnswerMs.push(result.answerMs ?? Number.NaN);
          fetches.discovery.push(after.discovery);
          fetches.jwks.push(after.jwks);
          outputBytes.push(output.stdout + output.stderr);
        }
        if (mode === "after-init") {
          inProcess.afterInitAnswerMs.push(result.answerMs ?? Number.NaN);
          inProcess.waitedMs.push(result.waitedMs ?? Number.NaN);
        }
      }
    }
    const above = (runs: number[], base: number[] = wall.bare) => runs.map((ms, i) => ms - (base[i] as number));
    figures.push(
      figure({ name: "cold.node-e", unit: "ms", runs: wall["node-e"], about: "wall time of node -e '' (same flags and environment)" }),
      figure({
        name: "cold.node-bare",
        unit: "ms",
        runs: wall.bare,
        about: "wall time of the cold-start script (ESM, reads its payload) exiting before it imports the bundle: the baseline below",
      }),
      figure({
        name: "cold.import/node-bare",
        unit: "ms",
        runs: above(wall.import),
        baselineRuns: wall.bare,
        about: "wall time above cold.node-bare: import the bundle, exit",
      }),
      figure({
        name: "cold.first-answer/node-bare",
        unit: "ms",
        runs: above(wall.first),
        baselineRuns: wall.bare,
        about: "wall time above cold.node-bare: import, first answer (discovery and JWKS from the local server), exit",
      }),
      figure({
        name: "cold.import.cpu/node-bare.cpu",
        unit: "ms",
        runs: above(cpu.import, cpu.bare),
        baselineRuns: cpu.bare,
        about: "CPU time (user+system) above the bare script's: import the bundle (steadier than wall time on a busy machine)",
      }),
      figure({
        name: "cold.first-answer.cpu/node-bare.cpu",
        unit: "ms",
        runs: above(cpu.first, cpu.bare),
        baselineRuns: cpu.bare,
        about: "CPU time above the bare script's: import and first answer",
      }),
      figure({ name: "cold.import.in-process", unit: "ms", runs: inProcess.importMs, about: "await import(bundle), timed inside the process" }),
      figure({
        name: "cold.first-answer.latency",
        unit: "ms",
        runs: inProcess.firstAnswerMs,
        about: "first invocation right after import (init's key prefetch still in flight)",
      }),
      figure({
        name: "cold.first-answer.after-init/first-answer.latency",
        unit: "ms",
        runs: inProcess.afterInitAnswerMs,
        baselineRuns: inProcess.firstAnswerMs,
        about: "first invocation once init's key prefetch has completed, against one arriving right after import: what the prefetch buys",
      }),
      figure({
        name: "cold.fetches.discovery",
        unit: "count",
        runs: fetches.discovery,
        aggregate: "max",
        about: "discovery requests per cold start and first answer (largest of the runs)",
      }),
      figure({
        name: "cold.fetches.jwks",
        unit: "count",
        runs: fetches.jwks,
        aggregate: "max",
        about: "JWKS requests per cold start and first answer (largest of the runs)",
      }),
      figure({ name: "cold.output-bytes", unit: "B", runs: outputBytes, about: "bytes written to stdout+stderr by init and the first answer" }),
    );
    details.cold = { wall, cpu, inProcess, fetches, outputBytes };
  }

  if (parts.burst) {
    progress(`cold burst: signing ${2 * BURST} tokens`);
    const tokens = await validTokens(realm, ctx.audience, 2 * BURST);
    const events = tokens.map((t) => JSON.parse(eventJson("http-v2", `Bearer ${t}`)) as unknown);
    const payloadFile = join(ctx.tmp, "burst.json");
    await writeFile(
      payloadFile,
      JSON.stringify({
        exportName: ctx.bundle.exportName,
        cold: events.slice(0, BURST),
        warm: events.slice(BURST),
        context: lambdaContext(ctx.lambda),
        statsUrl,
        realm: realm.realm,
      }),
    );
    const counts = { discovery: [] as number[], jwks: [] as number[] };
    const p50: number[] = [];
    const p99: number[] = [];
    const warmP50: number[] = [];
    const warmP99: number[] = [];
    for (let run = 1; run <= ctx.runs; run += 1) {
      progress(`cold burst run ${run}/${ctx.runs}`);
      const before = idp.counts(realm.realm);
      const { fd3 } = await runMeasured(scriptArgs(BURST_SCRIPT, payloadFile), spawnOptions);
      const after = idp.counts(realm.realm);
      const { cold, warm } = JSON.parse(fd3) as { cold: number[]; warm: number[] };
      counts.discovery.push(after.discovery - before.discovery);
      counts.jwks.push(after.jwks - before.jwks);
      p50.push(percentile(cold, 50));
      p99.push(percentile(cold, 99));
      warmP50.push(percentile(warm, 50));
      warmP99.push(percentile(warm, 99));
    }
    const once = { on: "value", op: "==", limit: 1 } as const;
    figures.push(
      figure({
        name: "burst.fetches.discovery",
        unit: "count",
        runs: counts.discovery,
        aggregate: "max",
        target: once,
        about: `discovery requests for ${BURST} concurrent first invocations (largest of the runs)`,
      }),
      figure({
        name: "burst.fetches.jwks",
        unit: "count",
        runs: counts.jwks,
        aggregate: "max",
        target: once,
        about: `JWKS requests for ${BURST} concurrent first invocations (largest of the runs)`,
      }),
      figure({
        name: "burst.cold-p50/warm-p50",
        unit: "ms",
        runs: p50,
        baselineRuns: warmP50,
        about: `median latency of ${BURST} concurrent first invocations against the same process's next ${BURST}`,
      }),
      figure({
        name: "burst.cold-p99/warm-p99",
        unit: "ms",
        runs: p99,
        baselineRuns: warmP99,
        about: `p99 latency of ${BURST} concurrent first invocations against the same process's next ${BURST}`,
      }),
    );
    details.burst = { counts, p50, p99, warmP50, warmP99 };
  }
  return { figures, details };
}
