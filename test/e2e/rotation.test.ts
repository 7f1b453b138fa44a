/**
 * Key rotation end to end, over real HTTP: the embedded provider signs with a new key, and the
 * authorizer running under serverless-offline follows with one JWKS refetch, keeps accepting
 * tokens signed by keys still published, and refetches for unknown kids at most once per cooldown.
 *
 * The provider sits behind a counting proxy at the issuer's address, so the test can assert how
 * many discovery and JWKS requests the authorizer (another process) made. `startStack` finds a
 * provider answering at the issuer and uses it, as `npm start` does with a running Keycloak.
 */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { startProvider, type RunningProvider } from "../../local/provider/index.js";
import { freePort, startStack, type RunningStack } from "../../local/stack.js";
import { startCountingProxy, type CountingProxy } from "../helpers/counting-proxy.js";
import { passwordTokens } from "../helpers/oidc-client.js";

/**
 * Short, so the test does not idle for the default 30 s (serverless.yml maps the variable into
 * the authorizer's environment through the keycloakJwksCooldownSeconds param).
 */
const COOLDOWN_SECONDS = 4;
const ROUTES = ["/secured", "/dev/secured"] as const;

let provider: RunningProvider;
let proxy: CountingProxy;
let stack: RunningStack;
let providerPort: number;
const output: string[] = [];

beforeAll(async () => {
  const issuerPort = await freePort();
  providerPort = await freePort();
  const issuer = `http://localhost:${issuerPort}/realms/demo`;
  // The provider answers for `issuer` (every URL it emits uses the issuer's origin) but listens
  // on its own port; the proxy listens at the issuer's port and forwards to it.
  provider = await startProvider({ issuer, port: providerPort });
  proxy = await startCountingProxy(issuerPort, providerPort);
  stack = await startStack({
    issuer,
    port: 0,
    lambdaPort: 0,
    env: { KEYCLOAK_JWKS_COOLDOWN_SECONDS: String(COOLDOWN_SECONDS) },
    onOutput: (line) => output.push(line),
  });
  // startStack itself probed discovery; from here on, every request is the authorizer's.
  proxy.reset();
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await proxy?.close();
  await provider?.close();
});

async function status(path: string, token: string): Promise<number> {
  const response = await fetch(`${stack.baseUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
  await response.arrayBuffer();
  return response.status;
}

/** Status on both APIs, one after the other (one warm authorizer instance serves both). */
async function statuses(token: string): Promise<number[]> {
  const results: number[] = [];
  for (const path of ROUTES) results.push(await status(path, token));
  return results;
}

const kidOf = (token: string): string => (JSON.parse(Buffer.from(token.split(".")[0] ?? "", "base64url").toString("utf8")) as { kid: string }).kid;

/** The kids the realm publishes, read from the provider directly (not through the counting proxy). */
async function publishedKids(): Promise<string[]> {
  const response = await fetch(`http://127.0.0.1:${providerPort}/realms/demo/protocol/openid-connect/certs`);
  const { keys } = (await response.json()) as { keys: Array<{ kid: string; use?: string }> };
  return keys.filter((key) => key.use === "sig").map((key) => key.kid);
}

async function aliceToken(): Promise<string> {
  return (await passwordTokens(stack.issuer, "alice")).access_token;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Discovery and JWKS requests since `mark`. */
function since(mark: { discovery: number; jwks: number }): { discovery: number; jwks: number } {
  return { discovery: proxy.counts.discovery - mark.discovery, jwks: proxy.counts.jwks - mark.jwks };
}

const refusalsFor = (reason: string): number => output.filter((line) => line.includes('"request refused"') && line.includes(`"reason":"${reason}"`)).length;

/**
 * Rotate, rotate again inside the cooldown, wait the cooldown out, asserting statuses and exactly
 * how many times the authorizer went back to the realm. Starts from a warm authorizer outside any
 * cooldown; `mark` is read after the warm-up, so only this scenario's requests are counted.
 */
async function rotationScenario(): Promise<void> {
  const before = await aliceToken();
  expect(await statuses(before)).toEqual([200, 200]);
  const mark = { ...proxy.counts };

  // 1. After a rotation: the new kid is unknown to the warm authorizer, so it refetches once.
  await provider.rotateSigningKey();
  const after = await aliceToken();
  expect(kidOf(after)).not.toBe(kidOf(before));
  // Keycloak keeps the previous key published (passive), so tokens it signed stay verifiable.
  expect(await publishedKids()).toEqual(expect.arrayContaining([kidOf(before), kidOf(after)]));
  expect(await statuses(after)).toEqual([200, 200]);
  expect(since(mark)).toEqual({ discovery: 0, jwks: 1 });
  const refetchedAt = proxy.lastJwksAt as number;
  expect(await statuses(before)).toEqual([200, 200]);
  expect(since(mark)).toEqual({ discovery: 0, jwks: 1 });

  // 2. Another rotation inside the cooldown: the newest kid is refused on the spot (401, not 500)
  // and the realm is not asked again; this is what keeps a flood of made-up kids from hammering
  // Keycloak. Known keys keep working meanwhile.
  await provider.rotateSigningKey();
  const newest = await aliceToken();
  expect(new Set([kidOf(before), kidOf(after), kidOf(newest)]).size).toBe(3);
  const unknownKidRefusals = refusalsFor("unknown_kid");
  expect(await statuses(newest)).toEqual([401, 401]);
  expect(since(mark)).toEqual({ discovery: 0, jwks: 1 });
  expect([...(await statuses(before)), ...(await statuses(after))]).toEqual([200, 200, 200, 200]);
  await sleep(200); // let serverless-offline print the authorizer's log lines
  expect(refusalsFor("unknown_kid") - unknownKidRefusals).toBe(2);

  // 3. Once the cooldown has passed, one refetch, and the newest token is accepted everywhere.
  const wait = refetchedAt + COOLDOWN_SECONDS * 1000 + 500 - Date.now();
  if (wait > 0) await sleep(wait);
  expect(await statuses(newest)).toEqual([200, 200]);
  expect(since(mark)).toEqual({ discovery: 0, jwks: 2 });
  expect([...(await statuses(before)), ...(await statuses(after))]).toEqual([200, 200, 200, 200]);
  expect(since(mark)).toEqual({ discovery: 0, jwks: 2 });
}

describe("signing key rotation", () => {
  test("a token from before rotation is accepted on both APIs; a cold start costs one discovery and one JWKS fetch", async () => {
    expect(stack.providerKind).toBe("keycloak"); // the provider behind the proxy, found at the issuer
    const token = await aliceToken();
    expect(await statuses(token)).toEqual([200, 200]);
    // One cold start, so one discovery; unless the instance was replaced meanwhile (see below).
    expect(proxy.counts.jwks).toBe(proxy.counts.discovery);
    expect(proxy.counts.discovery).toBeGreaterThanOrEqual(1);
  });

  test(
    "new kids are accepted after exactly one refetch, old tokens keep working, and a second new kid waits for the cooldown",
    async () => {
      // serverless-offline drops every warm Lambda instance whenever serverless-esbuild's watcher
      // sees a .js/.ts file change anywhere in the repository (another engineer's edit, another
      // test run): the next call is a cold start, with its own discovery and JWKS fetch, and a call
      // in flight at that moment hangs until the Lambda timeout. Counting fetches is only
      // meaningful while one instance lives, so an attempt during which a new instance appeared
      // (a discovery request: only cold starts make one) is discarded and run again; a failure on
      // a single instance fails the test.
      for (let attempt = 1; ; attempt += 1) {
        await sleep(COOLDOWN_SECONDS * 1000 + 500); // out of the previous refetch's cooldown
        const discoveries = proxy.counts.discovery;
        try {
          // Its assertions include "no discovery since the start": a pass is always on one instance.
          await rotationScenario();
          return;
        } catch (error) {
          // A probe request lets a replacement instance show itself (its cold-start discovery).
          await statuses(await aliceToken()).catch(() => undefined);
          if (proxy.counts.discovery === discoveries || attempt === 3) throw error;
        }
        console.log(`rotation: attempt ${attempt} disturbed by a Lambda instance reload; running it again`);
      }
    },
    3 * (2 * COOLDOWN_SECONDS + 30) * 1000,
  );
});
