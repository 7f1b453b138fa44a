/**
 * Jest's TypeScript transform: esbuild strips the types, nothing more (each file on its own, as
 * `isolatedModules` promises). Type checking is `npm run typecheck`'s job; this keeps a cold
 * `npm run test:unit` from spending most of its time in the TypeScript compiler.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { transformSync } from "esbuild";

const ESBUILD_VERSION = JSON.parse(readFileSync(new URL("../../node_modules/esbuild/package.json", import.meta.url), "utf8")).version;

export default {
  canInstrument: false,
  getCacheKey(source, path, options) {
    return createHash("sha256")
      .update(ESBUILD_VERSION)
      .update("\0")
      .update(path)
      .update("\0")
      .update(String(options.supportsStaticESM))
      .update("\0")
      .update(source)
      .digest("hex");
  },
  process(source, path, options) {
    const { code, map } = transformSync(source, {
      loader: "ts",
      format: options.supportsStaticESM ? "esm" : "cjs",
      target: "node20",
      sourcemap: "external",
      sourcefile: path,
      // As tsconfig.json says: imports are kept as written (type-only ones say so).
      tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: true } },
    });
    return { code, map };
  },
};
