/**
 * Cold start and cold burst, each in a fresh `node` process importing the production bundle, with
 * discovery and JWKS served by a local stub (so only this machine's work is measured).
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { authorizerEvent } from "../test/helpers/events.js";
import { startIdpStub, type IdpStub } from "../test/helpers/idp-stub.js";
import { accessToken, generateRsaKey, TEST_AUDIENCE, type TestKey } from "../test/helpers/tokens.js";
import { bundleAuthorizer } from "./bundle.js";
import { figure, percentile, progress, type Figure } from "./stats.js";

const BURST = 200;

/** Imports the bundle, answers one request, prints the Allow, exits: a Lambda init plus first invoke. */
const FIRST_REQUEST = `
const { handler } = await import(process.env.BENCH_BUNDLE);
const result = await handler(JSON.parse(process.env.BENCH_EVENT));
if (result.isAuthorized !== true) { console.error(JSON.stringify(result)); process.exit(1); }
`;

/**
 * BURST concurrent first invocations on a freshly imported handler, then the same again warm.
 * Latency of each call is measured from the common start of its burst.
 */
const BURST_SCRIPT = `
let input = "";
for await (const chunk of process.stdin) input += chunk;
const events = JSON.parse(input);
const { handler } = await import(process.env.BENCH_BUNDLE);
async function burst() {
  const start = performance.now();
  const latencies = await Promise.all(events.map(async (event) => {
    const result = await handler(event);
    if (result.isAuthorized !== true) throw new Error("refused");
    return performance.now() - start;
  }));
  return latencies;
}
const cold = await burst();
const warm = await burst();
// The deployed handler writes its logs and EMF metrics to stdout too: mark our line.
process.stdout.write("\\nBENCH_RESULT " + JSON.stringify({ cold, warm }) + "\\n");
`;

function run(args: string[], env: Record<string, string>, stdin?: string): Promise<{ ms: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, args, { env: { PATH: process.env.PATH ?? "", ...env }, stdio: [stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
    if (stdin !== undefined) child.stdin?.end(stdin);
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("error", reject);
    child.once("exit", (code) => {
      const ms = performance.now() - start;
      if (code === 0) resolve({ ms, stdout });
      else reject(new Error(`node ${args.join(" ").slice(0, 60)}... exited ${code}: ${stderr}`));
    });
  });
}

function lambdaEnv(idp: IdpStub, bundle: string): Record<string, string> {
  return { KEYCLOAK_ISSUER: idp.issuer, KEYCLOAK_AUDIENCE: TEST_AUDIENCE, BENCH_BUNDLE: pathToFileURL(bundle).href };
}

export async function coldFigures(runs: number): Promise<Figure[]> {
  const dir = await mkdtemp(join(tmpdir(), "kc-bench-"));
  const key: TestKey = generateRsaKey();
  const stubs: IdpStub[] = [];
  try {
    const { file, bytes } = await bundleAuthorizer(dir);
    progress(`bundle ${file}: ${bytes} bytes`);
    const figures: Figure[] = [
      figure("cold.bundle-size", "KB", [bytes / 1024], "target KB", [100], { target: "< 100 KB", met: (v) => v < 100 }),
    ];

    // Cold start: bare node vs node importing the bundle and answering one request, alternated.
    const idp = await startIdpStub([key.jwk], "/realms/bench");
    stubs.push(idp);
    const bare: number[] = [];
    const first: number[] = [];
    for (let i = 0; i <= runs; i += 1) {
      progress(`cold start run ${i}/${runs}${i === 0 ? " (warm-up, discarded)" : ""}`);
      const event = JSON.stringify(authorizerEvent("http-v2", `Bearer ${accessToken(key, idp.issuer)}`));
      const b = await run(["-e", ""], {});
      const f = await run(["--input-type=module", "-e", FIRST_REQUEST], { ...lambdaEnv(idp, file), BENCH_EVENT: event });
      if (i > 0) {
        bare.push(b.ms);
        first.push(f.ms);
      }
    }
    const overhead = first.map((ms, i) => ms - (bare[i] as number));
    figures.push(
      figure("cold.first-request", "ms", first, "bare node -e '' ms", bare),
      figure("cold.first-request-overhead", "ms", overhead, "target ms", [150], { target: "<= 150 ms above bare node", met: (v) => v <= 150 }),
    );

    // Cold burst: a fresh stub per run, so its counters are this run's fetches only.
    const discovery: number[] = [];
    const jwks: number[] = [];
    const p50: number[] = [];
    const p99: number[] = [];
    const warmP50: number[] = [];
    const warmP99: number[] = [];
    for (let i = 1; i <= runs; i += 1) {
      progress(`cold burst run ${i}/${runs}`);
      const stub = await startIdpStub([key.jwk], "/realms/bench");
      stubs.push(stub);
      const events = Array.from({ length: BURST }, () => authorizerEvent("http-v2", `Bearer ${accessToken(key, stub.issuer)}`));
      const { stdout } = await run(["--input-type=module", "-e", BURST_SCRIPT], lambdaEnv(stub, file), JSON.stringify(events));
      const line = stdout.split("\n").find((candidate) => candidate.startsWith("BENCH_RESULT ")) ?? "";
      const { cold, warm } = JSON.parse(line.slice("BENCH_RESULT ".length)) as { cold: number[]; warm: number[] };
      discovery.push(stub.counts.discovery);
      jwks.push(stub.counts.jwks);
      p50.push(percentile(cold, 50));
      p99.push(percentile(cold, 99));
      warmP50.push(percentile(warm, 50));
      warmP99.push(percentile(warm, 99));
      await stub.close();
    }
    const exactlyOne = { target: "1 per burst", met: (v: number) => v === 1 };
    figures.push(
      figure("burst.discovery-fetches", "count", discovery, "expected", [1], { ...exactlyOne, met: () => discovery.every((n) => n === 1) }),
      figure("burst.jwks-fetches", "count", jwks, "expected", [1], { ...exactlyOne, met: () => jwks.every((n) => n === 1) }),
      figure("burst.cold-p50", "ms", p50, "same burst warm p50 ms", warmP50),
      figure("burst.cold-p99", "ms", p99, "same burst warm p99 ms", warmP99),
    );
    return figures;
  } finally {
    for (const stub of stubs) await stub.close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}
