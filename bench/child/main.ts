/**
 * The measured process (built to plain JS by bench/bundle.ts, run by bench/run.ts with the
 * deployed environment, Lambda's node flags, stdout/stderr piped and counted, and an IPC channel).
 * Modes: `warm` runs the scenarios of bench/scenarios; `profile` samples the handler alone on
 * distinct tokens; `memory` measures the heap the token cache holds.
 */
import { readFile, writeFile } from "node:fs/promises";
import { Session } from "node:inspector/promises";
import { lambdaContext, TOKEN_CACHE_VARIABLE } from "../events.js";
import { SCENARIOS } from "../scenarios/index.js";
import { keycloakClaims, signJwts } from "../tokens.js";
import { createContext, runScenario, selected } from "./harness.js";
import { isAllow, loadHandler } from "./handler.js";
import { progress, send, startMessage } from "./ipc.js";
import type { ChildStart } from "./protocol.js";

async function warm(start: ChildStart): Promise<void> {
  const scenarios = SCENARIOS.filter((s) => selected(s.name, start.only));
  for (const scenario of scenarios) await send({ type: "scenario", result: await runScenario(scenario, start) });
}

async function profile(start: ChildStart): Promise<void> {
  const request = start.profile;
  if (request === undefined) throw new Error("profile mode without a profile request");
  const ctx = createContext(start, request.tokens);
  progress(`profile: signing ${request.tokens} distinct tokens`);
  const tokens = await signJwts(
    start.realm,
    Array.from({ length: request.tokens }, () => keycloakClaims(start.realm.issuer, start.audience)),
  );
  const events = ctx.events(
    "http-v2",
    tokens.map((t) => `Bearer ${t}`),
  );
  const contexts = ctx.contexts(tokens.length);
  const { invoke } = await ctx.handler();
  const loop = async (from: number, to: number): Promise<void> => {
    for (let i = from; i < to; i += 1) {
      if (!isAllow(await invoke(events[i], contexts[i] as (typeof contexts)[number]))) throw new Error(`profile: op ${i} was not allowed`);
    }
  };
  progress(`profile: warm-up on ${request.warmup} tokens`);
  await loop(0, request.warmup);
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: request.intervalUs });
  progress(`profile: sampling every ${request.intervalUs} us over ${tokens.length - request.warmup} tokens`);
  await session.post("Profiler.start");
  const t0 = performance.now();
  await loop(request.warmup, tokens.length);
  const ms = performance.now() - t0;
  const { profile: cpuProfile } = await session.post("Profiler.stop");
  session.disconnect();
  await writeFile(request.out, JSON.stringify(cpuProfile));
  await send({ type: "profile", result: { file: request.out, ops: tokens.length - request.warmup, ms, samples: cpuProfile.samples?.length ?? 0 } });
}

async function memory(start: ChildStart): Promise<void> {
  const request = start.memory;
  const gc = (globalThis as { gc?: () => void }).gc;
  if (request === undefined || gc === undefined) throw new Error("memory mode needs a memory request and --expose-gc");
  const events = JSON.parse(await readFile(request.eventsFile, "utf8")) as string[];
  if (events.length < 1 + request.perStep * request.steps) throw new Error("memory: not enough events");
  const { invoke } = await loadHandler(start.bundleUrl, start.exportName, "handler", {}, () =>
    Promise.resolve({ event: JSON.parse(events[0] as string) as unknown, context: lambdaContext(start.lambda) }),
  );
  const heap = async (): Promise<number> => {
    for (let i = 0; i < 3; i += 1) {
      gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
    return process.memoryUsage().heapUsed;
  };
  const snapshots = [await heap()];
  const outcomes = { allowed: 0, refused: 0, failed: 0 };
  let elapsedMs = 0;
  let next = 1;
  for (let step = 1; step <= request.steps; step += 1) {
    progress(`memory (${TOKEN_CACHE_VARIABLE}=${process.env[TOKEN_CACHE_VARIABLE] ?? "unset"}): step ${step}/${request.steps}`);
    const began = performance.now();
    for (let i = 0; i < request.perStep; i += 1, next += 1) {
      if (request.opsPerSecond !== undefined) {
        const due = began + (i * 1000) / request.opsPerSecond;
        const wait = due - performance.now();
        if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
      }
      // Parsed per call, as the runtime does: the cache, not this loop, is what keeps a token alive.
      let result: unknown;
      try {
        result = await invoke(JSON.parse(events[next] as string) as unknown, lambdaContext(start.lambda));
      } catch (error) {
        if (!request.allowRefusals) throw error;
        if (error instanceof Error && error.message === "Unauthorized") outcomes.refused += 1;
        else outcomes.failed += 1;
        continue;
      }
      if (isAllow(result)) outcomes.allowed += 1;
      else if (request.allowRefusals) outcomes.refused += 1;
      else throw new Error(`memory: op ${next} was not allowed`);
    }
    elapsedMs += performance.now() - began;
    snapshots.push(await heap());
  }
  await send({
    type: "memory",
    result: {
      instance: "handler",
      tokenCacheSize: process.env[TOKEN_CACHE_VARIABLE] ?? "",
      heapBytes: snapshots,
      perStep: request.perStep,
      elapsedMs,
      outcomes,
    },
  });
}

try {
  const start = await startMessage();
  if (start.mode === "warm") await warm(start);
  else if (start.mode === "profile") await profile(start);
  else await memory(start);
  await send({ type: "done" });
  process.exit(0);
} catch (error) {
  await send({ type: "error", message: error instanceof Error ? (error.stack ?? error.message) : String(error) }).catch(() => undefined);
  process.exit(1);
}
