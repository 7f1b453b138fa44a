// Package-time guard (serverless.yml `custom.stageCheck`): local values must never reach a
// deployed stage. Only stages with `localStage: true` (dev: npm start and serverless-offline) may
// use an http:// or loopback issuer; every other stage needs an https Keycloak reachable from AWS.
// Throwing here fails `serverless package` and `deploy` with the message.
"use strict";

const LOOPBACK = /^(localhost|.*\.localhost|127(?:\.\d{1,3}){3}|\[::1\]|0\.0\.0\.0)$/i;

function problemsOf(name, value, { required }) {
  if (value === undefined || value === null || String(value).trim() === "") {
    return required
      ? [
          `${name} is required: pass --param ${name}=https://keycloak.example.com/realms/<realm> (or set it for the stage in serverless.yml, e.g. from \${ssm:...})`,
        ]
      : [];
  }
  let url;
  try {
    url = new URL(String(value));
  } catch {
    return [`${name} "${value}" is not a URL`];
  }
  const problems = [];
  if (url.protocol !== "https:") problems.push(`${name} "${value}" must use https on a deployed stage`);
  if (LOOPBACK.test(url.hostname)) problems.push(`${name} "${value}" points at this machine (loopback), which AWS cannot reach`);
  return problems;
}

module.exports = async ({ resolveVariable }) => {
  const stage = await resolveVariable("sls:stage");
  const param = (name) => resolveVariable(`param:${name}`);
  if (String(await param("localStage")) === "true") return { stage, local: true };
  // A list of issuers and {realm} patterns (docs/many-realms.md): every entry is checked.
  const issuers = String((await param("keycloakIssuer")) ?? "")
    .split(",")
    .map((entry) => entry.trim().replace("{realm}", "realm"));
  const problems = [
    ...issuers.flatMap((issuer, index) => problemsOf("keycloakIssuer", issuer, { required: index === 0 })),
    ...problemsOf("keycloakJwksUri", await param("keycloakJwksUri"), { required: false }),
    // The local stack's DynamoDB-compatible server (dynalite) never belongs on AWS.
    ...problemsOf("keycloakRevocationEndpoint", await param("keycloakRevocationEndpoint"), { required: false }),
  ];
  if (!["", "false"].includes(String(await param("keycloakAllowHttp")).trim())) problems.push("keycloakAllowHttp must be false on a deployed stage");
  if (problems.length > 0) {
    const error = new Error(`Stage "${stage}" is not a local stage, and:\n  - ${problems.join("\n  - ")}`);
    error.stack = error.message; // the framework prints the stack: keep it to the message
    throw error;
  }
  return { stage, local: false };
};
