/**
 * One `bin/kc.sh` process: started in its own process group (kc.sh forks the JVM, and a relaunch
 * after Quarkus' build step is a second JVM), its output split into lines, stopped as a group.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { stripVTControlCharacters } from "node:util";

export interface KcProcess {
  readonly child: ChildProcess;
  /** Every line printed so far, stdout and stderr merged. */
  readonly lines: readonly string[];
  /** Resolves once the process has exited: its exit code, or the signal that ended it. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first line matching, rejects if the process exits first. */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
  /** SIGTERM to the group, SIGKILL after `graceMs`; resolves once the process has exited. */
  stop(graceMs?: number): Promise<void>;
}

export function startKc(
  command: string,
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; onLine?: (line: string) => void },
): KcProcess {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  const waiters = new Set<{ pattern: RegExp; resolve: (match: RegExpExecArray) => void }>();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
    child.once("error", () => resolve({ code: 127, signal: null }));
  });
  const partial = { stdout: "", stderr: "" };
  const feed = (stream: "stdout" | "stderr", chunk: Buffer): void => {
    const text = partial[stream] + chunk.toString("utf8");
    const parts = text.split("\n");
    partial[stream] = parts.pop() ?? "";
    for (const raw of parts) emit(raw);
  };
  const emit = (raw: string): void => {
    // Keycloak logs without colours (--log-console-color=false), Maven and the JVM may still send some.
    const line = stripVTControlCharacters(raw).replace(/\r$/, "");
    if (line.trim() === "") return;
    lines.push(line);
    options.onLine?.(line);
    for (const waiter of [...waiters]) {
      const match = waiter.pattern.exec(line);
      if (match !== null) {
        waiters.delete(waiter);
        waiter.resolve(match);
      }
    }
  };
  child.stdout?.on("data", (chunk: Buffer) => feed("stdout", chunk));
  child.stderr?.on("data", (chunk: Buffer) => feed("stderr", chunk));
  void exited.then(() => {
    for (const stream of ["stdout", "stderr"] as const) if (partial[stream] !== "") emit(partial[stream]);
  });

  const signalGroup = (signal: NodeJS.Signals): void => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // the group is gone already
    }
  };

  let stopping: Promise<void> | undefined;
  return {
    child,
    lines,
    exited,
    waitForLine(pattern, timeoutMs) {
      const already = lines.map((line) => pattern.exec(line)).find((match) => match !== null);
      if (already) return Promise.resolve(already);
      return new Promise((resolve, reject) => {
        const waiter = {
          pattern,
          resolve: (match: RegExpExecArray) => {
            clearTimeout(timer);
            resolve(match);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`timed out after ${Math.round(timeoutMs / 1000)} s`));
        }, timeoutMs);
        waiters.add(waiter);
        void exited.then(({ code, signal }) => {
          if (!waiters.delete(waiter)) return;
          clearTimeout(timer);
          reject(new ExitedError(code, signal));
        });
      });
    },
    stop(graceMs = 20_000) {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
          signalGroup("SIGKILL"); // a JVM left behind by an exited kc.sh, if any
          return;
        }
        signalGroup("SIGTERM");
        const timer = setTimeout(() => signalGroup("SIGKILL"), graceMs);
        await exited;
        clearTimeout(timer);
        // kc.sh waits for its JVM, so the group is normally empty now; make sure of it.
        signalGroup("SIGKILL");
      })();
      return stopping;
    },
  };
}

export class ExitedError extends Error {
  constructor(
    readonly code: number | null,
    readonly signal: NodeJS.Signals | null,
  ) {
    super(`exited with ${code ?? signal ?? "?"}`);
    this.name = "ExitedError";
  }
}

/**
 * Keycloak's own explanation of a failed start: the `ERROR:` lines of its exception handler
 * (e.g. `Failed to run import`, `Unrecognized field "x" ...`) without the generic first and last
 * ones, else any ERROR line.
 */
export function keycloakErrorLines(lines: readonly string[]): string[] {
  const generic = /Failed to start server in|For more details run the same command|to see the details about the usage/;
  const handler = lines
    .map((line) => /\bERROR\b.*?ERROR: (.*)$/.exec(line)?.[1] ?? /^ERROR: (.*)$/.exec(line)?.[1])
    .filter((message): message is string => message !== undefined && !generic.test(message));
  if (handler.length > 0) return handler;
  return lines.filter((line) => /\sERROR\s+\[/.test(line) && !generic.test(line)).map((line) => line.replace(/^\S+ \S+ ERROR\s+/, ""));
}
