/**
 * Bounds for robustness tests: how long one call may take, what escaped as an unhandled
 * rejection, how much heap a run kept, and a fixed-size pool of concurrent calls.
 */
import v8 from "node:v8";
import vm from "node:vm";

export type Settled<T> =
  | { readonly status: "resolved"; readonly value: T; readonly ms: number }
  | { readonly status: "rejected"; readonly error: unknown; readonly ms: number }
  | { readonly status: "timed-out"; readonly ms: number };

/**
 * Run `work` and report how it ended, or "timed-out" once `boundMs` have passed, so a hanging
 * call fails the test with a message instead of hanging it until Jest's timeout.
 */
export async function settleWithin<T>(work: () => Promise<T>, boundMs: number): Promise<Settled<T>> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timed-out">((resolve) => {
    timer = setTimeout(() => resolve("timed-out"), boundMs);
  });
  try {
    const outcome = await Promise.race([
      work().then(
        (value) => ({ status: "resolved", value }) as const,
        (error: unknown) => ({ status: "rejected", error }) as const,
      ),
      timeout,
    ]);
    const ms = performance.now() - started;
    return outcome === "timed-out" ? { status: "timed-out", ms } : { ...outcome, ms };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Jest gives each test file its own `process` object, whose 'unhandledRejection' listeners never
 * fire: Node emits the event on the real process only. `vm.runInThisContext` evaluates in the
 * main context, where `process` is the real one.
 */
const realProcess = vm.runInThisContext("process") as NodeJS.Process;

export interface RejectionWatch {
  /** Reasons of every unhandled rejection seen since `watchUnhandledRejections()`. */
  readonly seen: readonly unknown[];
  /** Let pending rejections surface (Node reports them after the microtask queue drains). */
  settle(): Promise<void>;
  stop(): void;
}

export function watchUnhandledRejections(): RejectionWatch {
  const seen: unknown[] = [];
  const listener = (reason: unknown): void => {
    seen.push(reason);
  };
  realProcess.on("unhandledRejection", listener);
  return {
    seen,
    settle: () => new Promise((resolve) => setTimeout(resolve, 20)),
    stop: () => {
      realProcess.off("unhandledRejection", listener);
    },
  };
}

/**
 * A full garbage collection when one can be had: `global.gc` under --expose-gc, else the same
 * function obtained by setting the V8 flag at run time (a fresh context then gets `gc`).
 * Returns false when neither works, and the caller falls back to letting the heap settle.
 */
function gcFunction(): (() => void) | undefined {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === "function") return exposed;
  try {
    v8.setFlagsFromString("--expose-gc");
    const fromContext: unknown = vm.runInNewContext("gc");
    return typeof fromContext === "function" ? (fromContext as () => void) : undefined;
  } catch {
    return undefined;
  }
}

/** `heapUsed` after a forced GC (or, without one, after a short settle); says which it was. */
export async function settledHeapUsed(): Promise<{ bytes: number; forcedGc: boolean }> {
  const gc = gcFunction();
  // Let finished promises, timers and sockets be released before measuring.
  await new Promise((resolve) => setTimeout(resolve, gc === undefined ? 500 : 50));
  if (gc !== undefined) {
    gc();
    gc();
  }
  return { bytes: process.memoryUsage().heapUsed, forcedGc: gc !== undefined };
}

/**
 * Call `task(i)` for i in [0, count), never more than `concurrency` at once (a fixed pool of
 * workers pulling the next index). Resolves with the highest number seen in flight.
 */
export async function runPool(count: number, concurrency: number, task: (index: number) => Promise<void>): Promise<number> {
  let next = 0;
  let inFlight = 0;
  let peak = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next;
      next += 1;
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      try {
        await task(index);
      } finally {
        inFlight -= 1;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return peak;
}
