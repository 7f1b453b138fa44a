/**
 * `npm run bench -- --profile`: a CPU profile of the deployed handler alone on distinct tokens
 * (HTTP API events), sampled inside the measured child. The profiled bundle is the shipped one
 * byte for byte, built with an external source map, which maps every frame back to its source
 * file and line (lib/..., node_modules/...). Printed: time by the source file or package that
 * spent it (native and node-internal calls charged to their caller), the top functions by self
 * time, and the bundle's top functions by inclusive time.
 */
import { readFile } from "node:fs/promises";
import { SourceMap, type SourceMapPayload } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { bundleAuthorizer, ROOT } from "./bundle.js";
import { runChild, type BenchContext, type SuiteResult } from "./context.js";
import { figure } from "./stats.js";

const TOKENS = Number(process.env.BENCH_PROFILE_TOKENS ?? 9000);
const WARMUP = 1000;
const INTERVAL_US = 50;
const TOP = Number(process.env.BENCH_PROFILE_TOP ?? 18);

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

interface Frame {
  /** Function name (original where the source map has it). */
  readonly name: string;
  /** file:line (1-based) in the repository, or node:..., or a VM category. */
  readonly where: string;
  /** Package or source file the time belongs to. */
  readonly area: string;
  /** The source line, trimmed, for frames of the bundle. */
  readonly line?: string;
  readonly inBundle: boolean;
}

function areaOf(path: string): string {
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (modules !== null) return modules[1] as string;
  return path;
}

export function describeFrames(profile: CpuProfile, bundleUrl: string, map: SourceMap, mapDir: string, harnessUrl: string): Map<number, Frame> {
  const payload = map.payload as SourceMapPayload & { sourcesContent?: (string | null)[] };
  const frames = new Map<number, Frame>();
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber, columnNumber } = node.callFrame;
    let frame: Frame;
    if (url === bundleUrl) {
      const entry = map.findEntry(lineNumber, columnNumber) as Partial<{ originalSource: string; originalLine: number; originalColumn: number }>;
      const origin = map.findOrigin(lineNumber + 1, columnNumber + 1) as Partial<{ name: string }>;
      if (entry.originalSource === undefined) {
        frame = { name: functionName || "(anonymous)", where: `bundle:${columnNumber}`, area: "bundle (unmapped)", inBundle: true };
      } else {
        const source = entry.originalSource.startsWith("file:") ? fileURLToPath(entry.originalSource) : resolve(mapDir, entry.originalSource);
        const path = relative(ROOT, source);
        const index = payload.sources.findIndex((s) => s === entry.originalSource || resolve(mapDir, s) === source);
        const text = payload.sourcesContent?.[index]?.split("\n")[entry.originalLine ?? 0]?.trim().slice(0, 60);
        frame = {
          name: origin.name ?? (functionName || "(anonymous)"),
          where: `${path}:${(entry.originalLine ?? 0) + 1}`,
          area: areaOf(path),
          ...(text === undefined ? {} : { line: text }),
          inBundle: true,
        };
      }
    } else if (url === harnessUrl) {
      frame = { name: functionName || "(anonymous)", where: "bench harness", area: "bench harness (loop, checks)", inBundle: false };
    } else if (url.startsWith("node:")) {
      const area = url.split("/").slice(0, 3).join("/").replace(/\.js$/, "");
      frame = { name: functionName || "(anonymous)", where: `${url}:${lineNumber + 1}`, area, inBundle: false };
    } else if (url === "") {
      const vm = functionName.startsWith("(") ? functionName : "(native)";
      frame = { name: functionName || "(native)", where: vm, area: vm, inBundle: false };
    } else {
      frame = { name: functionName || "(anonymous)", where: `${url}:${lineNumber + 1}`, area: areaOf(url), inBundle: false };
    }
    frames.set(node.id, frame);
  }
  return frames;
}

interface Tally {
  frame: Frame;
  us: number;
}

export function analyse(profile: CpuProfile, frames: Map<number, Frame>) {
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<string, Tally>();
  const inclusive = new Map<string, Tally>();
  const areas = new Map<string, number>();
  /** Per area: its own self time, and the node-internal/native time its calls spent. */
  const charged = new Map<string, { own: number; callees: number }>();
  const keyOf = (f: Frame) => `${f.name} ${f.where}`;
  let total = 0;
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i += 1) {
    const next = i + 1 < timeDeltas.length ? (timeDeltas[i + 1] as number) : 0;
    const us = Math.max(0, next);
    const id = samples[i] as number;
    const frame = frames.get(id);
    if (frame === undefined || frame.name === "(idle)") continue;
    total += us;
    const key = keyOf(frame);
    self.set(key, { frame, us: (self.get(key)?.us ?? 0) + us });
    areas.set(frame.area, (areas.get(frame.area) ?? 0) + us);
    const seen = new Set<string>();
    let payer: { area: string; own: boolean } | undefined;
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const f = frames.get(at);
      if (f === undefined) continue;
      if (payer === undefined && f.inBundle) payer = { area: f.area, own: f === frame };
      const k = keyOf(f);
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, { frame: f, us: (inclusive.get(k)?.us ?? 0) + us });
    }
    // Node internals and native code are charged to the bundle code that called them.
    payer ??= { area: frame.area, own: true };
    const entry = charged.get(payer.area) ?? { own: 0, callees: 0 };
    if (payer.own) entry.own += us;
    else entry.callees += us;
    charged.set(payer.area, entry);
  }
  const sorted = (m: Map<string, Tally>) => [...m.values()].sort((a, b) => b.us - a.us);
  const byTime = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  const byTotal = [...charged].map(([area, t]) => ({ area, ...t, total: t.own + t.callees })).sort((a, b) => b.total - a.total);
  return { totalUs: total, self: sorted(self), inclusive: sorted(inclusive), areas: byTime(areas), charged: byTotal };
}

function report(result: ReturnType<typeof analyse>, header: string): string {
  const pct = (us: number) => `${((100 * us) / result.totalUs).toFixed(1).padStart(5)}%`;
  const ms = (us: number) => `${(us / 1000).toFixed(1).padStart(7)} ms`;
  const row = (t: Tally) => `  ${pct(t.us)} ${ms(t.us)}  ${t.frame.name.padEnd(28)} ${t.frame.where}${t.frame.line === undefined ? "" : `  | ${t.frame.line}`}`;
  return [
    header,
    "profile: time by the bundle's source file or package that spent it: its own code + the node internals and native calls it made",
    ...result.charged
      .slice(0, TOP)
      .map((a) => `  ${pct(a.total)} ${ms(a.total)}  = ${pct(a.own).trim().padStart(5)} own + ${pct(a.callees).trim().padStart(5)} node/native  ${a.area}`),
    `profile: top ${TOP} functions by self time`,
    ...result.self.slice(0, TOP).map(row),
    `profile: top ${TOP} functions of the bundle by inclusive time (self + callees; code after an await is not under its caller)`,
    ...result.inclusive
      .filter((t) => t.frame.inBundle)
      .slice(0, TOP)
      .map(row),
  ].join("\n");
}

export async function profileFigures(ctx: BenchContext): Promise<SuiteResult> {
  const dir = join(ctx.tmp, "profile");
  const bundle = await bundleAuthorizer(dir, { sourcemap: "external" });
  const identical = (await readFile(bundle.file)).equals(await readFile(ctx.bundle.file));
  const out = join(ctx.resultsDir, "handler.cpuprofile");
  const { messages } = await runChild(ctx, {
    mode: "profile",
    bundleUrl: bundle.url,
    profile: { tokens: TOKENS, warmup: WARMUP, intervalUs: INTERVAL_US, out },
  });
  const done = messages.find((m) => m.type === "profile");
  if (done?.type !== "profile") throw new Error("profile child sent no result");
  const profile = JSON.parse(await readFile(out, "utf8")) as CpuProfile;
  const map = new SourceMap(JSON.parse(await readFile(`${bundle.file}.map`, "utf8")) as SourceMapPayload);
  const frames = describeFrames(profile, bundle.url, map, dirname(bundle.file), pathToFileURL(ctx.childScript).href);
  const result = analyse(profile, frames);
  const usPerOp = (done.result.ms * 1000) / done.result.ops;
  const header = [
    `profile: the deployed handler alone, ${done.result.ops} distinct tokens on HTTP API events after ${WARMUP} warm-up, sampled every ${INTERVAL_US} us`,
    `profile: ${(result.totalUs / 1000).toFixed(0)} ms sampled (${done.result.samples} samples), ${usPerOp.toFixed(1)} us/op under the profiler; ${relative(ROOT, out)}${identical ? "" : " (WARNING: the profiled bundle differs from the shipped one)"}`,
  ].join("\n");
  return {
    figures: [
      figure({ name: "profile.handler", unit: "us/op", runs: [usPerOp], about: "the handler alone under the sampling profiler (slower than unprofiled)" }),
    ],
    details: {
      file: out,
      identicalToShipped: identical,
      areas: result.areas.map(([area, us]) => ({ area, ms: us / 1000, share: us / result.totalUs })),
      charged: result.charged.map((a) => ({
        area: a.area,
        ms: a.total / 1000,
        ownMs: a.own / 1000,
        nodeAndNativeMs: a.callees / 1000,
        share: a.total / result.totalUs,
      })),
      self: result.self.slice(0, 40).map((t) => ({ ...t.frame, ms: t.us / 1000, share: t.us / result.totalUs })),
      inclusive: result.inclusive
        .filter((t) => t.frame.inBundle)
        .slice(0, 40)
        .map((t) => ({ ...t.frame, ms: t.us / 1000, share: t.us / result.totalUs })),
    },
    report: report(result, header),
  };
}
