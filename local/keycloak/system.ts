/** Small look-ups on this machine: commands on PATH, loopback ports. */
import { constants, readFileSync } from "node:fs";
import { access } from "node:fs/promises";
import { createServer } from "node:net";
import { delimiter, join } from "node:path";

export async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first executable `command` in the folders of PATH, like `command -v`. */
export async function onPath(command: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  for (const folder of (env.PATH ?? "").split(delimiter)) {
    if (folder === "") continue;
    const file = join(folder, command);
    if (await isExecutable(file)) return file;
  }
  return undefined;
}

/** True when nothing listens on 127.0.0.1:`port` (we can bind it ourselves). */
export function loopbackPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen({ port, host: "127.0.0.1", exclusive: true }, () => {
      server.close(() => resolve(true));
    });
  });
}

/**
 * A port nothing listens on right now, picked below the kernel's ephemeral range. A port taken
 * by binding port 0 comes from that range, so a server that binds port 0 later (dynalite, a child
 * process) could be handed the very port picked here before its owner listens on it: EADDRINUSE,
 * seen in CI. Below the range, only another picker could take it, and this process never hands
 * one out twice.
 */
export async function freeLoopbackPort(): Promise<number> {
  const [low] = ephemeralRange();
  const floor = Math.max(1024, low - 12_000);
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const port = floor + Math.floor(Math.random() * (low - floor));
    if (handedOut.has(port) || !(await loopbackPortFree(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no free loopback port between ${floor} and ${low}`);
}

/** Ports freeLoopbackPort returned in this process: never returned twice. */
const handedOut = new Set<number>();

/** Linux's ip_local_port_range (elsewhere, the IANA dynamic range). */
function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
    if (low !== undefined && high !== undefined && Number.isInteger(low) && low > 13_024) return [low, high];
  } catch {
    // not Linux
  }
  return [49_152, 65_535];
}
