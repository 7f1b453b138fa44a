// Which source the authorizer function is built from (serverless.yml functions.authorizer.handler),
// read at package/offline time. Never deployed.
//
// Features a stage does not use are not bundled: with DPoP (keycloakDpop) and revocation off, the
// authorizer is functions/authorizer.ts, without lib/dpop's proof checks or the revocation store
// (issue 15's bundle size, issue 21's "nothing extra bundled"); with either on,
// functions/authorizer-full.ts. The local stack (local/stack.ts) sets KLA_LOCAL_AUTHORIZER=true for
// local/offline/authorizer.ts, which also checks every answer against API Gateway's rules; only a
// local stage may use it.
"use strict";

const ENTRIES = {
  core: "functions/authorizer.handler",
  full: "functions/authorizer-full.handler",
  local: "local/offline/authorizer.handler",
};

async function authorizerEntry({ resolveVariable }) {
  const param = async (name) => String(await resolveVariable(`param:${name}`)).trim();
  // Resolved first: the framework's resolver signals "not yet" by throwing.
  const [dpop, revocation, localStage] = [await param("keycloakDpop"), await param("revocation"), await param("localStage")];
  if (process.env.KLA_LOCAL_AUTHORIZER === "true") {
    if (localStage !== "true") {
      const error = new Error("KLA_LOCAL_AUTHORIZER=true (the local stack's authorizer) is only for a local stage: unset it to package or deploy");
      error.stack = error.message;
      throw error;
    }
    return ENTRIES.local;
  }
  return !["", "off"].includes(dpop) || revocation === "true" ? ENTRIES.full : ENTRIES.core;
}

module.exports = authorizerEntry;
module.exports.ENTRIES = ENTRIES;
