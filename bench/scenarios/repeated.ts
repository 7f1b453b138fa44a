import { cryptoVerifyContender, handlerContender } from "../child/contenders.js";
import type { Scenario } from "../child/harness.js";
import { REPEATED_VS_CRYPTO, ZERO_BYTES } from "./targets.js";

const TOKENS = 100;
const USES = 20;
const PASSES_PER_RUN = 2;

/**
 * Clients reusing their token: 100 tokens, each used 20 times, round-robin (a pass of 2000
 * calls). Every pass has 100 tokens never seen before, so each pass pays its 100 first
 * verifications whatever the cache keeps from earlier passes. Same sequence for crypto.verify.
 */
export const repeated: Scenario = {
  name: "repeated",
  description: `${TOKENS} tokens x ${USES} uses round-robin, fresh tokens every pass of ${TOKENS * USES} (HTTP API events); token cache as deployed`,
  opsPerRun: TOKENS * USES * PASSES_PER_RUN,
  chunkOps: 100,
  async setup(ctx) {
    const passes = ctx.totalOps / (TOKENS * USES);
    const fresh = await ctx.tokens(passes * TOKENS);
    const sequence = Array.from({ length: ctx.totalOps }, (_, i) => fresh[Math.floor(i / (TOKENS * USES)) * TOKENS + (i % TOKENS)] as string);
    const bearer = sequence.map((t) => `Bearer ${t}`);
    const handler = await ctx.handler();
    const variant = await ctx.handler(ctx.cacheVariant.name, ctx.cacheVariant.overrides);
    return {
      contenders: [
        handlerContender("handler", handler, ctx.requests("http-v2", bearer), "allow", { bytesTarget: ZERO_BYTES }),
        handlerContender(ctx.cacheVariant.name, variant, ctx.requests("http-v2", bearer), "allow"),
        cryptoVerifyContender(sequence, { realm: ctx.realm, audience: ctx.audience }),
      ],
      figures: [
        { contender: "handler", baseline: "crypto.verify", target: REPEATED_VS_CRYPTO },
        { contender: ctx.cacheVariant.name, baseline: "crypto.verify" },
        { contender: "handler", baseline: ctx.cacheVariant.name, about: "what the deployed token-cache setting buys on repeated tokens" },
      ],
    };
  },
};
