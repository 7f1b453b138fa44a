/**
 * Warm figures: the scenarios of bench/scenarios, all in one measured child (the deployed
 * handler and the baselines side by side, alternating rounds), and the bytes the handler wrote to
 * its stdout/stderr pipes per request in each of them.
 */
import type { ScenarioResult } from "./child/protocol.js";
import { runChild, type BenchContext, type SuiteResult } from "./context.js";
import { figure, type Figure } from "./stats.js";

export async function warmFigures(ctx: BenchContext): Promise<SuiteResult> {
  const { messages, process: child } = await runChild(ctx, { mode: "warm" });
  const scenarios = messages.flatMap((m) => (m.type === "scenario" ? [m.result] : []));
  const figures: Figure[] = [];
  const output: Record<string, { stdoutPerRequest: number; stderrPerRequest: number; sample: string }> = {};
  const congestion: Record<string, { rounds: number; congested: number; used: "clean rounds" | "all rounds" }> = {};
  for (const scenario of scenarios) {
    // Rounds in which the stdout pipe filled up are left out (all contenders alike, to keep the
    // pairing), unless that would leave none.
    const first = scenario.contenders[0]?.runs.filter((r) => !r.warmup) ?? [];
    const congestedRounds = new Set(first.filter((r) => r.congestedChunks > 0).map((r) => r.round));
    const useAll = congestedRounds.size === first.length;
    congestion[scenario.name] = { rounds: first.length, congested: congestedRounds.size, used: useAll ? "all rounds" : "clean rounds" };
    const keep = (r: { warmup: boolean; round: number }) => !r.warmup && (useAll || !congestedRounds.has(r.round));
    const measured = (name: string) => scenario.contenders.find((c) => c.name === name)?.runs.filter(keep) ?? [];
    for (const spec of scenario.figures) {
      const runs = measured(spec.contender);
      figures.push(
        figure({
          name: `${scenario.name}.${spec.contender}${spec.baseline === undefined ? "" : `/${spec.baseline}`}`,
          unit: "us/op",
          runs: runs.map((r) => r.usPerOp),
          ...(spec.baseline === undefined ? {} : { baselineRuns: measured(spec.baseline).map((r) => r.usPerOp) }),
          ...(spec.target === undefined ? {} : { target: spec.target }),
          about: spec.about ?? scenario.description,
        }),
      );
    }
    for (const contender of scenario.contenders.filter((c) => c.output)) {
      const runs = contender.runs.filter(keep);
      const perRequest = runs.map((r) => {
        const segment = child.segments.get(r.segment);
        return segment === undefined ? Number.NaN : (segment.stdout + segment.stderr) / r.ops;
      });
      const name = `bytes.${scenario.name}.${contender.name}`;
      figures.push(
        figure({
          name,
          unit: "B/req",
          runs: perRequest,
          ...(contender.bytesTarget === undefined ? {} : { target: contender.bytesTarget }),
          about: `bytes written to stdout+stderr per request: ${scenario.description}`,
        }),
      );
      const first = runs[0] === undefined ? undefined : child.segments.get(runs[0].segment);
      const ops = runs.reduce((sum, r) => sum + r.ops, 0);
      const total = runs
        .map((r) => child.segments.get(r.segment))
        .reduce((sum, s) => ({ stdout: sum.stdout + (s?.stdout ?? 0), stderr: sum.stderr + (s?.stderr ?? 0) }), { stdout: 0, stderr: 0 });
      output[name] = { stdoutPerRequest: total.stdout / ops, stderrPerRequest: total.stderr / ops, sample: first?.sample ?? "" };
    }
  }
  // Revocation (issue 21): at most one store read per session per cache period per instance. Every
  // token is its own session (a fresh sid); revocation.repeated uses 100 for its whole run.
  const revocationOps = scenarios
    .filter((s) => s.name.startsWith("revocation."))
    .flatMap((s) =>
      (s.contenders.find((c) => c.name === "handler.revocation")?.runs ?? []).map((r) =>
        s.name === "revocation.repeated" ? (r.round === 0 ? 100 : 0) : r.ops,
      ),
    )
    .reduce((sum, sessions) => sum + sessions, 0);
  if (revocationOps > 0) {
    figures.push(
      figure({
        name: "revocation.store-reads/sessions",
        unit: "count",
        runs: [ctx.revocation.count("BatchGetItem")],
        baselineRuns: [revocationOps + 1],
        target: { on: "ratio", op: "<=", limit: 1 },
        about: "store reads (BatchGetItem at the local store) against the sessions the revocation scenarios used (+1: the instance's first request)",
      }),
    );
  }
  const congested = Object.values(congestion).reduce((sum, c) => sum + c.congested, 0);
  figures.push(
    figure({
      name: "warm.congested-rounds",
      unit: "count",
      runs: [congested],
      target: { on: "value", op: "==", limit: 0 },
      about:
        "measured rounds in which the bench fell behind draining stdout (pipe full, writes deferred): left out of the medians; non-zero means the machine was too busy",
    }),
  );
  const handlerOps = scenarios.flatMap((s) => s.contenders.filter((c) => c.output).flatMap((c) => c.runs)).reduce((sum, r) => sum + r.ops, 0);
  figures.push(
    figure({
      name: "bytes.outside-runs",
      unit: "B",
      runs: [child.outside.stdout + child.outside.stderr],
      about: `bytes the warm child wrote outside every timed chunk (handler inits, key fetches, output deferred to timers), over ${handlerOps} handler requests`,
    }),
  );
  return {
    figures,
    details: {
      scenarios: scenarios satisfies ScenarioResult[],
      output,
      outsideSegments: child.outside,
      congestion,
    },
  };
}
