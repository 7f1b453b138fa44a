import { awsJwtVerifyContender, cryptoVerifyContender, handlerContender } from "../child/contenders.js";
import type { Scenario } from "../child/harness.js";
import { WITHIN_AWS_JWT_VERIFY, WITHIN_CRYPTO_STRETCH, ZERO_BYTES } from "./targets.js";

/** Distinct tokens on REST API TOKEN events: verification plus the per-route IAM policy. */
export const distinctRest: Scenario = {
  name: "distinct.rest",
  description: "distinct valid tokens (each used once) on REST API TOKEN events (policy for the stage's routes), keys warm",
  opsPerRun: 600,
  async setup(ctx) {
    const tokens = await ctx.tokens(ctx.totalOps);
    const handler = await ctx.handler();
    const v = { realm: ctx.realm, audience: ctx.audience };
    return {
      contenders: [
        handlerContender(
          "handler",
          handler,
          ctx.requests(
            "rest-token",
            tokens.map((t) => `Bearer ${t}`),
          ),
          "allow",
          { bytesTarget: ZERO_BYTES },
        ),
        awsJwtVerifyContender(tokens, v),
        cryptoVerifyContender(tokens, v),
      ],
      figures: [
        { contender: "handler", baseline: "aws-jwt-verify", target: WITHIN_AWS_JWT_VERIFY },
        { contender: "handler", baseline: "crypto.verify", target: WITHIN_CRYPTO_STRETCH },
      ],
    };
  },
};
