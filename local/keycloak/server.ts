/**
 * Real Keycloak on this machine, without Docker: the cached distribution (distribution.ts) started
 * in dev mode with a realm file imported, on the host and port of the issuer, loopback only.
 *
 * Each start gets a home of its own in the temp folder: `bin/kc.sh` copied (Keycloak takes its
 * home from the script's location), `lib`, `conf`, `themes` and `providers` linked to the cache,
 * and a private `data/` holding the realm to import and the transaction log. The database is
 * in memory (`--db=dev-mem`), so every start imports the realm file afresh and forgets what the
 * previous one changed, as `docker compose up` does with a new container.
 *
 * `--hostname=<issuer origin>` (Keycloak's hostname v2) fixes the URLs Keycloak puts in tokens and
 * discovery, so `iss` is exactly the issuer however the server is reached.
 */
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { BUILD_OPTIONS, ensureDistribution } from "./distribution.js";
import { KeycloakSetupError } from "./errors.js";
import { findJava, type JavaRuntime } from "./java.js";
import { keycloakErrorLines, startKc, type KcProcess } from "./kc-process.js";
import { freeLoopbackPort, loopbackPortFree } from "./system.js";
import { keycloakVersion } from "./version.js";

export const DEFAULT_ISSUER = "http://localhost:8080/realms/demo";
export const DEFAULT_REALM_FILE = fileURLToPath(new URL("../../keycloak/realm-demo.json", import.meta.url));
/** Imported beside the default realm file: a second realm of the same Keycloak (docs/many-realms.md). */
export const EXTRA_REALM_FILES: readonly string[] = [fileURLToPath(new URL("../../keycloak/realm-acme.json", import.meta.url))];
/** Keycloak's own default, and what docker-compose.yml's health check uses. */
export const DEFAULT_MANAGEMENT_PORT = 9000;

export interface AdminCredentials {
  readonly username: string;
  readonly password: string;
}

/** The bootstrap admin: KEYCLOAK_ADMIN / KEYCLOAK_ADMIN_PASSWORD, admin/admin by default (as docker-compose.yml). */
export function adminCredentials(env: NodeJS.ProcessEnv = process.env): AdminCredentials {
  return { username: env.KEYCLOAK_ADMIN?.trim() || "admin", password: env.KEYCLOAK_ADMIN_PASSWORD ?? "admin" };
}

export interface StartKeycloakOptions {
  /** Default DEFAULT_ISSUER. Must be http on localhost/127.0.0.1, path /realms/<the realm file's realm>. */
  readonly issuer?: string;
  readonly realmFile?: string;
  /** More realm files imported beside it; EXTRA_REALM_FILES with the default realm file, else none. */
  readonly extraRealmFiles?: readonly string[];
  /** Keycloak's management interface (/health/ready); 0 picks a free port. Default 9000. */
  readonly managementPort?: number;
  readonly admin?: AdminCredentials;
  readonly env?: NodeJS.ProcessEnv;
  readonly cacheDir?: string;
  /** Steps worth telling a person: finding Java, fetching, starting. */
  readonly onStep?: (message: string) => void;
  /** Every line Keycloak (and Maven, on the first run) prints. */
  readonly onLine?: (line: string) => void;
  readonly startTimeoutMs?: number;
  /** Aborting stops whatever is under way (Maven, the build step, Keycloak) and rejects. */
  readonly signal?: AbortSignal;
}

export interface RunningKeycloak {
  /** As Keycloak reports it in its start line, e.g. 26.4.2. */
  readonly version: string;
  readonly issuer: string;
  /** `http://localhost:8080`: the admin console is at /admin, the Admin REST API at /admin/realms. */
  readonly origin: string;
  readonly realm: string;
  readonly managementUrl: string;
  readonly admin: AdminCredentials;
  readonly java: JavaRuntime;
  /** Keycloak's own "started in" figure, seconds. */
  readonly startedInSeconds: number;
  /** True when this start fetched and prepared the distribution first. */
  readonly firstRun: boolean;
  /** Everything Keycloak printed so far. */
  readonly lines: readonly string[];
  /** Resolves when the server has exited (after stop(), or by itself). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Stops the server and removes its home; resolves once its ports are closed. */
  stop(): Promise<void>;
}

interface IssuerParts {
  readonly origin: string;
  readonly port: number;
  readonly realm: string;
}

function parseIssuer(issuer: string): IssuerParts {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw new KeycloakSetupError(`KEYCLOAK_ISSUER is not a URL: ${issuer}`);
  }
  const realm = /^\/realms\/([^/]+)$/.exec(url.pathname)?.[1];
  if (url.protocol !== "http:" || !["localhost", "127.0.0.1"].includes(url.hostname) || realm === undefined || url.search !== "" || url.hash !== "") {
    throw new KeycloakSetupError(`npm run keycloak serves issuers like http://localhost:<port>/realms/<realm> (plain http, loopback only); got ${issuer}`);
  }
  return { origin: url.origin, port: Number(url.port || 80), realm: decodeURIComponent(realm) };
}

async function discoveryIssuer(issuer: string): Promise<string | undefined> {
  try {
    const response = await fetch(`${issuer}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(2000) });
    if (!response.ok) return undefined;
    const document = (await response.json()) as { issuer?: unknown };
    return typeof document.issuer === "string" ? document.issuer : undefined;
  } catch {
    return undefined;
  }
}

/** The environment kc.sh gets: ours, minus anything that would reconfigure Keycloak behind our back. */
function keycloakEnv(env: NodeJS.ProcessEnv, java: JavaRuntime, admin: AdminCredentials): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(
    Object.entries(env).filter(([name]) => !name.startsWith("KC_") && !name.startsWith("KEYCLOAK_ADMIN") && !name.startsWith("QUARKUS_")),
  );
  return {
    ...clean,
    JAVA_HOME: java.home,
    KC_BOOTSTRAP_ADMIN_USERNAME: admin.username,
    KC_BOOTSTRAP_ADMIN_PASSWORD: admin.password,
  };
}

export async function startKeycloak(options: StartKeycloakOptions = {}): Promise<RunningKeycloak> {
  const env = options.env ?? process.env;
  const issuer = (options.issuer ?? DEFAULT_ISSUER).replace(/\/$/, "");
  const { origin, port, realm } = parseIssuer(issuer);
  const realmFile = options.realmFile ?? DEFAULT_REALM_FILE;
  const admin = options.admin ?? adminCredentials(env);
  const { version, minimumJava } = keycloakVersion();

  let realmName: unknown;
  try {
    realmName = (JSON.parse(await readFile(realmFile, "utf8")) as { realm?: unknown }).realm;
  } catch (error) {
    throw new KeycloakSetupError(`cannot read the realm file ${realmFile}: ${(error as Error).message}`);
  }
  if (realmName !== realm) {
    throw new KeycloakSetupError(`the issuer names realm "${realm}", but ${realmFile} holds realm "${String(realmName)}"`);
  }

  // Ports first: the cheapest check, and the likeliest problem.
  if (!(await loopbackPortFree(port))) {
    if ((await discoveryIssuer(issuer)) === issuer) {
      throw new KeycloakSetupError(
        `an OpenID provider already answers at ${issuer} (a Keycloak from docker compose or another npm run keycloak?). ` +
          "npm start uses it as it is; stop it first to start another one here.",
      );
    }
    throw new KeycloakSetupError(
      `port ${port} (from the issuer ${issuer}) is taken by another program. Stop it, or use another port for both: ` +
        `KEYCLOAK_ISSUER=http://localhost:8180/realms/${realm} npm run keycloak, and the same KEYCLOAK_ISSUER for npm start.`,
    );
  }
  const managementPort = options.managementPort === 0 ? await freeLoopbackPort() : (options.managementPort ?? DEFAULT_MANAGEMENT_PORT);
  if (managementPort === port)
    throw new KeycloakSetupError(`the management port ${managementPort} is the issuer's port; choose another KEYCLOAK_MANAGEMENT_PORT`);
  if (!(await loopbackPortFree(managementPort))) {
    throw new KeycloakSetupError(
      `Keycloak's management port ${managementPort} (health checks) is taken by another program. Set KEYCLOAK_MANAGEMENT_PORT to a free port (0 picks one).`,
    );
  }

  options.onStep?.(`Keycloak ${version}: looking for Java ${minimumJava} or later`);
  const java = await findJava(minimumJava, env);
  options.onStep?.(`Java ${java.major} (${java.versionLine}) from ${java.source}: ${java.home}`);
  const distribution = await ensureDistribution({
    version,
    java,
    env,
    ...(options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir }),
    ...(options.onStep === undefined ? {} : { onStep: options.onStep }),
    ...(options.onLine === undefined ? {} : { onLine: options.onLine }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  options.signal?.throwIfAborted();

  const home = await mkdtemp(join(tmpdir(), "kla-keycloak-"));
  let kc: KcProcess | undefined;
  try {
    await mkdir(join(home, "bin"));
    await copyFile(join(distribution.home, "bin", "kc.sh"), join(home, "bin", "kc.sh"));
    for (const folder of ["lib", "conf", "themes", "providers"]) await symlink(join(distribution.home, folder), join(home, folder));
    await mkdir(join(home, "data", "import"), { recursive: true });
    const extraRealmFiles = options.extraRealmFiles ?? (options.realmFile === undefined ? EXTRA_REALM_FILES : []);
    for (const file of [realmFile, ...extraRealmFiles]) await copyFile(file, join(home, "data", "import", `${basename(file, ".json")}.json`));

    options.onStep?.(`starting Keycloak ${version} in dev mode at ${origin}, importing ${[realmFile, ...extraRealmFiles].join(", ")}`);
    kc = startKc(
      "sh",
      [
        join(home, "bin", "kc.sh"),
        "start-dev",
        "--import-realm",
        ...BUILD_OPTIONS,
        "--http-host=127.0.0.1",
        `--http-port=${port}`,
        `--hostname=${origin}`,
        `--http-management-port=${managementPort}`,
        "--log-console-color=false",
      ],
      { cwd: home, env: keycloakEnv(env, java, admin), ...(options.onLine === undefined ? {} : { onLine: options.onLine }) },
    );
    const started = kc;
    const abort = (): void => void started.stop(5000);
    options.signal?.addEventListener("abort", abort, { once: true });
    let ready: RegExpExecArray;
    try {
      ready = await kc.waitForLine(/Keycloak (\S+) on JVM .*started in ([\d.]+)s/, options.startTimeoutMs ?? 300_000);
    } catch (error) {
      const lines = [...kc.lines];
      await kc.stop(5000);
      options.signal?.throwIfAborted();
      const reasons = keycloakErrorLines(lines);
      const imported = lines.some((line) => line.includes("Failed to run import")) ? ` (the realm import of ${realmFile} failed)` : "";
      const why = reasons.length > 0 ? reasons.join("\n  ") : lines.slice(-5).join("\n  ");
      throw new KeycloakSetupError(`Keycloak ${version} did not start${imported}: ${error instanceof Error ? error.message : String(error)}\n  ${why}`);
    }
    options.signal?.removeEventListener("abort", abort);
    const seen = await discoveryIssuer(issuer);
    if (seen !== issuer) {
      await kc.stop(5000);
      throw new KeycloakSetupError(`Keycloak started, but its discovery at ${issuer} says issuer ${seen ?? "(nothing)"}`);
    }
    const server = kc;
    let stopped: Promise<void> | undefined;
    return {
      version: ready[1] ?? version,
      issuer,
      origin,
      realm,
      managementUrl: `http://127.0.0.1:${managementPort}`,
      admin,
      java,
      startedInSeconds: Number(ready[2]),
      firstRun: distribution.created,
      lines: server.lines,
      exited: server.exited,
      stop() {
        stopped ??= (async () => {
          await server.stop();
          await rm(home, { recursive: true, force: true });
        })();
        return stopped;
      },
    };
  } catch (error) {
    await kc?.stop(5000);
    await rm(home, { recursive: true, force: true });
    throw error;
  }
}
