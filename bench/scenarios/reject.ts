import { handlerContender } from "../child/contenders.js";
import type { Scenario } from "../child/harness.js";
import { b64url } from "../tokens.js";
import { NO_DEARER_THAN_ACCEPT } from "./targets.js";

/** Flip one bit of the signature: a forgery as costly to check as a real token. */
function badSignature(token: string): string {
  const dot = token.lastIndexOf(".");
  const signature = Buffer.from(token.slice(dot + 1), "base64url");
  signature[10] = (signature[10] as number) ^ 0x01;
  return `${token.slice(0, dot)}.${signature.toString("base64url")}`;
}

/**
 * Refusals against acceptances, all on HTTP API events, alternating in the same rounds. Every
 * token is distinct (a flood of forgeries, not one replayed), so no cache can answer for them.
 */
export const reject: Scenario = {
  name: "reject",
  description: "refused tokens (each distinct) against accepted ones on HTTP API events: bad signature, malformed, expired, foreign issuer, wrong audience",
  opsPerRun: 300,
  async setup(ctx) {
    const n = ctx.totalOps;
    const now = Math.floor(Date.now() / 1000);
    const valid = await ctx.tokens(n);
    const header = b64url({ alg: "RS256", typ: "JWT", kid: ctx.realm.kid });
    const kinds: Record<string, string[]> = {
      "bad-signature": valid.map(badSignature),
      malformed: valid.map((_, i) => `${header}.${b64url(`not json ${i}`)}.c2lnbmF0dXJl`),
      expired: await ctx.tokens(n, { claims: { exp: now - 3600, iat: now - 7200, auth_time: now - 7200 } }),
      "foreign-issuer": await ctx.tokens(n, { claims: { iss: ctx.realm.issuer.replace(/[^/]+$/, "other") } }),
      "wrong-audience": await ctx.tokens(n, { claims: { aud: ["account"] } }),
    };
    // Each kind gets tokens never accepted before: the acceptance tokens are signed for this run too.
    const handler = await ctx.handler();
    const requests = (tokens: string[]) =>
      ctx.requests(
        "http-v2",
        tokens.map((t) => `Bearer ${t}`),
      );
    return {
      contenders: [
        handlerContender("accept", handler, requests(valid), "allow"),
        ...Object.entries(kinds).map(([name, tokens]) => handlerContender(name, handler, requests(tokens), "refuse")),
      ],
      figures: Object.keys(kinds).map((name) => ({ contender: name, baseline: "accept", target: NO_DEARER_THAN_ACCEPT })),
    };
  },
};
