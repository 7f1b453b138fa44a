/**
 * Keycloak's server distribution, ready to run, in a git-ignored cache folder:
 * `.cache/keycloak/<version>/keycloak-<version>/` (KEYCLOAK_CACHE_DIR moves `.cache/keycloak`).
 *
 * The first run fetches `org.keycloak:keycloak-quarkus-dist:<version>:zip` with Maven (into the
 * local Maven repository, then copied here), unpacks it, and runs Quarkus' build step once for the
 * options every start uses (BUILD_OPTIONS), all in a staging folder that is renamed into place
 * only when complete. Later runs find the folder and start in seconds more than Keycloak itself
 * needs; they never write to it (each start has its own home, see server.ts), so any number of
 * Keycloaks can run from one cache at the same time.
 */
import { execFile } from "node:child_process";
import { createWriteStream, existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readdir, rename, rm } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import yauzl from "yauzl";
import { KeycloakSetupError } from "./errors.js";
import type { JavaRuntime } from "./java.js";
import { keycloakErrorLines, startKc } from "./kc-process.js";
import { freeLoopbackPort, onPath } from "./system.js";
import { mavenCoordinates } from "./version.js";
import { stripVTControlCharacters } from "node:util";

/** The repository root. */
export const ROOT = fileURLToPath(new URL("../..", import.meta.url)).replace(/\/$/, "");

/** Build-time options (Quarkus bakes them in): the same for the preparing run and every start. */
export const BUILD_OPTIONS = ["--db=dev-mem", "--health-enabled=true"] as const;

const MAVEN_DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1";

export interface Distribution {
  readonly version: string;
  /** The unpacked, prepared distribution (read-only from here on). */
  readonly home: string;
  /** True when this call fetched and prepared it (the first run). */
  readonly created: boolean;
}

export interface EnsureOptions {
  readonly version: string;
  readonly java: JavaRuntime;
  readonly cacheDir?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Progress for a console: "fetching ...", "unpacking ...". */
  readonly onStep?: (message: string) => void;
  /** Every line of Maven and of the preparing Keycloak run. */
  readonly onLine?: (line: string) => void;
  readonly signal?: AbortSignal;
}

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.KEYCLOAK_CACHE_DIR?.trim() || join(ROOT, ".cache", "keycloak"));
}

export function distributionHome(cacheDir: string, version: string): string {
  return join(cacheDir, version, `keycloak-${version}`);
}

export async function ensureDistribution(options: EnsureOptions): Promise<Distribution> {
  const env = options.env ?? process.env;
  const cacheDir = options.cacheDir ?? defaultCacheDir(env);
  const home = distributionHome(cacheDir, options.version);
  if (existsSync(join(home, "bin", "kc.sh"))) return { version: options.version, home, created: false };

  const mvn = await onPath("mvn", env);
  if (mvn === undefined) {
    throw new KeycloakSetupError(
      [
        `Maven (mvn) is needed once, to fetch Keycloak ${options.version} (${mavenCoordinates(options.version)}, about 160 MB) from Maven Central into ${relativeToRoot(cacheDir)}/.`,
        "Install Maven 3.8 or later (Debian/Ubuntu: apt-get install maven) and run this again.",
        "Without Maven: `docker compose up` runs the same Keycloak in Docker, and `npm start` alone uses the embedded provider.",
      ].join("\n"),
    );
  }

  await mkdir(join(cacheDir, options.version), { recursive: true });
  const staging = await mkdtemp(join(cacheDir, options.version, ".staging-"));
  try {
    options.onStep?.(`fetching ${mavenCoordinates(options.version)} with Maven (first run only)`);
    const zip = await fetchWithMaven(mvn, options, staging, env);
    options.onStep?.(`unpacking into ${relativeToRoot(cacheDir)}/${options.version}/`);
    const unpacked = join(staging, "unpacked");
    await unzip(zip, unpacked);
    await rm(zip, { force: true });
    const entries = await readdir(unpacked);
    const top = entries.length === 1 && entries[0] !== undefined ? join(unpacked, entries[0]) : unpacked;
    if (!existsSync(join(top, "bin", "kc.sh"))) throw new KeycloakSetupError(`the Maven artifact ${mavenCoordinates(options.version)} holds no bin/kc.sh`);

    options.onStep?.("preparing it for dev mode (Quarkus build step, first run only)");
    await prepare(top, options.java, env, options.onLine, options.signal);

    try {
      await rename(top, home);
    } catch (error) {
      // Another run finished first: its copy is as good as ours.
      if (!existsSync(join(home, "bin", "kc.sh"))) throw error;
    }
    return { version: options.version, home, created: true };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

function relativeToRoot(path: string): string {
  return path.startsWith(ROOT) ? path.slice(ROOT.length).replace(/^\//, "") || "." : path;
}

function fetchWithMaven(mvn: string, options: EnsureOptions, staging: string, env: NodeJS.ProcessEnv): Promise<string> {
  const args = [
    "-B",
    "-q",
    "-Dstyle.color=never",
    `${MAVEN_DEPENDENCY_PLUGIN}:copy`,
    `-Dartifact=${mavenCoordinates(options.version)}`,
    `-DoutputDirectory=${staging}`,
  ];
  return new Promise((resolvePromise, reject) => {
    const execOptions = {
      cwd: staging,
      env: { ...env, JAVA_HOME: options.java.home },
      maxBuffer: 16 * 1024 * 1024,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    };
    execFile(mvn, args, execOptions, (error, stdout, stderr) => {
      const output = stripVTControlCharacters(`${stdout}\n${stderr}`);
      for (const line of output.split("\n")) if (line.trim() !== "") options.onLine?.(line);
      if (error !== null) {
        if (options.signal?.aborted) {
          reject(options.signal.reason);
          return;
        }
        const reason = output
          .split("\n")
          .map((line) => line.trim())
          .find((line) => line.startsWith("[ERROR]") && line.length > "[ERROR] ".length);
        reject(
          new KeycloakSetupError(
            `Maven could not fetch ${mavenCoordinates(options.version)}: ${reason?.replace(/^\[ERROR\]\s*/, "") ?? error.message}\n` +
              "Check that Maven reaches Maven Central (proxy settings in ~/.m2/settings.xml), or use `docker compose up` / `npm start` alone.",
          ),
        );
        return;
      }
      resolvePromise(join(staging, `keycloak-quarkus-dist-${options.version}.zip`));
    });
  });
}

/** Unpack a zip, keeping each file's Unix permissions (bin/kc.sh must stay executable). */
function unzip(file: string, dir: string): Promise<void> {
  const root = resolve(dir);
  return new Promise((done, fail) => {
    yauzl.open(file, { lazyEntries: true }, (error, zip) => {
      if (error !== null || zip === undefined) {
        fail(error ?? new Error(`cannot open ${file}`));
        return;
      }
      zip.on("entry", (entry: yauzl.Entry) => {
        const target = resolve(join(root, entry.fileName));
        if (!target.startsWith(root + sep)) {
          fail(new Error(`zip entry outside the target folder: ${entry.fileName}`));
          return;
        }
        if (entry.fileName.endsWith("/")) {
          mkdir(target, { recursive: true }).then(() => zip.readEntry(), fail);
          return;
        }
        const mode = (entry.externalFileAttributes >>> 16) & 0o777;
        zip.openReadStream(entry, (streamError, stream) => {
          if (streamError !== null || stream === undefined) {
            fail(streamError ?? new Error(`cannot read ${entry.fileName}`));
            return;
          }
          mkdir(dirname(target), { recursive: true })
            .then(() => pipeline(stream, createWriteStream(target)))
            .then(() => (mode !== 0 ? chmod(target, mode) : undefined))
            .then(() => zip.readEntry(), fail);
        });
      });
      zip.once("end", () => done());
      zip.once("error", fail);
      zip.readEntry();
    });
  });
}

/**
 * Quarkus' build ("augmentation") for BUILD_OPTIONS: start-dev runs it and then relaunches the
 * server; we stop as soon as the relaunch announces itself, before any port matters.
 */
async function prepare(home: string, java: JavaRuntime, env: NodeJS.ProcessEnv, onLine?: (line: string) => void, signal?: AbortSignal): Promise<void> {
  const [httpPort, managementPort] = [await freeLoopbackPort(), await freeLoopbackPort()];
  const kc = startKc(
    join(home, "bin", "kc.sh"),
    [
      "start-dev",
      ...BUILD_OPTIONS,
      "--http-host=127.0.0.1",
      `--http-port=${httpPort}`,
      `--http-management-port=${managementPort}`,
      "--log-console-color=false",
    ],
    { cwd: home, env: { ...env, JAVA_HOME: java.home }, ...(onLine === undefined ? {} : { onLine }) },
  );
  const abort = (): void => void kc.stop(5_000);
  signal?.addEventListener("abort", abort, { once: true });
  try {
    await kc.waitForLine(/Running the server in development mode/, 600_000);
  } catch (error) {
    signal?.throwIfAborted();
    const reason = keycloakErrorLines(kc.lines)[0] ?? kc.lines.at(-1) ?? String(error);
    throw new KeycloakSetupError(`Keycloak's build step failed: ${reason}`);
  } finally {
    signal?.removeEventListener("abort", abort);
    await kc.stop(5_000);
  }
}
