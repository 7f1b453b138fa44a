/**
 * An npm script run as a person runs it in a terminal: its own process group (a terminal's
 * foreground job), output collected, Ctrl-C as SIGINT to the whole group.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { ROOT } from "../../local/stack.js";

export interface ScriptRun {
  readonly child: ChildProcess;
  /** stdout and stderr so far, interleaved as they arrived. */
  output(): string;
  /** Resolves with the first match in the output; rejects when the script exits first or on timeout. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
  /** Resolves with the exit code (or signal name) once the script has exited. */
  readonly exited: Promise<string>;
  /** Ctrl-C: SIGINT to the process group; resolves with the exit code or signal name. */
  interrupt(): Promise<string>;
  /** SIGKILL to the group, for cleanup after a failure. */
  kill(): void;
}

export function runScript(args: readonly string[], env: Record<string, string | undefined> = {}): ScriptRun {
  const child = spawn("npm", [...args], { cwd: ROOT, env: { ...process.env, ...env }, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let text = "";
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer): void => {
    text += chunk.toString("utf8");
    for (const listener of [...listeners]) listener();
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  const exited = new Promise<string>((resolve) => child.once("exit", (code, signal) => resolve(String(code ?? signal))));
  const signalGroup = (signal: NodeJS.Signals): void => {
    try {
      process.kill(-(child.pid as number), signal);
    } catch {
      // already gone
    }
  };
  return {
    child,
    output: () => text,
    waitFor(pattern, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const match = pattern.exec(text);
          if (match === null) return;
          done();
          resolve(match);
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no ${pattern} within ${timeoutMs / 1000} s; output:\n${text}`));
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        void exited.then((code) => {
          if (!listeners.has(check)) return;
          done();
          const match = pattern.exec(text);
          if (match !== null) resolve(match);
          else reject(new Error(`npm ${args.join(" ")} exited with ${code} before ${pattern}; output:\n${text}`));
        });
        check();
      });
    },
    exited,
    interrupt() {
      signalGroup("SIGINT");
      return exited;
    },
    kill() {
      signalGroup("SIGKILL");
    },
  };
}

/** True when nothing accepts connections on 127.0.0.1:`port`. */
export async function portClosed(port: number): Promise<boolean> {
  try {
    await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1000) });
    return false;
  } catch (error) {
    return String((error as { cause?: { code?: string } }).cause?.code) === "ECONNREFUSED";
  }
}

/** Waits up to `timeoutMs` for all ports to close; true when they did. */
export async function portsClosed(ports: readonly number[], timeoutMs = 15_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  const closed = async (): Promise<boolean> => (await Promise.all(ports.map(portClosed))).every(Boolean);
  while (!(await closed())) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return true;
}
