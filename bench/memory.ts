/**
 * The token cache's memory bound: the heap (after full GCs) a measured child holds after N, 2N and
 * 3N distinct allowed requests, N being the cache size, with the cache on and with it off (same
 * events, same bundle). Their difference is what the cache keeps; if it is bounded, 3N holds no
 * more than N.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { MemoryResult } from "./child/protocol.js";
import { runChild, type BenchContext, type SuiteResult } from "./context.js";
import { eventJson, TOKEN_CACHE_SIZE_WHEN_OFF, TOKEN_CACHE_VARIABLE } from "./events.js";
import { figure, progress } from "./stats.js";
import { validTokens } from "./tokens.js";

const STEPS = 3;

export async function memoryFigures(ctx: BenchContext): Promise<SuiteResult> {
  const size = ctx.tokenCacheSize > 0 ? ctx.tokenCacheSize : TOKEN_CACHE_SIZE_WHEN_OFF;
  const count = 1 + STEPS * size;
  progress(`memory: signing ${count} tokens`);
  const tokens = await validTokens(ctx.realm, ctx.audience, count);
  const eventsFile = join(ctx.tmp, "memory-events.json");
  await writeFile(eventsFile, JSON.stringify(tokens.map((t) => eventJson("http-v2", `Bearer ${t}`))));
  const runs = Math.min(ctx.runs, 3);
  const on: MemoryResult[] = [];
  const off: MemoryResult[] = [];
  for (let run = 1; run <= runs; run += 1) {
    for (const [label, cacheSize, into] of [
      ["on", String(size), on],
      ["off", "0", off],
    ] as const) {
      progress(`memory run ${run}/${runs}: token cache ${label}`);
      const { messages } = await runChild(ctx, { mode: "memory", memory: { eventsFile, perStep: size, steps: STEPS } }, { [TOKEN_CACHE_VARIABLE]: cacheSize });
      const result = messages.find((m) => m.type === "memory");
      if (result?.type !== "memory") throw new Error("memory child sent no result");
      into.push(result.result);
    }
  }
  const retained = (r: MemoryResult, step: number) => ((r.heapBytes[step] as number) - (r.heapBytes[0] as number)) / 1024;
  const held = (step: number) => on.map((r, i) => retained(r, step) - retained(off[i] as MemoryResult, step));
  const full = held(1);
  return {
    figures: [
      figure({
        name: "memory.token-cache.full",
        unit: "KB",
        runs: full,
        about: `heap the cache holds once full (${size} entries): cache on minus cache off, after ${size} distinct requests`,
      }),
      figure({ name: "memory.token-cache.per-entry", unit: "B/entry", runs: full.map((kb) => (kb * 1024) / size), about: "the full cache's heap per entry" }),
      figure({
        name: `memory.token-cache.after-${STEPS}x/full`,
        unit: "KB",
        runs: held(STEPS),
        baselineRuns: full,
        about: `the same after ${STEPS * size} distinct requests: ratio 1 means bounded`,
      }),
      figure({
        name: `memory.cache-off.after-${STEPS}x/after-1x`,
        unit: "KB",
        runs: off.map((r) => retained(r, STEPS)),
        baselineRuns: off.map((r) => retained(r, 1)),
        about: "heap retained by the handler with the cache off, after 3N against after N requests (nothing else should grow)",
      }),
    ],
    details: { size, steps: STEPS, on, off },
  };
}
