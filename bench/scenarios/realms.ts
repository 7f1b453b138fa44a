import { handlerContender } from "../child/contenders.js";
import type { Scenario } from "../child/harness.js";
import { WARM_REALM_VS_SINGLE } from "./targets.js";

/**
 * Many realms (issue 17): the same distinct tokens of the bench realm through the deployed
 * handler (one exact issuer) and through the same bundle with `KEYCLOAK_ISSUER` a `{realm}`
 * pattern (the realm warm: its keys fetched before the run). Also a second realm of the pattern
 * (its own key), to show that which realm it is costs nothing.
 */
export const realms: Scenario = {
  name: "realms",
  description: "distinct tokens of a warm realm (HTTP API events): KEYCLOAK_ISSUER a {realm} pattern against one exact issuer, same bundle",
  opsPerRun: 400,
  async setup(ctx) {
    const n = ctx.totalOps;
    const pattern = ctx.realm.issuer.replace(/[^/]+$/, "{realm}");
    const other = await ctx.otherRealm("tenant-b");
    const single = await ctx.handler();
    const patterned = await ctx.handler("handler.pattern", { KEYCLOAK_ISSUER: pattern });
    const bearer = (tokens: readonly string[]) => tokens.map((t) => `Bearer ${t}`);
    const own = bearer(await ctx.tokens(n));
    return {
      contenders: [
        handlerContender("single-issuer", single, ctx.requests("http-v2", own), "allow"),
        handlerContender("pattern", patterned, ctx.requests("http-v2", bearer(await ctx.tokens(n))), "allow"),
        handlerContender("pattern.other-realm", patterned, ctx.requests("http-v2", bearer(await ctx.tokens(n, { realm: other }))), "allow"),
      ],
      figures: [
        {
          contender: "pattern",
          baseline: "single-issuer",
          target: WARM_REALM_VS_SINGLE,
          about: "a warm realm of a {realm} pattern against today's single-issuer path",
        },
        { contender: "pattern.other-realm", baseline: "single-issuer", about: "another realm of the pattern, with its own key" },
      ],
    };
  },
};
