/**
 * Which Java runs Keycloak (and Maven). In order: KEYCLOAK_JAVA_HOME, JAVA_HOME, `java` on PATH;
 * the first one at least `minimum` wins. When those are all too old, the JDKs installed beside
 * them (the other folders of the directory that holds the found JDK, e.g. a newer Temurin next to
 * the distribution's default JDK) are tried, newest first. Nothing here names a system folder.
 */
import { execFile } from "node:child_process";
import { readdir, realpath } from "node:fs/promises";
import { dirname, join } from "node:path";
import { KeycloakSetupError } from "./errors.js";
import { isExecutable, onPath } from "./system.js";

export interface JavaRuntime {
  /** The JDK (or JRE) folder, given to Keycloak and Maven as JAVA_HOME. */
  readonly home: string;
  readonly major: number;
  /** `java -version`'s first line, e.g. `openjdk version "17.0.15" 2025-04-15`. */
  readonly versionLine: string;
  /** Where it was found: `KEYCLOAK_JAVA_HOME`, `JAVA_HOME`, `PATH` or `installed beside <home>`. */
  readonly source: string;
}

interface Candidate {
  readonly java: string;
  readonly source: string;
}

/** Major version from `java -version` output: 1.8.0_x -> 8, 17.0.15 -> 17, 25 -> 25. */
export function javaMajor(versionOutput: string): number | undefined {
  const quoted = /version "([^"]+)"/.exec(versionOutput)?.[1];
  if (quoted === undefined) return undefined;
  const [first, second] = quoted.split(/[._+-]/);
  const major = first === "1" ? Number(second) : Number(first);
  return Number.isInteger(major) && major > 0 ? major : undefined;
}

function versionOf(java: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(java, ["-version"], { timeout: 20_000 }, (error, stdout, stderr) => {
      resolve(error === null ? `${stderr}${stdout}` : undefined);
    });
  });
}

/** JAVA_HOME of a java binary: <home>/bin/java, symlinks resolved (Debian's alternatives). */
async function homeOf(java: string): Promise<string> {
  return dirname(dirname(await realpath(java)));
}

export async function findJava(minimum: number, env: NodeJS.ProcessEnv = process.env): Promise<JavaRuntime> {
  const candidates: Candidate[] = [];
  for (const name of ["KEYCLOAK_JAVA_HOME", "JAVA_HOME"] as const) {
    const home = env[name]?.trim();
    if (home) candidates.push({ java: join(home, "bin", "java"), source: name });
  }
  const fromPath = await onPath("java", env);
  if (fromPath !== undefined) candidates.push({ java: fromPath, source: "PATH" });

  const found: string[] = [];
  const homesSeen = new Set<string>();
  const tryCandidate = async ({ java, source }: Candidate): Promise<JavaRuntime | undefined> => {
    if (!(await isExecutable(java))) {
      found.push(`${source}: no java at ${java}`);
      return undefined;
    }
    const home = await homeOf(java);
    if (homesSeen.has(home)) return undefined;
    homesSeen.add(home);
    const output = await versionOf(java);
    const major = output === undefined ? undefined : javaMajor(output);
    if (output === undefined || major === undefined) {
      found.push(`${source}: ${java} does not run`);
      return undefined;
    }
    const versionLine = output.split("\n")[0]?.trim() ?? "";
    if (major < minimum) {
      found.push(`${source}: Java ${major} at ${home}`);
      return undefined;
    }
    return { home, major, versionLine, source };
  };

  for (const candidate of candidates) {
    const runtime = await tryCandidate(candidate);
    if (runtime !== undefined) return runtime;
  }

  // All too old: look at the JDKs installed next to the ones found, newest first.
  const siblings: Candidate[] = [];
  for (const home of [...homesSeen]) {
    const parent = dirname(home);
    let entries: string[] = [];
    try {
      entries = await readdir(parent);
    } catch {
      continue;
    }
    for (const entry of entries) siblings.push({ java: join(parent, entry, "bin", "java"), source: `installed beside ${home}` });
  }
  const runtimes: JavaRuntime[] = [];
  for (const candidate of siblings) {
    if (!(await isExecutable(candidate.java))) continue;
    const runtime = await tryCandidate(candidate);
    if (runtime !== undefined) runtimes.push(runtime);
  }
  const newest = runtimes.sort((a, b) => b.major - a.major)[0];
  if (newest !== undefined) return newest;

  throw new KeycloakSetupError(
    [
      `Keycloak needs Java ${minimum} or later, and none was found${found.length > 0 ? ` (${found.join("; ")})` : " (no JAVA_HOME, no java on PATH)"}.`,
      `Install a JDK ${minimum}+ (Debian/Ubuntu: apt-get install openjdk-${Math.max(minimum, 17)}-jdk-headless; or Temurin) and put it on PATH or in JAVA_HOME (KEYCLOAK_JAVA_HOME for Keycloak only).`,
      "Without Java: `docker compose up` runs the same Keycloak in Docker, and `npm start` alone uses the embedded provider.",
    ].join("\n"),
  );
}
