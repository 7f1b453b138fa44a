/**
 * A measured `node` process whose stdout and stderr are pipes this process drains, as the Lambda
 * runtime drains a function's output. Bytes are counted per segment: the child writes
 * `\0B:<id>\0` and `\0E:<id>\0` markers to both streams around each timed run (see
 * child/harness.ts), and everything between them is that run's output. Results come back over
 * IPC (the measured code never sees the channel) or fd 3, never through stdout.
 */
import { spawn, type ChildProcess } from "node:child_process";
import type { Readable } from "node:stream";

export interface StreamBytes {
  stdout: number;
  stderr: number;
}

export interface Segment extends StreamBytes {
  /** The first bytes written in the segment (both streams, in arrival order), for the report. */
  sample: string;
}

const SAMPLE_BYTES = 600;
const TAIL_BYTES = 8192;
const NUL = 0;

class MarkerCounter {
  private carry: Buffer = Buffer.alloc(0);
  private current: string | undefined;
  /** The last chunks received, kept as buffers: turned into text only for an error message. */
  private last: Buffer[] = [];
  private lastBytes = 0;

  constructor(
    private readonly stream: keyof StreamBytes,
    private readonly segments: Map<string, Segment>,
    private readonly outside: StreamBytes,
  ) {}

  private data(bytes: Buffer): void {
    if (bytes.length === 0) return;
    if (this.current === undefined) {
      this.outside[this.stream] += bytes.length;
    } else {
      const segment = this.segments.get(this.current) as Segment;
      segment[this.stream] += bytes.length;
      if (segment.sample.length < SAMPLE_BYTES) segment.sample += bytes.toString("utf8", 0, Math.min(bytes.length, SAMPLE_BYTES - segment.sample.length));
    }
  }

  get tail(): string {
    return Buffer.concat(this.last).subarray(-TAIL_BYTES).toString("utf8");
  }

  private marker(text: string): boolean {
    const match = /^([BE]):(.+)$/.exec(text);
    if (match === null) return false;
    const id = match[2] as string;
    if (match[1] === "B") {
      this.current = id;
      if (!this.segments.has(id)) this.segments.set(id, { stdout: 0, stderr: 0, sample: "" });
    } else {
      this.current = undefined;
    }
    return true;
  }

  push(chunk: Buffer): void {
    // Kept cheap: the child must never wait for this reader (see child/harness.ts, congestion).
    this.last.push(chunk);
    this.lastBytes += chunk.length;
    while (this.lastBytes - (this.last[0]?.length ?? 0) >= TAIL_BYTES) this.lastBytes -= (this.last.shift() as Buffer).length;
    let buffer = this.carry.length === 0 ? chunk : Buffer.concat([this.carry, chunk]);
    this.carry = Buffer.alloc(0);
    for (;;) {
      const open = buffer.indexOf(NUL);
      if (open === -1) {
        this.data(buffer);
        return;
      }
      this.data(buffer.subarray(0, open));
      const close = buffer.indexOf(NUL, open + 1);
      if (close === -1) {
        if (buffer.length - open > 256) {
          // Not a marker (JSON never holds a raw NUL, but count it rather than lose it).
          this.data(buffer.subarray(open));
        } else {
          this.carry = Buffer.from(buffer.subarray(open));
        }
        return;
      }
      if (!this.marker(buffer.toString("latin1", open + 1, close))) this.data(buffer.subarray(open, close));
      buffer = buffer.subarray(close + 1);
    }
  }
}

export interface MeasuredProcess {
  readonly child: ChildProcess;
  /** Bytes per marked segment. */
  readonly segments: ReadonlyMap<string, Segment>;
  /** Bytes outside any segment (init logs, key-fetch metrics...). */
  readonly outside: StreamBytes;
  /** Resolves when the process exited and both pipes are drained. */
  readonly done: Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
  /** What fd 3 received, when asked for. */
  fd3(): string;
  /** The last output, for error messages. */
  tail(): string;
}

export interface SpawnOptions {
  readonly env: Readonly<Record<string, string>>;
  readonly nodeFlags?: readonly string[];
  /** An IPC channel (child's process.send). */
  readonly ipc?: boolean;
  /** A pipe on fd 3 for results. */
  readonly fd3?: boolean;
  /** Killed (SIGKILL) after this long: a hang fails the bench instead of stalling it. Default 60 s. */
  readonly timeoutMs?: number;
}

export function spawnMeasured(args: readonly string[], options: SpawnOptions): MeasuredProcess {
  const started = performance.now();
  const extra = options.ipc === true ? ["ipc"] : options.fd3 === true ? ["pipe"] : [];
  const child = spawn(process.execPath, [...(options.nodeFlags ?? []), ...args], {
    env: { ...options.env },
    stdio: ["ignore", "pipe", "pipe", ...extra] as ("ignore" | "pipe" | "ipc")[],
    serialization: "json",
  });
  const segments = new Map<string, Segment>();
  const outside: StreamBytes = { stdout: 0, stderr: 0 };
  const out = new MarkerCounter("stdout", segments, outside);
  const err = new MarkerCounter("stderr", segments, outside);
  let fd3 = "";
  const drained = (stream: Readable | null | undefined, sink: (chunk: Buffer) => void): Promise<void> =>
    new Promise((resolve) => {
      if (stream === null || stream === undefined) return resolve();
      stream.on("data", sink);
      stream.once("end", resolve);
      stream.once("close", resolve);
    });
  const streams = [drained(child.stdout, (c) => out.push(c)), drained(child.stderr, (c) => err.push(c))];
  if (options.fd3 === true) streams.push(drained(child.stdio[3] as Readable, (c) => (fd3 += c.toString("utf8"))));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, options.timeoutMs ?? 60_000);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>((resolve, reject) => {
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, ms: performance.now() - started });
    });
  });
  const done = Promise.all([exited, ...streams]).then(([result]) => result);
  return {
    child,
    segments,
    outside,
    done,
    fd3: () => fd3,
    tail: () =>
      `${timedOut ? `--- killed after ${options.timeoutMs ?? 60_000} ms ---\n` : ""}--- stdout (last bytes) ---\n${out.tail}\n--- stderr (last bytes) ---\n${err.tail}`,
  };
}

/** Runs a process to its end; rejects with its output when it fails. */
export async function runMeasured(
  args: readonly string[],
  options: SpawnOptions,
): Promise<{ ms: number; fd3: string; output: StreamBytes; process: MeasuredProcess }> {
  const measured = spawnMeasured(args, options);
  const { code, signal, ms } = await measured.done;
  if (code !== 0) throw new Error(`node ${args.join(" ").slice(0, 80)}... exited ${code ?? signal}\n${measured.tail()}`);
  const output = { stdout: measured.outside.stdout, stderr: measured.outside.stderr };
  for (const segment of measured.segments.values()) {
    output.stdout += segment.stdout;
    output.stderr += segment.stderr;
  }
  return { ms, fd3: measured.fd3(), output, process: measured };
}
