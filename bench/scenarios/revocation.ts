import { handlerContender } from "../child/contenders.js";
import type { Scenario, ScenarioContext } from "../child/harness.js";
import type { HandlerInstance } from "../child/handler.js";
import { REVOCATION_ON_REPEATED, ZERO_BYTES } from "./targets.js";

const TOKENS = 100;
const USES = 20;

/** The deployed bundle with revocation on against the bench's local store (lookup cache as the code's default). */
async function revocationHandler(ctx: ScenarioContext): Promise<HandlerInstance> {
  if (ctx.revocation === undefined) throw new Error("the revocation scenarios need the bench's revocation store");
  return ctx.handler(
    "handler.revocation",
    {
      KEYCLOAK_REVOCATION_TABLE: ctx.revocation.table,
      KEYCLOAK_REVOCATION_ENDPOINT: ctx.revocation.endpoint,
      // What Lambda sets for the function's role; the local store checks none.
      AWS_ACCESS_KEY_ID: "bench",
      AWS_SECRET_ACCESS_KEY: "bench",
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      // What a stage with revocation on deploys: functions/authorizer-full.ts (infra/authorizer-entry.cjs).
    },
    { bundle: "full" },
  );
}

/**
 * Revocation on versus off, repeated tokens: the same 100 tokens (100 sessions) round-robin for the
 * whole run, which lasts well under the lookup cache period: each session's one store read (sid
 * and sub in one BatchGetItem) falls in the discarded warm-up round, and every measured request
 * costs the cache lookups alone. (What a read costs is `revocation.distinct`.)
 */
export const revocationRepeated: Scenario = {
  name: "revocation.repeated",
  description: `${TOKENS} sessions round-robin, ${USES} uses each per round (HTTP API events), revocation on (lookups cached) against off, same bundle`,
  opsPerRun: TOKENS * USES,
  chunkOps: 100,
  async setup(ctx) {
    const sessions = await ctx.tokens(TOKENS);
    const bearer = Array.from({ length: ctx.totalOps }, (_, i) => `Bearer ${sessions[i % TOKENS] as string}`);
    const off = await ctx.handler();
    const on = await revocationHandler(ctx);
    return {
      contenders: [
        handlerContender("handler", off, ctx.requests("http-v2", bearer), "allow"),
        handlerContender("handler.revocation", on, ctx.requests("http-v2", bearer), "allow", { bytesTarget: ZERO_BYTES }),
      ],
      figures: [
        {
          contender: "handler.revocation",
          baseline: "handler",
          target: REVOCATION_ON_REPEATED,
          about: "what revocation on costs on repeated tokens (one store read per new session)",
        },
      ],
    };
  },
};

/**
 * Revocation on versus off, distinct tokens: every token a new session, so every request with
 * revocation on waits for one store read (loopback dynalite here; DynamoDB in-region is a few ms).
 */
export const revocationDistinct: Scenario = {
  name: "revocation.distinct",
  description: "distinct sessions (each token used once, HTTP API events): revocation on, one store read each, against off",
  opsPerRun: 200,
  warmupRuns: 2,
  async setup(ctx) {
    const bearer = (await ctx.tokens(ctx.totalOps)).map((t) => `Bearer ${t}`);
    const off = await ctx.handler();
    const on = await revocationHandler(ctx);
    return {
      contenders: [
        handlerContender("handler", off, ctx.requests("http-v2", bearer), "allow"),
        handlerContender("handler.revocation", on, ctx.requests("http-v2", bearer), "allow", { bytesTarget: ZERO_BYTES }),
      ],
      figures: [{ contender: "handler.revocation", baseline: "handler", about: "a store read per request (the worst case: no two requests share a session)" }],
    };
  },
};
