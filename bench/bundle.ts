/**
 * Bundle the authorizer (serverless.yml `functions.authorizer.handler`, today
 * functions/authorizer.ts) the way `serverless package` does: serverless-esbuild takes
 * serverless.yml's `custom.esbuild` over its defaults, drops its own plugin-only keys and hands the
 * rest to esbuild, with `exclude` as externals. This file does the same, so every option added to
 * serverless.yml (define, keepNames, mainFields...) reaches the measured bundle without a change here.
 *
 * Also builds the benchmark's own child script (bench/child/main.ts) to plain JavaScript, so the
 * measured process is a bare `node`, with no TypeScript loader hooks or source-map support in it.
 */
import { build, type BuildOptions } from "esbuild";
import { access, mkdir, readFile, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createRequire } from "node:module";
import { parse } from "yaml";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** serverless-esbuild's DEFAULT_BUILD_OPTIONS that reach esbuild (node_modules/serverless-esbuild/dist/index.js). */
const PLUGIN_DEFAULTS = { bundle: true, target: "node18", external: [] as string[], exclude: ["aws-sdk"], platform: "node", outputFileExtension: ".js" };

/** Keys serverless-esbuild removes before calling esbuild (dist/bundle.js). */
const PLUGIN_ONLY_KEYS = [
  "concurrency",
  "zipConcurrency",
  "exclude",
  "nativeZip",
  "packager",
  "packagePath",
  "watch",
  "keepOutputDirectory",
  "packagerOptions",
  "installExtraArgs",
  "outputFileExtension",
  "outputBuildFolder",
  "outputWorkFolder",
  "nodeExternals",
  "skipBuild",
  "skipRebuild",
  "skipBuildExcludeFns",
  "stripEntryResolveExtensions",
  "disposeContext",
];

export interface AuthorizerBundle {
  readonly file: string;
  readonly url: string;
  readonly bytes: number;
  /** The source entry, e.g. functions/authorizer.ts (from serverless.yml `handler`). */
  readonly entry: string;
  /** The handler's export name, e.g. `handler`. */
  readonly exportName: string;
  /** The esbuild options used, for the results file. */
  readonly options: Record<string, unknown>;
}

interface ServerlessDocument {
  custom?: { esbuild?: Record<string, unknown> };
  functions?: Record<string, { handler?: string }>;
}

const readServerless = async (): Promise<ServerlessDocument> => parse(await readFile(join(ROOT, "serverless.yml"), "utf8")) as ServerlessDocument;

/**
 * Which authorizer a stage deploys (infra/authorizer-entry.cjs): `core` with DPoP and revocation
 * off (the stage defaults, what the bench measures), `full` with either on.
 */
export type AuthorizerVariant = "core" | "full";

/** serverless.yml's `${file(./infra/authorizer-entry.cjs)}`, resolved to the variant's handler. */
function resolvedHandler(handler: string, variant: AuthorizerVariant): string {
  if (!handler.includes("authorizer-entry.cjs")) return handler;
  const { ENTRIES } = createRequire(import.meta.url)(join(ROOT, "infra/authorizer-entry.cjs")) as { ENTRIES: Record<AuthorizerVariant, string> };
  return ENTRIES[variant];
}

/** `functions.<key>.handler` (`functions/authorizer.handler`) as a source file and an export name, the way serverless-esbuild resolves it. */
async function handlerEntry(
  document: ServerlessDocument,
  functionKey: string,
  variant: AuthorizerVariant = "core",
): Promise<{ entry: string; exportName: string }> {
  const declared = document.functions?.[functionKey]?.handler;
  const handler = declared === undefined ? undefined : resolvedHandler(declared, variant);
  if (handler === undefined) throw new Error(`serverless.yml has no functions.${functionKey}.handler`);
  const dot = handler.lastIndexOf(".");
  const stem = handler.slice(0, dot);
  for (const extension of [".ts", ".mts", ".js", ".mjs"]) {
    const entry = `${stem}${extension}`;
    try {
      await access(join(ROOT, entry));
      return { entry, exportName: handler.slice(dot + 1) };
    } catch {
      // try the next extension
    }
  }
  throw new Error(`serverless.yml functions.${functionKey}.handler is ${handler}, but no ${stem}.ts/.js exists`);
}

async function esbuildOptionsFromServerless(document: ServerlessDocument): Promise<{ options: BuildOptions; extension: string }> {
  const custom = { ...PLUGIN_DEFAULTS, ...(document.custom?.esbuild ?? {}) } as Record<string, unknown>;
  if ("config" in custom) throw new Error("custom.esbuild.config (a JS config file) is not supported by bench/bundle.ts: read it here too");
  const exclude = (custom.exclude as string[] | undefined) ?? [];
  const external = [...((custom.external as string[] | undefined) ?? []), ...(exclude.includes("*") ? [] : exclude)];
  const extension = String(custom.outputFileExtension ?? ".js");
  const options: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(custom)) {
    if (PLUGIN_ONLY_KEYS.includes(key) || key === "external") continue;
    if (typeof value === "string" && value.includes("${")) {
      throw new Error(`custom.esbuild.${key} is a serverless variable (${value}): bench/bundle.ts cannot resolve it`);
    }
    options[key] = value;
  }
  return { options: { ...options, external } as BuildOptions, extension };
}

/**
 * The authorizer bundle as `serverless package` builds it. `sourcemap: "external"` (for the profile)
 * writes a .map beside it and leaves the JavaScript byte for byte what ships (no URL comment).
 */
export async function bundleAuthorizer(
  outDir: string,
  extra: { sourcemap?: "external"; functionKey?: string; variant?: AuthorizerVariant } = {},
): Promise<AuthorizerBundle> {
  const document = await readServerless();
  const { entry, exportName } = await handlerEntry(document, extra.functionKey ?? "authorizer", extra.variant);
  const { options, extension } = await esbuildOptionsFromServerless(document);
  const file = join(outDir, `${basename(entry).replace(/\.[^.]+$/, "")}${extension}`);
  await mkdir(outDir, { recursive: true });
  await build({
    ...options,
    ...(extra.sourcemap === undefined ? {} : { sourcemap: extra.sourcemap }),
    entryPoints: [join(ROOT, entry)],
    outfile: file,
    logLevel: "error",
  });
  return { file, url: pathToFileURL(file).href, bytes: (await stat(file)).size, entry, exportName, options: options as Record<string, unknown> };
}

/**
 * bench/child/main.ts as one ESM file under node_modules/.cache (so its imports of aws-jwt-verify,
 * fast-jwt and jose resolve to the installed packages, unbundled, exactly as published).
 */
export async function buildChildScript(): Promise<string> {
  const file = join(ROOT, "node_modules/.cache/kc-bench/child.mjs");
  await build({
    entryPoints: [join(ROOT, "bench/child/main.ts")],
    outfile: file,
    bundle: true,
    packages: "external",
    format: "esm",
    platform: "node",
    target: "node20",
    logLevel: "error",
  });
  return file;
}
