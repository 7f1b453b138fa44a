/**
 * Warm verification: the authorizer handler against the libraries it could be built on, all on
 * the same distinct RS256 tokens, all checking signature, iss, aud and exp, with keys already in
 * memory (no network inside any timed loop).
 */
import { createPublicKey, createVerify, verify as cryptoVerify, type KeyObject } from "node:crypto";
import { JwtVerifier } from "aws-jwt-verify";
import { decomposeUnverifiedJwt } from "aws-jwt-verify/jwt";
import { createVerifier } from "fast-jwt";
import { importJWK, jwtVerify } from "jose";
import { createAuthorizerHandler } from "../lib/authorizer/authorizer-handler.js";
import type { AuthorizerEvent } from "../lib/apigateway/events.js";
import { createFetchJson } from "../lib/keys/fetch-json.js";
import { JwksCache } from "../lib/keys/jwks-cache.js";
import type { LogCall as Logger } from "../test/helpers/observer.js";
import { createAccessTokenVerifier } from "../lib/token/access-token-verifier.js";
import { testConfig } from "../test/helpers/config.js";
import { authorizerEvent } from "../test/helpers/events.js";
import { startIdpStub } from "../test/helpers/idp-stub.js";
import { accessToken, b64url, generateRsaKey, TEST_AUDIENCE } from "../test/helpers/tokens.js";
import { figure, progress, type Figure } from "./stats.js";
import { API_ROUTES } from "../functions/routes.js";

const DISTINCT_TOKENS = 2000;
const REPEAT_DISTINCT = 100;
const REPEAT_USES = 50;
/** Each run of each figure loops for at least this long. */
const RUN_MS = 350;

/** Serialises the log record like jsonLogger but writes nothing: rejections keep their real cost, stdout stays clean. */
const quietLog: Logger = (level, message, fields) => {
  JSON.stringify({ level, message, ...fields, timestamp: new Date().toISOString() });
};

type Op = (i: number) => unknown;
type AsyncOp = (i: number) => Promise<unknown>;

/** Operations per second of `op` over indexes 0..n-1, repeated until RUN_MS has passed. */
function opsPerSecondSync(op: Op, n: number): number {
  let count = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    for (let i = 0; i < n; i += 1) op(i);
    count += n;
    elapsed = performance.now() - start;
  } while (elapsed < RUN_MS);
  return (count / elapsed) * 1000;
}

async function opsPerSecondAsync(op: AsyncOp, n: number, prepare?: () => void): Promise<number> {
  let count = 0;
  let elapsed = 0;
  // `prepare` (a fresh verifier per pass, for the repeated-token figure) is kept out of the timing.
  while (elapsed < RUN_MS) {
    prepare?.();
    const start = performance.now();
    for (let i = 0; i < n; i += 1) await op(i);
    elapsed += performance.now() - start;
    count += n;
  }
  return (count / elapsed) * 1000;
}

interface Subject {
  readonly name: string;
  measure(): number | Promise<number>;
}

export async function warmFigures(runs: number): Promise<Figure[]> {
  const key = generateRsaKey();
  const idp = await startIdpStub([key.jwk], "/realms/bench");
  try {
    progress(`signing ${DISTINCT_TOKENS} distinct RS256 tokens`);
    const exp = Math.floor(Date.now() / 1000) + 3600;
    const tokens = Array.from({ length: DISTINCT_TOKENS }, () => accessToken(key, idp.issuer, { claims: { exp } }));
    const publicKey: KeyObject = createPublicKey({ key: key.jwk, format: "jwk" });
    const parts = tokens.map((token) => {
      const dot = token.lastIndexOf(".");
      return { input: Buffer.from(token.slice(0, dot)), signature: Buffer.from(token.slice(dot + 1), "base64url"), inputText: token.slice(0, dot), signatureText: token.slice(dot + 1) };
    });
    const badSignature = tokens.map((token) => {
      const dot = token.lastIndexOf(".");
      const signature = Buffer.from(token.slice(dot + 1), "base64url");
      signature[signature.length - 1] = (signature[signature.length - 1] as number) ^ 0x01;
      return authorizerEvent("http-v2", `Bearer ${token.slice(0, dot)}.${signature.toString("base64url")}`);
    });
    const header = b64url({ alg: "RS256", typ: "JWT", kid: key.kid });
    const malformed = tokens.map((_, i) => authorizerEvent("http-v2", `Bearer ${header}.${b64url(`not json ${i}`)}.c2ln`));
    const events = tokens.map((token) => authorizerEvent("http-v2", `Bearer ${token}`));

    // The handler exactly as deployed, but with its key cache warmed before timing.
    const handlerWith = async (env: Record<string, string>) => {
      const verifier = createAccessTokenVerifier(testConfig(idp.issuer, env));
      await verifier.prefetch();
      return createAuthorizerHandler({ verifier, routes: API_ROUTES });
    };
    const handlerNoCache = await handlerWith({ KEYCLOAK_TOKEN_CACHE_SIZE: "0" });
    // Default cache (1000 entries) on 2000 tokens visited in a cycle: LRU never hits, so this is
    // the cost a miss pays for the cache (hash, bookkeeping) on top of a full verification.
    const handlerDefault = await handlerWith({});

    const awsVerifier = JwtVerifier.create({ issuer: idp.issuer, audience: TEST_AUDIENCE, jwksUri: idp.jwksUri });
    awsVerifier.cacheJwks({ keys: [key.jwk] } as never);
    const joseKey = await importJWK(key.jwk, "RS256");
    const fastVerify = createVerifier({
      key: publicKey.export({ type: "spki", format: "pem" }) as string,
      algorithms: ["RS256" as never],
      allowedIss: idp.issuer,
      allowedAud: TEST_AUDIENCE,
      cache: false,
    });

    const expectReject = async (promise: Promise<unknown>): Promise<void> => {
      try {
        await promise;
      } catch {
        return;
      }
      throw new Error("a token meant to be refused was accepted");
    };
    const check = (ok: boolean): void => {
      if (!ok) throw new Error("signature did not verify");
    };

    // Repeated tokens: 100 tokens, each used 50 times, round-robin, against a fresh verifier (empty
    // token cache, warm shared key cache) per pass of 5000 invocations.
    const sharedKeys = new JwksCache({
      issuer: idp.issuer,
      fetchJson: createFetchJson({ timeoutMs: 3000, allowHttp: false }),
      maxAgeMs: 600_000,
      cooldownMs: 30_000,
    });
    await sharedKeys.prefetch();
    let repeatedHandler = createAuthorizerHandler({ verifier: createAccessTokenVerifier(testConfig(idp.issuer), { jwksCache: sharedKeys }), routes: API_ROUTES });
    const freshRepeatedHandler = (): void => {
      repeatedHandler = createAuthorizerHandler({ verifier: createAccessTokenVerifier(testConfig(idp.issuer), { jwksCache: sharedKeys }), routes: API_ROUTES });
    };
    const repeatedLength = REPEAT_DISTINCT * REPEAT_USES;

    const subjects: Subject[] = [
      { name: "crypto.verify", measure: () => opsPerSecondSync((i) => check(cryptoVerify("sha256", parts[i]!.input, publicKey, parts[i]!.signature)), DISTINCT_TOKENS) },
      { name: "warm.aws-jwt-verify", measure: () => opsPerSecondSync((i) => awsVerifier.verifySync(tokens[i]!), DISTINCT_TOKENS) },
      { name: "warm.jose", measure: () => opsPerSecondAsync((i) => jwtVerify(tokens[i]!, joseKey, { issuer: idp.issuer, audience: TEST_AUDIENCE, algorithms: ["RS256"] }), DISTINCT_TOKENS) },
      { name: "warm.fast-jwt", measure: () => opsPerSecondSync((i) => fastVerify(tokens[i]!), DISTINCT_TOKENS) },
      { name: "warm.handler.no-cache", measure: () => opsPerSecondAsync((i) => handlerNoCache(events[i] as AuthorizerEvent), DISTINCT_TOKENS) },
      { name: "warm.handler", measure: () => opsPerSecondAsync((i) => handlerDefault(events[i] as AuthorizerEvent), DISTINCT_TOKENS) },
      { name: "reject.bad-signature", measure: () => opsPerSecondAsync((i) => expectReject(handlerDefault(badSignature[i] as AuthorizerEvent)), DISTINCT_TOKENS) },
      { name: "reject.malformed", measure: () => opsPerSecondAsync((i) => expectReject(handlerDefault(malformed[i] as AuthorizerEvent)), DISTINCT_TOKENS) },
      {
        name: "repeated.handler",
        measure: () => opsPerSecondAsync((i) => repeatedHandler(events[i % REPEAT_DISTINCT] as AuthorizerEvent), repeatedLength, freshRepeatedHandler),
      },
      {
        name: "repeated.crypto.verify",
        measure: () => opsPerSecondSync((i) => check(cryptoVerify("sha256", parts[i % REPEAT_DISTINCT]!.input, publicKey, parts[i % REPEAT_DISTINCT]!.signature)), repeatedLength),
      },
      // Where aws-jwt-verify's time goes beyond the one-shot crypto.verify (see the report):
      { name: "profile.decompose", measure: () => opsPerSecondSync((i) => decomposeUnverifiedJwt(tokens[i]!), DISTINCT_TOKENS) },
      {
        // What aws-jwt-verify's node adapter does per token: a streaming Verify object, base64 text signature.
        name: "profile.create-verify",
        measure: () =>
          opsPerSecondSync(
            (i) => check(createVerify("RSA-SHA256").update(parts[i]!.inputText).verify({ key: publicKey, dsaEncoding: "ieee-p1363" }, parts[i]!.signatureText, "base64")),
            DISTINCT_TOKENS,
          ),
      },
    ];

    progress("warm-up pass");
    for (const subject of subjects) await subject.measure();
    const results = new Map<string, number[]>(subjects.map((s) => [s.name, []]));
    for (let run = 1; run <= runs; run += 1) {
      progress(`warm run ${run}/${runs}`);
      // Round-robin, so drift (thermal, noisy neighbours) spreads over every subject alike.
      for (const subject of subjects) results.get(subject.name)!.push(await subject.measure());
    }

    const raw = results.get("crypto.verify")!;
    const vsRaw = (name: string, goal?: Parameters<typeof figure>[5]): Figure =>
      figure(name, "ops/s", results.get(name)!, "crypto.verify ops/s (same run)", name.startsWith("repeated.") ? results.get("repeated.crypto.verify")! : raw, goal);
    return [
      vsRaw("crypto.verify"),
      vsRaw("warm.aws-jwt-verify"),
      vsRaw("warm.jose"),
      vsRaw("warm.fast-jwt"),
      vsRaw("warm.handler.no-cache"),
      vsRaw("warm.handler"),
      vsRaw("reject.bad-signature"),
      vsRaw("reject.malformed"),
      vsRaw("repeated.handler", { target: ">= 3x crypto.verify", met: (value, baseline) => value >= 3 * baseline }),
      vsRaw("profile.decompose"),
      vsRaw("profile.create-verify"),
    ];
  } finally {
    await idp.close();
  }
}
