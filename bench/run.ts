/**
 * `npm run bench`: performance figures for issue 8. Not a test: it asserts nothing, it measures.
 * Each figure is the median of RUNS runs, next to a baseline measured in the same process and run,
 * printed as `name value unit baseline ratio` and written to bench/results/latest.json.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { arch, cpus, platform, release, totalmem } from "node:os";
import { formatLine, progress, type Figure } from "./stats.js";
import { coldFigures } from "./cold.js";
import { offlineFigures } from "./offline.js";
import { warmFigures } from "./warm.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const only = new Set((process.env.BENCH_ONLY ?? "warm,cold,offline").split(",").map((s) => s.trim()));

const started = performance.now();
const figures: Figure[] = [];
const emit = (batch: Figure[]): void => {
  for (const f of batch) {
    figures.push(f);
    process.stdout.write(`${formatLine(f)}\n`);
  }
};

if (only.has("warm")) emit(await warmFigures(RUNS));
if (only.has("cold")) emit(await coldFigures(RUNS));
if (only.has("offline")) emit(await offlineFigures(RUNS));

const machine = {
  node: process.version,
  platform: `${platform()} ${release()} ${arch()}`,
  cpus: `${cpus().length} x ${cpus()[0]?.model ?? "?"}`,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
};
await mkdir(new URL("results/", import.meta.url), { recursive: true });
await writeFile(
  new URL("results/latest.json", import.meta.url),
  `${JSON.stringify({ date: new Date().toISOString(), runs: RUNS, machine, seconds: (performance.now() - started) / 1000, figures }, null, 2)}\n`,
);
progress(`done in ${((performance.now() - started) / 1000).toFixed(1)} s on ${machine.cpus}, node ${machine.node}`);
