/**
 * Bundle functions/authorizer.ts the way `serverless package` does: the options are read from
 * serverless.yml's `custom.esbuild`, so the bench measures what ships, not a lookalike.
 */
import { build } from "esbuild";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

interface EsbuildCustom {
  bundle?: boolean;
  minify?: boolean;
  sourcemap?: boolean;
  format?: "esm" | "cjs";
  platform?: "node";
  target?: string;
  outputFileExtension?: string;
  exclude?: string[];
  banner?: { js?: string };
}

export async function bundleAuthorizer(outDir: string): Promise<{ file: string; bytes: number }> {
  const document = parse(await readFile(join(ROOT, "serverless.yml"), "utf8")) as { custom: { esbuild: EsbuildCustom } };
  const options = document.custom.esbuild;
  const file = join(outDir, `authorizer${options.outputFileExtension ?? ".js"}`);
  await build({
    entryPoints: [join(ROOT, "functions/authorizer.ts")],
    outfile: file,
    bundle: options.bundle ?? true,
    minify: options.minify ?? false,
    sourcemap: options.sourcemap ?? false,
    format: options.format ?? "esm",
    platform: options.platform ?? "node",
    target: options.target ?? "node22",
    external: options.exclude ?? [],
    ...(options.banner?.js === undefined ? {} : { banner: { js: options.banner.js } }),
    logLevel: "error",
  });
  return { file, bytes: (await stat(file)).size };
}
