/**
 * What a scenario times: the deployed handler and the baselines, each over op indexes
 * [start, start + count) of its own arrays. Every baseline checks signature, iss, aud and exp on the
 * same token strings; the handler checks more (alg allow-list, kid, crit, typ, iat, azp, size) and
 * also builds the answer, logs and publishes metrics.
 */
import { createPublicKey, verify as cryptoVerify, type KeyObject } from "node:crypto";
import { JwtVerifier } from "aws-jwt-verify";
import type { Jwks } from "aws-jwt-verify/jwk";
import { createVerifier } from "fast-jwt";
import { importJWK, jwtVerify } from "jose";
import type { LambdaContext } from "../events.js";
import type { Target } from "../stats.js";
import type { RealmKey } from "../tokens.js";
import { isAllow, type HandlerInstance } from "./handler.js";

export interface Contender {
  readonly name: string;
  /** Untimed, before a round: build what the round's op indexes [start, start + count) consume. */
  prepare?(start: number, count: number): void;
  /** Each op index in [start, start + count) once (a chunk of the prepared round). */
  run(start: number, count: number): void | Promise<void>;
  /** Untimed, after the round: drop what prepare built. */
  release?(): void;
  /** The deployed handler: its stdout/stderr bytes are counted per request. */
  readonly output?: boolean;
  readonly bytesTarget?: Target;
}

export interface Verifiable {
  readonly realm: RealmKey;
  readonly audience: string;
}

function fail(name: string, i: number, detail: string): never {
  throw new Error(`${name}: op ${i}: ${detail}`);
}

/** Requests for op indexes: fresh events (parsed from JSON, as the runtime does) and Lambda contexts. */
export interface RequestSource {
  batch(start: number, count: number): { readonly events: readonly unknown[]; readonly contexts: readonly LambdaContext[] };
}

/**
 * The handler on one fresh event per op, built before each run, expecting an Allow or the refusal
 * API Gateway turns into a 401 (`Error("Unauthorized")`).
 */
export function handlerContender(
  name: string,
  handler: HandlerInstance,
  requests: RequestSource,
  expect: "allow" | "refuse",
  options: { bytesTarget?: Target } = {},
): Contender {
  const invoke = handler.invoke;
  let events: readonly unknown[] = [];
  let contexts: readonly LambdaContext[] = [];
  let base = 0;
  const run =
    expect === "allow"
      ? async (start: number, count: number) => {
          for (let j = start - base, end = j + count; j < end; j += 1) {
            const result = await invoke(events[j], contexts[j] as LambdaContext);
            if (!isAllow(result)) fail(name, base + j, `expected an Allow, got ${JSON.stringify(result).slice(0, 200)}`);
          }
        }
      : async (start: number, count: number) => {
          for (let j = start - base, end = j + count; j < end; j += 1) {
            try {
              await invoke(events[j], contexts[j] as LambdaContext);
            } catch (error) {
              if (error instanceof Error && error.message === "Unauthorized") continue;
              fail(name, base + j, `expected Error("Unauthorized"), got ${String(error)}`);
            }
            fail(name, base + j, "a token meant to be refused was allowed");
          }
        };
  return {
    name,
    prepare(start, count) {
      base = start;
      ({ events, contexts } = requests.batch(start, count));
    },
    run,
    release() {
      events = [];
      contexts = [];
    },
    output: true,
    ...(options.bytesTarget === undefined ? {} : { bytesTarget: options.bytesTarget }),
  };
}

const keyObject = (realm: RealmKey): KeyObject => createPublicKey({ key: realm.jwk as unknown as import("node:crypto").JsonWebKey, format: "jwk" });

/** The floor: Node's one-shot RSA verify of signing input and signature, split and decoded beforehand. */
export function cryptoVerifyContender(tokens: readonly string[], { realm }: Verifiable, name = "crypto.verify"): Contender {
  const key = keyObject(realm);
  // One pair of buffers per distinct token (a repeated sequence shares them).
  const split = new Map<string, { input: Buffer; signature: Buffer }>();
  for (const t of tokens) {
    if (!split.has(t))
      split.set(t, { input: Buffer.from(t.slice(0, t.lastIndexOf(".")), "latin1"), signature: Buffer.from(t.slice(t.lastIndexOf(".") + 1), "base64url") });
  }
  const inputs = tokens.map((t) => split.get(t)?.input as Buffer);
  const signatures = tokens.map((t) => split.get(t)?.signature as Buffer);
  return {
    name,
    run(start, count) {
      for (let i = start, end = start + count; i < end; i += 1) {
        if (!cryptoVerify("sha256", inputs[i] as Buffer, key, signatures[i] as Buffer)) fail(name, i, "signature did not verify");
      }
    },
  };
}

/**
 * A minimal hand-written verifier on the raw token string: split, decode, header alg/kid, RSA
 * verify, parse the payload, iss, aud, exp. What "fast" can mean for a complete check.
 */
export function cryptoVerifyClaimsContender(tokens: readonly string[], { realm, audience }: Verifiable, name = "crypto.verify+claims"): Contender {
  const key = keyObject(realm);
  return {
    name,
    run(start, count) {
      for (let i = start, end = start + count; i < end; i += 1) {
        const token = tokens[i] as string;
        const first = token.indexOf(".");
        const last = token.lastIndexOf(".");
        const header = JSON.parse(Buffer.from(token.slice(0, first), "base64url").toString()) as { alg?: unknown; kid?: unknown };
        if (header.alg !== "RS256" || header.kid !== realm.kid) fail(name, i, "header");
        if (!cryptoVerify("sha256", Buffer.from(token.slice(0, last), "latin1"), key, Buffer.from(token.slice(last + 1), "base64url")))
          fail(name, i, "signature");
        const payload = JSON.parse(Buffer.from(token.slice(first + 1, last), "base64url").toString()) as { iss?: unknown; aud?: unknown; exp?: unknown };
        if (payload.iss !== realm.issuer) fail(name, i, "iss");
        if (!(payload.aud === audience || (Array.isArray(payload.aud) && payload.aud.includes(audience)))) fail(name, i, "aud");
        if (typeof payload.exp !== "number" || payload.exp * 1000 <= Date.now()) fail(name, i, "exp");
      }
    },
  };
}

/** aws-jwt-verify's JwtVerifier.verifySync with the realm's JWKS preloaded (cacheJwks). */
export function awsJwtVerifyContender(tokens: readonly string[], { realm, audience }: Verifiable, name = "aws-jwt-verify"): Contender {
  const verifier = JwtVerifier.create({ issuer: realm.issuer, audience, jwksUri: `${realm.issuer}/protocol/openid-connect/certs` });
  verifier.cacheJwks(realm.jwks as unknown as Jwks);
  return {
    name,
    run(start, count) {
      for (let i = start, end = start + count; i < end; i += 1) verifier.verifySync(tokens[i] as string);
    },
  };
}

/** fast-jwt's createVerifier with the PEM key, iss and aud (exp is checked by default), no cache. */
export function fastJwtContender(tokens: readonly string[], { realm, audience }: Verifiable, name = "fast-jwt"): Contender {
  const verify = createVerifier({
    key: keyObject(realm).export({ type: "spki", format: "pem" }) as string,
    algorithms: ["RS256" as never],
    allowedIss: realm.issuer,
    allowedAud: audience,
    cache: false,
  });
  return {
    name,
    run(start, count) {
      for (let i = start, end = start + count; i < end; i += 1) verify(tokens[i] as string);
    },
  };
}

/** jose's jwtVerify with the key imported once (importJWK), iss, aud, alg (exp by default). */
export async function joseContender(tokens: readonly string[], { realm, audience }: Verifiable, name = "jose"): Promise<Contender> {
  const key = await importJWK(realm.jwk as unknown as import("jose").JWK, "RS256");
  const options = { issuer: realm.issuer, audience, algorithms: ["RS256"] };
  return {
    name,
    async run(start, count) {
      for (let i = start, end = start + count; i < end; i += 1) await jwtVerify(tokens[i] as string, key, options);
    },
  };
}
