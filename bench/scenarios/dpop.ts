import { createHash, generateKeyPairSync, randomUUID, sign, verify, type KeyObject } from "node:crypto";
import { handlerContender, type Contender } from "../child/contenders.js";
import type { Scenario } from "../child/harness.js";
import { API_ID } from "../events.js";
import { b64url } from "../tokens.js";
import { DPOP_VS_PLAIN, NO_DEARER_THAN_ACCEPT, ZERO_BYTES } from "./targets.js";

/** The URL the bench's HTTP API events are for (bench/events.ts): what each proof's `htu` names. */
const HTU = `https://${API_ID}.execute-api.eu-west-1.amazonaws.com/secured`;
/** Uses of one token in the `dpop.same-token` contender (a client keeps its token, with a new proof each call). */
const USES = 20;

/**
 * Node's ECDSA verification of each proof's signature and nothing else (input and signature split
 * and decoded beforehand): no code of ours can make a request with such a proof cheaper than a plain
 * request plus this, so set against a plain request it bounds `dpop/plain` from below.
 */
function proofSignatureContender(name: string, proofs: readonly string[], key: KeyObject): Contender {
  const inputs = proofs.map((p) => Buffer.from(p.slice(0, p.lastIndexOf(".")), "latin1"));
  const signatures = proofs.map((p) => Buffer.from(p.slice(p.lastIndexOf(".") + 1), "base64url"));
  return {
    name,
    run(start, count) {
      for (let i = start, end = start + count; i < end; i += 1) {
        if (!verify("sha256", inputs[i] as Buffer, { key, dsaEncoding: "ieee-p1363" }, signatures[i] as Buffer)) {
          throw new Error(`${name}: op ${i}: proof signature did not verify`);
        }
      }
    },
  };
}

/**
 * DPoP (RFC 9449) against plain Bearer tokens, on HTTP API events, every token distinct (each
 * costs its full verification): a DPoP request adds a proof to verify (an ES256 signature, the key
 * thumbprint, `ath`, the URL) to the token's RSA verification. Also what DPoP support costs Bearer
 * requests, a client reusing its token with a fresh proof each call, and hostile proofs refused.
 */
export const dpop: Scenario = {
  name: "dpop",
  description: "DPoP-bound tokens with an ES256 proof per request against plain Bearer tokens (each distinct) on HTTP API events; KEYCLOAK_DPOP=allowed",
  opsPerRun: 400,
  warmupRuns: 2,
  async setup(ctx) {
    const n = ctx.totalOps;
    // The client's key, as a browser or a service would make it.
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const jwk = publicKey.export({ format: "jwk" }) as Record<string, string>;
    const jkt = createHash("sha256")
      .update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }))
      .digest("base64url");
    const proofHeader = b64url({ typ: "dpop+jwt", alg: "ES256", jwk });
    const proof = (token: string, htu = HTU): string => {
      const input = `${proofHeader}.${b64url({ jti: randomUUID(), htm: "GET", htu, iat: Math.floor(Date.now() / 1000), ath: createHash("sha256").update(token).digest("base64url") })}`;
      return `${input}.${sign("sha256", Buffer.from(input), { key: privateKey, dsaEncoding: "ieee-p1363" }).toString("base64url")}`;
    };

    // The same with an RS256 proof key: the "one extra verify" (an RSA public-key operation, as the token's).
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const rsaJwk = rsa.publicKey.export({ format: "jwk" }) as Record<string, string>;
    const rsaJkt = createHash("sha256")
      .update(JSON.stringify({ e: rsaJwk.e, kty: rsaJwk.kty, n: rsaJwk.n }))
      .digest("base64url");
    const rsaHeader = b64url({ typ: "dpop+jwt", alg: "RS256", jwk: rsaJwk });
    const rsaProof = (token: string): string => {
      const input = `${rsaHeader}.${b64url({ jti: randomUUID(), htm: "GET", htu: HTU, iat: Math.floor(Date.now() / 1000), ath: createHash("sha256").update(token).digest("base64url") })}`;
      return `${input}.${sign("sha256", Buffer.from(input), rsa.privateKey).toString("base64url")}`;
    };

    const plain = await ctx.tokens(n);
    const bound = await ctx.tokens(n, { claims: { typ: "DPoP", cnf: { jkt } } });
    const reused = Array.from({ length: n }, (_, i) => bound[Math.floor(i / USES) * USES] as string);
    const boundForRefusal = await ctx.tokens(n, { claims: { typ: "DPoP", cnf: { jkt } } });
    // Signed now, for the whole scenario: the proof window is set wide enough to outlast it.
    const proofs = bound.map((token) => proof(token));
    const rsaBound = await ctx.tokens(n, { claims: { typ: "DPoP", cnf: { jkt: rsaJkt } } });
    const rsaProofs = rsaBound.map((token) => rsaProof(token));
    const reusedProofs = reused.map((token) => proof(token));
    const otherUrlProofs = boundForRefusal.map((token) => proof(token, HTU.replace("/secured", "/admin")));

    const deployed = await ctx.handler();
    // What a stage with keycloakDpop deploys: functions/authorizer-full.ts (infra/authorizer-entry.cjs).
    const withDpop = await ctx.handler("handler.dpop-allowed", { KEYCLOAK_DPOP: "allowed", KEYCLOAK_DPOP_PROOF_MAX_AGE_SECONDS: "600" }, { bundle: "full" });
    const dpopRequests = (tokens: readonly string[], proofOf: readonly string[]) =>
      ctx.requests(
        "http-v2",
        tokens.map((t) => `DPoP ${t}`),
        { headers: (i) => ({ dpop: proofOf[i] as string }) },
      );
    const bearer = plain.map((t) => `Bearer ${t}`);
    return {
      contenders: [
        handlerContender("plain", deployed, ctx.requests("http-v2", bearer), "allow"),
        handlerContender("plain.dpop-allowed", withDpop, ctx.requests("http-v2", bearer), "allow"),
        handlerContender("dpop", withDpop, dpopRequests(bound, proofs), "allow", { bytesTarget: ZERO_BYTES }),
        handlerContender("dpop.rs256-proof", withDpop, dpopRequests(rsaBound, rsaProofs), "allow"),
        handlerContender("dpop.same-token", withDpop, dpopRequests(reused, reusedProofs), "allow"),
        handlerContender("reject-proof", withDpop, dpopRequests(boundForRefusal, otherUrlProofs), "refuse"),
        proofSignatureContender("es256-signature-only", proofs, publicKey),
      ],
      figures: [
        { contender: "dpop", baseline: "plain", target: DPOP_VS_PLAIN },
        {
          contender: "dpop.rs256-proof",
          baseline: "plain",
          about: "the same with an RS256 proof key: one more RSA verification, the thumbprint, ath, htu, the replay cache",
        },
        { contender: "plain.dpop-allowed", baseline: "plain", about: "what DPoP support (KEYCLOAK_DPOP=allowed) costs a Bearer request" },
        { contender: "dpop.same-token", baseline: "plain", about: `a token used ${USES} times, a fresh proof each: the proof alone, the token from the cache` },
        { contender: "reject-proof", baseline: "dpop", target: NO_DEARER_THAN_ACCEPT },
        {
          contender: "es256-signature-only",
          baseline: "plain",
          about:
            "Node's verification of the ES256 proof signature alone: dpop/plain is at least 1 plus this, so above 1.2 the 2.2 target is out of reach with ES256 proofs",
        },
      ],
    };
  },
};
