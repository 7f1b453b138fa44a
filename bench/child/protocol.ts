/**
 * Messages between the bench (parent) and the measured child, over the IPC channel. The child
 * never writes progress to stdout or stderr: those pipes are what the bench counts.
 */
import type { LambdaIdentity } from "../events.js";
import type { Target } from "../stats.js";
import type { RealmKey } from "../tokens.js";

export interface ProfileRequest {
  /** Distinct tokens, each verified once while the profiler samples. */
  readonly tokens: number;
  /** Of those, how many run before the profiler starts (JIT warm-up). */
  readonly warmup: number;
  readonly intervalUs: number;
  /** Where to write the .cpuprofile. */
  readonly out: string;
}

export interface MemoryRequest {
  /** JSON file: an array of event JSON strings, one distinct valid token each. */
  readonly eventsFile: string;
  /** Invocations between heap snapshots. */
  readonly perStep: number;
  readonly steps: number;
  /** Refusals (and 500s) are expected, not a failure of the run: a flood of tokens for unknown realms. */
  readonly allowRefusals?: boolean;
  /** Paced to this many invocations per second (unpaced when absent). */
  readonly opsPerSecond?: number;
}

export interface ChildStart {
  readonly mode: "warm" | "profile" | "memory";
  readonly bundleUrl: string;
  /** The authorizer a stage with DPoP or revocation on deploys (functions/authorizer-full.ts), same export name. */
  readonly fullBundleUrl: string;
  /** The handler's export name in the bundle (serverless.yml `handler`). */
  readonly exportName: string;
  readonly lambda: LambdaIdentity;
  readonly audience: string;
  readonly realm: RealmKey;
  readonly runs: number;
  /** Scenario selectors (name prefixes); undefined: all. */
  readonly only: readonly string[] | undefined;
  /** KEYCLOAK_TOKEN_CACHE_SIZE of the deployed environment, parsed (0: off). */
  readonly deployedTokenCacheSize: number;
  /** The bench's local revocation store (dynalite), for the revocation scenarios. */
  readonly revocation?: { readonly endpoint: string; readonly table: string };
  readonly profile?: ProfileRequest;
  readonly memory?: MemoryRequest;
}

export interface RunResult {
  readonly round: number;
  readonly warmup: boolean;
  readonly usPerOp: number;
  readonly ops: number;
  /** Marker id of this run's output segment. */
  readonly segment: string;
  /**
   * Chunks of this round (any contender) after which stdout/stderr still had bytes queued: the
   * pipe was full, writes went asynchronous, and the round's times are not the handler's own.
   */
  readonly congestedChunks: number;
}

export interface ContenderResult {
  readonly name: string;
  /** The deployed handler (its output is counted per request). */
  readonly output: boolean;
  readonly bytesTarget?: Target;
  readonly runs: readonly RunResult[];
}

export interface FigureSpec {
  readonly contender: string;
  readonly baseline?: string;
  readonly target?: Target;
  readonly about?: string;
}

export interface ScenarioResult {
  readonly name: string;
  readonly description: string;
  readonly opsPerRun: number;
  readonly warmupRuns: number;
  readonly contenders: readonly ContenderResult[];
  readonly figures: readonly FigureSpec[];
}

export interface MemoryResult {
  readonly instance: string;
  readonly tokenCacheSize: string;
  /** heapUsed after full GCs: before the first step, then after each step. */
  readonly heapBytes: readonly number[];
  readonly perStep: number;
  /** Wall time of all steps, heap snapshots excluded. */
  readonly elapsedMs: number;
  /** Invocations allowed, refused (401) and failed (any other error). */
  readonly outcomes: { readonly allowed: number; readonly refused: number; readonly failed: number };
}

export interface ProfileResult {
  readonly file: string;
  readonly ops: number;
  readonly ms: number;
  readonly samples: number;
}

export type ChildMessage =
  | { readonly type: "realm?"; readonly name: string }
  | { readonly type: "progress"; readonly message: string }
  | { readonly type: "scenario"; readonly result: ScenarioResult }
  | { readonly type: "memory"; readonly result: MemoryResult }
  | { readonly type: "profile"; readonly result: ProfileResult }
  | { readonly type: "done" }
  | { readonly type: "error"; readonly message: string };

export type ParentMessage = { readonly type: "start"; readonly start: ChildStart } | { readonly type: "realm"; readonly key: RealmKey };
