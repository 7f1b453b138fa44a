import {
  awsJwtVerifyContender,
  cryptoVerifyClaimsContender,
  cryptoVerifyContender,
  fastJwtContender,
  handlerContender,
  joseContender,
} from "../child/contenders.js";
import type { Scenario } from "../child/harness.js";
import { WITHIN_AWS_JWT_VERIFY, WITHIN_CRYPTO_STRETCH, ZERO_BYTES } from "./targets.js";

/** Distinct tokens, each used once, on HTTP API (payload 2.0) events: every call a full verification. */
export const distinctHttp: Scenario = {
  name: "distinct.http",
  description: "distinct valid tokens (each used once) on HTTP API payload 2.0 events, keys warm",
  opsPerRun: 800,
  warmupRuns: 3,
  async setup(ctx) {
    const tokens = await ctx.tokens(ctx.totalOps);
    const bearer = tokens.map((t) => `Bearer ${t}`);
    const handler = await ctx.handler();
    const variant = await ctx.handler(ctx.cacheVariant.name, ctx.cacheVariant.overrides);
    const v = { realm: ctx.realm, audience: ctx.audience };
    return {
      contenders: [
        handlerContender("handler", handler, ctx.requests("http-v2", bearer), "allow", { bytesTarget: ZERO_BYTES }),
        handlerContender(ctx.cacheVariant.name, variant, ctx.requests("http-v2", bearer), "allow"),
        awsJwtVerifyContender(tokens, v),
        fastJwtContender(tokens, v),
        await joseContender(tokens, v),
        cryptoVerifyContender(tokens, v),
        cryptoVerifyClaimsContender(tokens, v),
      ],
      figures: [
        { contender: "handler", baseline: "aws-jwt-verify", target: WITHIN_AWS_JWT_VERIFY },
        { contender: "handler", baseline: "crypto.verify", target: WITHIN_CRYPTO_STRETCH },
        { contender: "handler", baseline: ctx.cacheVariant.name, about: "what the deployed token-cache setting costs on a miss" },
        { contender: "aws-jwt-verify", baseline: "crypto.verify" },
        { contender: "fast-jwt", baseline: "crypto.verify" },
        { contender: "jose", baseline: "crypto.verify" },
        { contender: "crypto.verify+claims", baseline: "crypto.verify" },
        { contender: "crypto.verify", about: "the floor: RSA-2048 verify of pre-split input and signature" },
      ],
    };
  },
};
