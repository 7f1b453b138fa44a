/**
 * The scenario runner of the measured child. A scenario (one file in bench/scenarios/) sets up
 * its contenders and names its figures; the runner times them in rounds: every round runs every
 * contender on that round's slice of op indexes, interleaved in small chunks (ABC, BCA, CAB...),
 * so drift and neighbours' load spread over all of them alike; a round's time for a contender is
 * the sum of its chunks. The first `warmupRuns` rounds are discarded. Around each chunk it
 * writes output markers, so the bench counts what each contender wrote to stdout and stderr.
 */
import { randomUUID } from "node:crypto";
import {
  eventJson,
  lambdaContext,
  TOKEN_CACHE_SIZE_WHEN_OFF,
  TOKEN_CACHE_VARIABLE,
  type EventKind,
  type LambdaContext,
  type LambdaIdentity,
} from "../events.js";
import { keycloakClaims, signJwts, type RealmKey } from "../tokens.js";
import type { Contender, RequestSource } from "./contenders.js";
import { loadHandler, type HandlerInstance } from "./handler.js";
import { progress, requestRealm } from "./ipc.js";
import type { ChildStart, FigureSpec, RunResult, ScenarioResult } from "./protocol.js";

export interface ScenarioPlan {
  readonly contenders: readonly Contender[];
  readonly figures: readonly FigureSpec[];
}

export interface Scenario {
  /** Dotted, e.g. `distinct.http`; BENCH_ONLY selects by prefix. */
  readonly name: string;
  readonly description: string;
  /** Op indexes per run; each contender handles that many per round. */
  readonly opsPerRun: number;
  /** Rounds run first and discarded (JIT warm-up). Default 1. */
  readonly warmupRuns?: number;
  /** Ops per interleaved slice within a round (default 20, about a millisecond of verifications). */
  readonly chunkOps?: number;
  setup(ctx: ScenarioContext): Promise<ScenarioPlan>;
}

export interface RequestOptions {
  /** More request headers for op i (a DPoP proof...), REQUEST events only. */
  readonly headers?: (i: number) => Readonly<Record<string, string>>;
}

/** The other token-cache setting than the deployed one, for "what does the cache cost/buy" figures. */
export interface CacheVariant {
  readonly name: "handler.cache-off" | "handler.cache-on";
  readonly overrides: Readonly<Record<string, string>>;
}

export interface ScenarioContext {
  /** Measured rounds (BENCH_RUNS). */
  readonly runs: number;
  /** Op indexes the runs use, warm-up included: size per-op arrays to this. */
  readonly totalOps: number;
  readonly realm: RealmKey;
  readonly audience: string;
  readonly lambda: LambdaIdentity;
  /** Another realm on the local Keycloak stand-in (its own key and issuer). */
  otherRealm(name: string): Promise<RealmKey>;
  /** `count` distinct signed access tokens; claims and realm overridable. */
  tokens(
    count: number,
    options?: { claims?: Readonly<Record<string, unknown>>; realm?: RealmKey; header?: Readonly<Record<string, unknown>> },
  ): Promise<string[]>;
  /**
   * Requests carrying `authorizations[i]` at op i (undefined: no Authorization header), built per
   * run: a fresh event (parsed from JSON) and a Lambda context with its own request id each.
   */
  requests(kind: EventKind, authorizations: readonly (string | undefined)[], options?: RequestOptions): RequestSource;
  /** One freshly parsed event per authorization value, all at once (small counts only). */
  events(kind: EventKind, authorizations: readonly (string | undefined)[], options?: RequestOptions): unknown[];
  /** One Lambda context per op, distinct request ids. */
  contexts(count: number): LambdaContext[];
  /** The bundle's handler as deployed, or with environment overrides (a separate instance). */
  handler(name?: string, overrides?: Readonly<Record<string, string>>, options?: { readonly bundle?: "core" | "full" }): Promise<HandlerInstance>;
  readonly cacheVariant: CacheVariant;
  /** The local revocation store (its endpoint and table), for handlers with revocation on. */
  readonly revocation: ChildStart["revocation"];
  progress(message: string): void;
}

const DEFAULT_CHUNK_OPS = 20;

const minorGc = (): void => {
  (globalThis as { gc?: (options?: { type: "minor" | "major" }) => void }).gc?.({ type: "minor" });
};

/**
 * Bytes Node still holds for stdout/stderr: the pipe was full (the reader fell behind) and the
 * write went asynchronous, so its bytes and its syscall would land in some later chunk.
 */
const queued = (): number => process.stdout.writableLength + process.stderr.writableLength;

async function drained(): Promise<void> {
  while (queued() > 0) await new Promise((resolve) => setTimeout(resolve, 1));
}

function marker(kind: "B" | "E", id: string): void {
  process.stdout.write(`\0${kind}:${id}\0`);
  process.stderr.write(`\0${kind}:${id}\0`);
}

export function createContext(start: ChildStart, totalOps: number): ScenarioContext {
  const { realm, audience, lambda } = start;
  const tokens: ScenarioContext["tokens"] = (count, options = {}) => {
    const key = options.realm ?? realm;
    return signJwts(
      key,
      Array.from({ length: count }, () => keycloakClaims(key.issuer, audience, options.claims)),
      options.header,
    );
  };
  const events = (kind: EventKind, authorizations: readonly (string | undefined)[], options: RequestOptions = {}, first = 0): unknown[] =>
    authorizations.map((a, j) => JSON.parse(eventJson(kind, a, options.headers?.(first + j))) as unknown);
  const contexts: ScenarioContext["contexts"] = (count) => Array.from({ length: count }, () => lambdaContext(lambda, randomUUID()));
  const requests: ScenarioContext["requests"] = (kind, authorizations, options = {}) => ({
    batch: (first, count) => ({ events: events(kind, authorizations.slice(first, first + count), options, first), contexts: contexts(count) }),
  });
  const cacheVariant: CacheVariant =
    start.deployedTokenCacheSize > 0
      ? { name: "handler.cache-off", overrides: { [TOKEN_CACHE_VARIABLE]: "0" } }
      : { name: "handler.cache-on", overrides: { [TOKEN_CACHE_VARIABLE]: String(TOKEN_CACHE_SIZE_WHEN_OFF) } };
  return {
    runs: start.runs,
    totalOps,
    realm,
    audience,
    lambda,
    otherRealm: requestRealm,
    tokens,
    requests,
    events: (kind, authorizations, options) => events(kind, authorizations, options),
    contexts,
    handler: (name = "handler", overrides = {}, options = {}) =>
      loadHandler(options.bundle === "full" ? start.fullBundleUrl : start.bundleUrl, start.exportName, name, overrides, async () => {
        const [token] = await tokens(1);
        return { event: events("http-v2", [`Bearer ${token as string}`])[0], context: lambdaContext(lambda) };
      }),
    cacheVariant,
    revocation: start.revocation,
    progress,
  };
}

export async function runScenario(scenario: Scenario, start: ChildStart): Promise<ScenarioResult> {
  const warmupRuns = scenario.warmupRuns ?? 1;
  const rounds = warmupRuns + start.runs;
  const ctx = createContext(start, rounds * scenario.opsPerRun);
  progress(`${scenario.name}: setting up (${ctx.totalOps} ops per contender)`);
  const plan = await scenario.setup(ctx);
  const names = new Set<string>();
  for (const c of plan.contenders) {
    if (names.has(c.name)) throw new Error(`${scenario.name}: two contenders named ${c.name}`);
    names.add(c.name);
  }
  for (const f of plan.figures) {
    for (const n of [f.contender, f.baseline]) if (n !== undefined && !names.has(n)) throw new Error(`${scenario.name}: figure names unknown contender ${n}`);
  }
  const runs = new Map<string, RunResult[]>(plan.contenders.map((c) => [c.name, []]));
  const k = plan.contenders.length;
  const chunk = scenario.chunkOps ?? DEFAULT_CHUNK_OPS;
  if (scenario.opsPerRun % chunk !== 0) throw new Error(`${scenario.name}: opsPerRun must be a multiple of chunkOps (${chunk})`);
  const chunks = scenario.opsPerRun / chunk;
  for (let round = 0; round < rounds; round += 1) {
    const warmup = round < warmupRuns;
    progress(`${scenario.name}: ${warmup ? `warm-up ${round + 1}/${warmupRuns}` : `round ${round - warmupRuns + 1}/${start.runs}`}`);
    const first = round * scenario.opsPerRun;
    for (const contender of plan.contenders) contender.prepare?.(first, scenario.opsPerRun);
    minorGc();
    const ms = new Map<string, number>(plan.contenders.map((c) => [c.name, 0]));
    let congested = 0;
    // Interleaved in chunks of ~1 ms, rotating who goes first, so a burst of outside load (or a
    // stall) lands on every contender alike. GC is charged to whoever's allocation triggers it.
    for (let c = 0; c < chunks; c += 1) {
      const at = first + c * chunk;
      for (let j = 0; j < k; j += 1) {
        const contender = plan.contenders[(round + c + j) % k] as Contender;
        const segment = `${scenario.name}|${contender.name}|${round}`;
        marker("B", segment);
        const t0 = performance.now();
        const pending = contender.run(at, chunk);
        if (pending !== undefined) await pending;
        const elapsed = performance.now() - t0;
        if (queued() > 0) {
          // Untimed: keep the bytes with this chunk; the round is flagged and left out of the medians.
          congested += 1;
          await drained();
        }
        marker("E", segment);
        ms.set(contender.name, (ms.get(contender.name) ?? 0) + elapsed);
      }
    }
    // Output deferred to a timer or a later tick lands outside every segment (reported as such).
    await new Promise((resolve) => setImmediate(resolve));
    for (const contender of plan.contenders) {
      contender.release?.();
      const segment = `${scenario.name}|${contender.name}|${round}`;
      runs.get(contender.name)?.push({
        round,
        warmup,
        usPerOp: ((ms.get(contender.name) ?? 0) * 1000) / scenario.opsPerRun,
        ops: scenario.opsPerRun,
        segment,
        congestedChunks: congested,
      });
    }
  }
  return {
    name: scenario.name,
    description: scenario.description,
    opsPerRun: scenario.opsPerRun,
    warmupRuns,
    contenders: plan.contenders.map((c) => ({
      name: c.name,
      output: c.output === true,
      ...(c.bytesTarget === undefined ? {} : { bytesTarget: c.bytesTarget }),
      runs: runs.get(c.name) ?? [],
    })),
    figures: plan.figures,
  };
}

/** `name` is selected by `only` when a selector is a prefix of it at a dot boundary (or `warm`). */
export function selected(name: string, only: readonly string[] | undefined): boolean {
  if (only === undefined) return true;
  return only.some((s) => s === "warm" || name === s || name.startsWith(`${s}.`));
}
