/**
 * The whole local stack: Keycloak (a running one, or the embedded provider when nothing answers
 * at the issuer) plus the API under serverless-offline. Used by `npm start` and by the end-to-end
 * tests, so both run exactly the same thing.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startGuardProxy, type GuardProxy } from "./guard-proxy.js";
import { DEFAULT_ISSUER, startProvider, type RunningProvider } from "./provider/index.js";
import { LOCAL_AWS_ENV, startRevocationStore, type LocalRevocationStore } from "./revocation-store.js";
import { discoveryUrl } from "../lib/keys/discovery.js";
import { freeLoopbackPort } from "./keycloak/system.js";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SERVERLESS_BIN = fileURLToPath(new URL("../node_modules/serverless/bin/serverless.js", import.meta.url));

export interface StackOptions {
  /**
   * KEYCLOAK_ISSUER: an issuer, or a list of issuers and `{realm}` patterns (docs/many-realms.md).
   * Its first entry (a pattern's with the realm file's realm) is where Keycloak is looked for, and
   * what the embedded provider serves when nothing answers there.
   */
  issuer?: string;
  /** serverless-offline HTTP port (0: any free port). */
  port?: number;
  /** serverless-offline's Lambda invoke port (0: any free port). */
  lambdaPort?: number;
  realmFile?: string;
  /** More realms the embedded provider serves beside it, on the same server (keycloak/realm-acme.json, say). */
  extraRealmFiles?: readonly string[];
  /** Extra environment for serverless (and so for the functions), e.g. KEYCLOAK_ALLOWED_CLIENTS; a KEYCLOAK_ISSUER here overrides the provider's. */
  env?: Record<string, string>;
  /** Lines serverless-offline prints, for a console or a test log. */
  onOutput?: (line: string) => void;
  /**
   * Session revocation (docs/revocation.md): a local DynamoDB-compatible store with the table, and
   * the receiver and the authorizer's check pointed at it. Default: on, unless REVOCATION=false
   * (in `env`, or in this process's environment).
   */
  revocation?: boolean;
}

export interface RunningStack {
  readonly baseUrl: string;
  readonly issuer: string;
  /** "keycloak" when a real server answered at the issuer, else "embedded". */
  readonly providerKind: "keycloak" | "embedded";
  /** The embedded provider, when it is the one in use (for key rotation in tests). */
  readonly provider: RunningProvider | undefined;
  /** The local revocation store, when revocation is on (for tests: counts, outages). */
  readonly revocationStore: LocalRevocationStore | undefined;
  stop(): Promise<void>;
}

/** True when an OpenID provider answers discovery for exactly this issuer. */
export async function providerAnswers(issuer: string, timeoutMs = 1500): Promise<boolean> {
  try {
    const response = await fetch(discoveryUrl(issuer), { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) return false;
    const document = (await response.json()) as { issuer?: unknown };
    return document.issuer === issuer;
  } catch {
    return false;
  }
}

/** A loopback port nothing listens on right now. */
export const freePort = freeLoopbackPort;

/** The issuer of KEYCLOAK_ISSUER's first entry; a `{realm}` pattern's with `realm` put in. */
export function firstIssuer(configured: string, realm = "demo"): string {
  const first = configured.split(",")[0]?.trim() ?? "";
  return first.replace("{realm}", realm).replace(/\/$/, "");
}

export async function startStack(options: StackOptions = {}): Promise<RunningStack> {
  const configured = options.issuer ?? DEFAULT_ISSUER;
  const wantedIssuer = firstIssuer(configured);
  // A list or a pattern reaches the authorizer as written; a single issuer as the provider serves it.
  const issuerSetting: Record<string, string> = configured.includes(",") || configured.includes("{realm}") ? { KEYCLOAK_ISSUER: configured } : {};
  // A pattern first names no realm: challenges and the docs page take the realm file's (demo).
  if (configured.trim().split(",")[0]?.includes("{realm}")) Object.assign(issuerSetting, { AUTH_REALM: "demo", DOCS_REALM: "demo" });
  let provider: RunningProvider | undefined;
  let issuer = wantedIssuer;
  let providerKind: RunningStack["providerKind"] = "keycloak";
  if (!(await providerAnswers(wantedIssuer))) {
    const url = new URL(wantedIssuer);
    if (!["localhost", "127.0.0.1", "[::1]"].includes(url.hostname)) {
      throw new Error(`nothing answers at ${wantedIssuer}, and the embedded provider only serves loopback issuers`);
    }
    provider = await startProvider({
      issuer: wantedIssuer,
      ...(options.realmFile === undefined ? {} : { realmFile: options.realmFile }),
      ...(options.extraRealmFiles === undefined ? {} : { extraRealmFiles: options.extraRealmFiles }),
    });
    issuer = provider.issuer;
    providerKind = "embedded";
  }

  const revocation = options.revocation ?? (options.env?.REVOCATION ?? process.env.REVOCATION) !== "false";
  let revocationStore: LocalRevocationStore | undefined;
  if (revocation) {
    try {
      // The table serverless.yml names for the dev stage (`${self:service}-${sls:stage}-revocations`).
      revocationStore = await startRevocationStore({ table: "keycloak-lambda-authorizer-dev-revocations" });
    } catch (error) {
      await provider?.close();
      throw error;
    }
  }
  const revocationEnv: Record<string, string> =
    revocationStore === undefined ? { REVOCATION: "false" } : { REVOCATION: "true", KEYCLOAK_REVOCATION_ENDPOINT: revocationStore.endpoint, ...LOCAL_AWS_ENV };

  const port = options.port === 0 ? await freePort() : (options.port ?? 3000);
  const lambdaPort = options.lambdaPort === 0 ? await freePort() : (options.lambdaPort ?? 3002);
  // serverless-offline listens on a private port behind the guard proxy (local/guard-proxy.ts).
  const offlinePort = await freePort();
  const workFolder = `.esbuild-${port}`;
  let child: ChildProcess;
  let guard: GuardProxy;
  try {
    guard = await startGuardProxy({ host: "localhost", port, upstreamPort: offlinePort });
  } catch (error) {
    await revocationStore?.close();
    await provider?.close();
    throw error;
  }
  try {
    child = await startOffline(
      {
        ...revocationEnv,
        // `env` may name another KEYCLOAK_ISSUER than the provider's, to run the API misconfigured on purpose.
        KEYCLOAK_ISSUER: issuer,
        ...issuerSetting,
        // The authorizer that checks its answers against API Gateway's rules (local/offline/authorizer.ts).
        KLA_LOCAL_AUTHORIZER: "true",
        ...options.env,
        HOST: "127.0.0.1",
        PORT: String(offlinePort),
        LAMBDA_PORT: String(lambdaPort),
        ESBUILD_WORK_FOLDER: workFolder,
      },
      options.onOutput,
    );
  } catch (error) {
    await guard.close();
    await revocationStore?.close();
    await provider?.close();
    throw error;
  }

  let stopped: Promise<void> | undefined;
  return {
    baseUrl: `http://localhost:${port}`,
    issuer,
    providerKind,
    provider,
    revocationStore,
    stop() {
      stopped ??= (async () => {
        await guard.close();
        await killGroup(child);
        await revocationStore?.close();
        await provider?.close();
        // serverless-esbuild only cleans its folder on a graceful exit of its own.
        await rm(join(ROOT, workFolder), { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}

/** Run `serverless offline start` in its own process group and wait for its ready line. */
function startOffline(env: Record<string, string>, onOutput?: (line: string) => void): Promise<ChildProcess> {
  // serverless-offline would also take an authorizer result from the AUTHORIZER variable: never
  // inherit one from the developer's shell.
  const { AUTHORIZER: _ignored, ...inherited } = process.env;
  const child = spawn(process.execPath, [SERVERLESS_BIN, "offline", "start"], {
    cwd: ROOT,
    env: { ...inherited, ...env, SLS_TELEMETRY_DISABLED: "1", SLS_NOTIFICATIONS_MODE: "off" },
    // Its own process group, so stopping it also stops whatever it started (esbuild's service).
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  return new Promise((resolve, reject) => {
    const output: string[] = [];
    const timer = setTimeout(() => {
      void killGroup(child);
      reject(new Error(`serverless-offline was not ready within 90 s:\n${output.join("\n")}`));
    }, 90_000);
    const onData = (chunk: Buffer): void => {
      for (const line of chunk.toString().split("\n")) {
        if (line.trim() === "") continue;
        output.push(line);
        onOutput?.(line);
        if (line.includes("Server ready:")) {
          clearTimeout(timer);
          resolve(child);
        }
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`serverless-offline exited with ${code}:\n${output.join("\n")}`));
    });
  });
}

function killGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => {
      try {
        process.kill(-(child.pid as number), "SIGKILL");
      } catch {
        // already gone
      }
    }, 5000);
    child.once("exit", () => {
      clearTimeout(force);
      resolve();
    });
    try {
      process.kill(-(child.pid as number), "SIGTERM");
    } catch {
      clearTimeout(force);
      resolve();
    }
  });
}
