/**
 * `npm test` (and its narrower scripts): jest, then a check that the run left nothing behind.
 *
 * Every process the run starts inherits a marker in its environment (KLA_TEST_RUN), including
 * those that put themselves in a process group of their own (serverless-offline, Keycloak), so
 * after jest ends any process still carrying it is a leak: a server a test forgot to stop, and
 * with it an open port. The run then fails, naming the process and its listening ports.
 *
 * Usage: tsx test/run.ts [jest arguments...]
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { fileURLToPath } from "node:url";

const JEST = fileURLToPath(new URL("../node_modules/jest/bin/jest.js", import.meta.url));
const marker = randomUUID();

const code = await new Promise<number>((resolve) => {
  const child = spawn(process.execPath, ["--experimental-vm-modules", "--no-warnings=ExperimentalWarning", JEST, ...process.argv.slice(2)], {
    stdio: "inherit",
    env: { ...process.env, KLA_TEST_RUN: marker },
  });
  const forward = (signal: NodeJS.Signals): void => {
    child.kill(signal);
  };
  process.on("SIGINT", forward);
  process.on("SIGTERM", forward);
  child.once("exit", (exitCode, signal) => resolve(exitCode ?? (signal === null ? 1 : 128)));
});

// Servers stopped in afterAll may take a moment to finish exiting after jest does.
let leftovers = leftoverProcesses();
for (let waited = 0; leftovers.length > 0 && waited < 10_000; waited += 250) {
  await new Promise((resolve) => setTimeout(resolve, 250));
  leftovers = leftoverProcesses();
}
if (leftovers.length > 0) {
  console.error(`\nThe test run left ${leftovers.length} process(es) running; every test must stop what it starts:`);
  for (const { pid, command, ports } of leftovers) {
    console.error(`  pid ${pid}: ${command}${ports.length > 0 ? ` (listening on ${ports.join(", ")})` : ""}`);
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone meanwhile
    }
  }
  process.exit(code === 0 ? 1 : code);
}
process.exit(code);

interface Leftover {
  readonly pid: number;
  readonly command: string;
  readonly ports: readonly number[];
}

/** Processes (other than this one) whose environment carries this run's marker. Linux /proc only. */
function leftoverProcesses(): Leftover[] {
  const listening = listeningSockets();
  const found: Leftover[] = [];
  for (const entry of safeReaddir("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    let environ: string;
    try {
      environ = readFileSync(`/proc/${pid}/environ`, "latin1");
    } catch {
      continue; // gone, or not ours to read
    }
    if (!environ.includes(`KLA_TEST_RUN=${marker}`)) continue;
    let command = "?";
    try {
      command = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim().slice(0, 200);
    } catch {
      // keep "?"
    }
    const ports = new Set<number>();
    for (const fd of safeReaddir(`/proc/${pid}/fd`)) {
      try {
        const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
        const port = inode === undefined ? undefined : listening.get(inode);
        if (port !== undefined) ports.add(port);
      } catch {
        // fd closed meanwhile
      }
    }
    found.push({ pid, command, ports: [...ports] });
  }
  return found;
}

/** Socket inode -> port, for TCP sockets in LISTEN state. */
function listeningSockets(): Map<string, number> {
  const sockets = new Map<string, number>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      // local_address is HEX_IP:HEX_PORT, st 0A is LISTEN, inode is the 10th field.
      if (fields[3] !== "0A" || fields[1] === undefined || fields[9] === undefined) continue;
      sockets.set(fields[9], Number.parseInt(fields[1].split(":")[1] ?? "0", 16));
    }
  }
  return sockets;
}

function safeReaddir(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}
