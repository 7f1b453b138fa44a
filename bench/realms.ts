/**
 * Many realms (issue 17), on the deployed bundle with `KEYCLOAK_ISSUER` a `{realm}` pattern for the
 * bench's local Keycloak stand-in:
 * - memory per realm: the heap (after full GCs) a child holds after one token of each of N
 *   realms, against N distinct tokens of one realm (same pattern, token cache off in both): the
 *   difference is what each realm's discovery, key set and verifier state costs;
 * - a flood of tokens naming random, non-existent realms, paced over several seconds: how many
 *   discoveries reach Keycloak per second (the default limit, 10 per second with a burst of as
 *   many), what the tokens get, and whether the heap grows.
 * (A warm realm's verify against the single-issuer path is the warm suite's `realms` scenario.)
 */
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { MemoryResult } from "./child/protocol.js";
import { runChild, type BenchContext, type SuiteResult } from "./context.js";
import { eventJson, TOKEN_CACHE_VARIABLE } from "./events.js";
import { figure, progress } from "./stats.js";
import { keycloakClaims, signJwts } from "./tokens.js";

/** Realms held at once in the memory measurement (all fit under KEYCLOAK_MAX_REALMS). */
const REALMS = 200;
/** Tokens naming random realms in the flood, and their pace. */
const FLOOD_TOKENS = 10_000;
const FLOOD_PER_SECOND = 2_000;
const FLOOD_STEPS = 4;
/** The authorizer's default (lib/config/realm-settings.ts): what the flood must stay under. */
const DEFAULT_DISCOVERIES_PER_SECOND = 10;

export async function realmFigures(ctx: BenchContext): Promise<SuiteResult> {
  const pattern = ctx.realm.issuer.replace(/[^/]+$/, "{realm}");
  const prefix = ctx.realm.issuer.replace(/[^/]+$/, "");
  const tokenOf = async (issuers: readonly string[]): Promise<string[]> =>
    signJwts(
      ctx.realm,
      issuers.map((issuer) => keycloakClaims(issuer, ctx.audience)),
    );
  const eventsFile = async (name: string, tokens: readonly string[]): Promise<string> => {
    const file = join(ctx.tmp, `${name}.json`);
    await writeFile(file, JSON.stringify(tokens.map((token) => eventJson("http-v2", `Bearer ${token}`))));
    return file;
  };

  // Every realm shares the bench realm's key: a realm's cost is its state here, not key generation.
  progress(`realms: ${REALMS} realms on the local Keycloak stand-in, signing tokens`);
  const realmIssuers = Array.from({ length: REALMS }, (_, i) => ctx.idp.realm(`tenant-${i}`, { shareKeyWith: ctx.realm.realm }).issuer);
  const manyRealms = await eventsFile("realms-many", await tokenOf([ctx.realm.issuer, ...realmIssuers]));
  const oneRealm = await eventsFile("realms-one", await tokenOf(Array.from({ length: REALMS + 1 }, () => ctx.realm.issuer)));
  const env = {
    KEYCLOAK_ISSUER: pattern,
    KEYCLOAK_MAX_REALMS: String(REALMS + 10),
    KEYCLOAK_REALM_DISCOVERIES_PER_SECOND: "1000",
    [TOKEN_CACHE_VARIABLE]: "0",
  };
  const runs = Math.min(ctx.runs, 3);
  const many: MemoryResult[] = [];
  const one: MemoryResult[] = [];
  for (let run = 1; run <= runs; run += 1) {
    for (const [label, file, into] of [
      ["many realms", manyRealms, many],
      ["one realm", oneRealm, one],
    ] as const) {
      progress(`realms memory run ${run}/${runs}: ${label}`);
      into.push(await memoryRun(ctx, { eventsFile: file, perStep: REALMS, steps: 1 }, env));
    }
  }
  const grown = (r: MemoryResult) => (r.heapBytes[1] as number) - (r.heapBytes[0] as number);
  const perRealmKb = many.map((r, i) => (grown(r) - grown(one[i] as MemoryResult)) / REALMS / 1024);

  // The flood: realm names nobody created, as an attacker would send them.
  progress(`realms flood: signing ${FLOOD_TOKENS} tokens naming random realms`);
  const invented = Array.from({ length: FLOOD_TOKENS }, () => `${prefix}r${randomBytes(8).toString("hex")}`);
  const floodFile = await eventsFile("realms-flood", await tokenOf([ctx.realm.issuer, ...invented]));
  const floodRuns: { result: MemoryResult; discoveries: number }[] = [];
  for (let run = 1; run <= Math.min(runs, 2); run += 1) {
    progress(`realms flood run ${run}: ${FLOOD_TOKENS} tokens at ${FLOOD_PER_SECOND}/s`);
    const before = ctx.idp.unknownDiscoveries();
    const result = await memoryRun(
      ctx,
      { eventsFile: floodFile, perStep: FLOOD_TOKENS / FLOOD_STEPS, steps: FLOOD_STEPS, allowRefusals: true, opsPerSecond: FLOOD_PER_SECOND },
      { KEYCLOAK_ISSUER: pattern },
    );
    floodRuns.push({ result, discoveries: ctx.idp.unknownDiscoveries() - before });
  }
  const seconds = floodRuns.map(({ result }) => result.elapsedMs / 1000);
  const perSecond = floodRuns.map(({ discoveries }, i) => discoveries / (seconds[i] as number));
  // A bucket of `rate` tokens refilled at `rate` per second: at most rate x (seconds + 1) in all.
  const bound = DEFAULT_DISCOVERIES_PER_SECOND * (1 + 1 / Math.min(...seconds));
  const floodHeap = (r: MemoryResult, step: number) => ((r.heapBytes[step] as number) - (r.heapBytes[1] as number)) / 1024;
  return {
    figures: [
      figure({
        name: "realms.memory.per-realm",
        unit: "KB",
        runs: perRealmKb,
        about: `heap per realm held (discovery, key set, verifier state): ${REALMS} realms minus ${REALMS} tokens of one realm, token cache off`,
      }),
      figure({
        name: "realms.flood.discoveries-per-second",
        unit: "1/s",
        runs: perSecond,
        // Rounded up: the bound is exact arithmetic, the printed limit must not undercut it.
        target: { on: "value", op: "<=", limit: Math.ceil(bound * 100) / 100 },
        about: `Keycloak requests per second under ${FLOOD_TOKENS} tokens naming random realms at ${FLOOD_PER_SECOND}/s (default limit ${DEFAULT_DISCOVERIES_PER_SECOND}/s, burst ${DEFAULT_DISCOVERIES_PER_SECOND})`,
      }),
      figure({
        name: "realms.flood.allowed",
        unit: "count",
        runs: floodRuns.map(({ result }) => result.outcomes.allowed),
        target: { on: "value", op: "==", limit: 0 },
        about: "flood tokens allowed (every one must be refused or failed)",
      }),
      figure({
        name: "realms.flood.heap-growth",
        unit: "KB",
        runs: floodRuns.map(({ result }) => floodHeap(result, FLOOD_STEPS)),
        about: `heap after the whole flood minus after its first quarter (${FLOOD_TOKENS / FLOOD_STEPS} tokens): bounded means about 0`,
      }),
    ],
    details: {
      realms: REALMS,
      many,
      one,
      flood: floodRuns.map(({ result, discoveries }) => ({
        discoveries,
        seconds: result.elapsedMs / 1000,
        outcomes: result.outcomes,
        heapBytes: result.heapBytes,
      })),
    },
  };
}

async function memoryRun(
  ctx: BenchContext,
  memory: NonNullable<Parameters<typeof runChild>[1]["memory"]>,
  env: Readonly<Record<string, string>>,
): Promise<MemoryResult> {
  const { messages } = await runChild(ctx, { mode: "memory", memory }, env);
  const result = messages.find((m) => m.type === "memory");
  if (result?.type !== "memory") throw new Error("realms: the memory child sent no result");
  return result.result;
}
