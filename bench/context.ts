/**
 * What every suite of the bench shares: the bundle, the deployed environment, the local realm
 * server, and a way to run the measured child (bench/child/main.ts) with all of them.
 */
import type { AuthorizerBundle } from "./bundle.js";
import type { ChildMessage, ChildStart, ParentMessage } from "./child/protocol.js";
import type { DeployedFunction } from "./deployed-env.js";
import type { LambdaIdentity } from "./events.js";
import type { LocalRevocationStore } from "../local/revocation-store.js";
import type { Idp } from "./idp.js";
import { spawnMeasured, type MeasuredProcess } from "./measured-process.js";
import { progress, type Figure } from "./stats.js";
import type { RealmKey } from "./tokens.js";

export interface BenchContext {
  readonly runs: number;
  /** Selectors from BENCH_ONLY (undefined: the default set). */
  readonly only: readonly string[] | undefined;
  readonly bundle: AuthorizerBundle;
  /** What a stage with DPoP or revocation on deploys (infra/authorizer-entry.cjs), for their scenarios. */
  readonly fullBundle: AuthorizerBundle;
  readonly childScript: string;
  readonly deployed: DeployedFunction;
  readonly idp: Idp;
  /** The realm the deployed environment points at (KEYCLOAK_ISSUER). */
  readonly realm: RealmKey;
  readonly audience: string;
  readonly lambda: LambdaIdentity;
  /** KEYCLOAK_TOKEN_CACHE_SIZE as deployed (0: off). */
  readonly tokenCacheSize: number;
  /** The local revocation store the revocation scenarios read (counting requests). */
  readonly revocation: LocalRevocationStore;
  /** Scratch directory, removed at the end. */
  readonly tmp: string;
  /** Where .cpuprofile and results go. */
  readonly resultsDir: string;
}

/** A suite's output: figures, and anything else worth keeping in latest.json. */
export interface SuiteResult {
  readonly figures: readonly Figure[];
  readonly details?: Record<string, unknown>;
  /** Text printed after the figures (the profile report). */
  readonly report?: string;
}

export interface ChildRun {
  readonly messages: readonly ChildMessage[];
  readonly process: MeasuredProcess;
}

/** Runs bench/child/main.ts in `mode` to its end; realm requests are answered from the local server. */
export async function runChild(
  ctx: BenchContext,
  start: Omit<ChildStart, "bundleUrl" | "fullBundleUrl" | "exportName" | "lambda" | "audience" | "realm" | "runs" | "only" | "deployedTokenCacheSize"> &
    Partial<ChildStart>,
  envOverrides: Readonly<Record<string, string>> = {},
): Promise<ChildRun> {
  const full: ChildStart = {
    bundleUrl: ctx.bundle.url,
    fullBundleUrl: ctx.fullBundle.url,
    exportName: ctx.bundle.exportName,
    lambda: ctx.lambda,
    audience: ctx.audience,
    realm: ctx.realm,
    runs: ctx.runs,
    only: ctx.only,
    deployedTokenCacheSize: ctx.tokenCacheSize,
    revocation: { endpoint: ctx.revocation.endpoint, table: ctx.revocation.table },
    ...start,
  };
  const measured = spawnMeasured([ctx.childScript], {
    env: { ...ctx.deployed.env, ...envOverrides },
    nodeFlags: ctx.deployed.nodeFlags,
    ipc: true,
    timeoutMs: 15 * 60_000,
  });
  const child = measured.child;
  const messages: ChildMessage[] = [];
  let failure: string | undefined;
  child.on("message", (message: ChildMessage) => {
    messages.push(message);
    if (message.type === "progress") progress(message.message);
    else if (message.type === "error") failure = message.message;
    else if (message.type === "realm?") {
      const reply: ParentMessage = { type: "realm", key: ctx.idp.realm(message.name) };
      child.send(reply);
    }
  });
  child.send({ type: "start", start: full } satisfies ParentMessage);
  const { code, signal } = await measured.done;
  if (failure !== undefined || code !== 0) {
    throw new Error(`bench child (${full.mode}) failed (${code ?? signal}): ${failure ?? "no message"}\n${measured.tail()}`);
  }
  return { messages, process: measured };
}
