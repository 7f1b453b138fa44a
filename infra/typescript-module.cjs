// Loads one of the project's TypeScript modules (and what it imports) from a .cjs file that the
// Serverless Framework runs at package/offline time: transpiled in memory by esbuild (already a
// dev dependency), once per module per run. Never deployed.
"use strict";
const { buildSync } = require("esbuild");
const Module = require("node:module");
const path = require("node:path");

const loaded = new Map();

/** The exports of `relativePath` (from the project root), e.g. "functions/routes.ts". */
module.exports = function loadTypeScript(relativePath) {
  const entry = path.join(__dirname, "..", relativePath);
  let exported = loaded.get(entry);
  if (exported === undefined) {
    const result = buildSync({ entryPoints: [entry], bundle: true, format: "cjs", platform: "node", target: "node20", write: false, logLevel: "silent" });
    const compiled = new Module(entry);
    compiled.filename = entry;
    compiled._compile(result.outputFiles[0].text, entry);
    exported = compiled.exports;
    loaded.set(entry, exported);
  }
  return exported;
};
