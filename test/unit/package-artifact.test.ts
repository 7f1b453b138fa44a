/**
 * What `serverless package` would upload: the authorizer zip holds the one minified bundle and
 * nothing else, stays small (it is unpacked on every cold start), and both functions target
 * nodejs22.x on arm64. Packaged into a temp dir with its own esbuild work folder, so parallel
 * runs (and a running `npm start`) do not collide.
 */
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import yauzl from "yauzl";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const ISSUER = "https://keycloak.example.com/realms/demo";
const MAX_BYTES = 100 * 1024;

interface ZipEntry {
  readonly name: string;
  readonly size: number;
}

let packageDir: string;
const workFolder = `.esbuild-package-test-${randomUUID()}`;

function listZip(file: string): Promise<ZipEntry[]> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true }, (error, zip) => {
      if (error !== null || zip === undefined) {
        reject(error ?? new Error(`cannot open ${file}`));
        return;
      }
      const entries: ZipEntry[] = [];
      zip.on("entry", (entry: yauzl.Entry) => {
        entries.push({ name: entry.fileName, size: entry.uncompressedSize });
        zip.readEntry();
      });
      zip.once("end", () => resolve(entries));
      zip.once("error", reject);
      zip.readEntry();
    });
  });
}

function serverlessPackage(outDir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, "node_modules/serverless/bin/serverless.js"), "package", "--package", outDir], {
      cwd: ROOT,
      env: {
        ...process.env,
        // The deployed issuer, so nothing falls back to the local defaults of serverless.yml.
        KEYCLOAK_ISSUER: ISSUER,
        ESBUILD_WORK_FOLDER: workFolder,
        SLS_TELEMETRY_DISABLED: "1",
        SLS_NOTIFICATIONS_MODE: "off",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("error", reject);
    child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`serverless package exited ${code}:\n${output}`))));
  });
}

beforeAll(async () => {
  packageDir = await mkdtemp(join(tmpdir(), "kc-package-"));
  await serverlessPackage(packageDir);
}, 60_000);

afterAll(async () => {
  await rm(packageDir, { recursive: true, force: true });
  await rm(join(ROOT, workFolder), { recursive: true, force: true });
});

test("the authorizer zip holds only the bundled .mjs: no sources, node_modules, tests or local code", async () => {
  const entries = await listZip(join(packageDir, "authorizer.zip"));
  expect(entries.map((entry) => entry.name)).toEqual(["functions/authorizer.mjs"]);
  for (const { name } of entries) {
    expect(name).not.toMatch(/\.ts$|\.map$|node_modules\/|^test\/|^local\/|^bench\//);
  }
});

test("the authorizer bundle and its zip are under 100 KB", async () => {
  const [bundle] = await listZip(join(packageDir, "authorizer.zip"));
  expect(bundle?.size).toBeGreaterThan(0);
  expect(bundle?.size).toBeLessThan(MAX_BYTES);
  expect((await stat(join(packageDir, "authorizer.zip"))).size).toBeLessThan(MAX_BYTES);
});

test("both functions (and any other) run nodejs22.x on arm64, with the issuer given at package time", async () => {
  const template = JSON.parse(await readFile(join(packageDir, "cloudformation-template-update-stack.json"), "utf8")) as {
    Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
  };
  const functions = Object.entries(template.Resources).filter(([, resource]) => resource.Type === "AWS::Lambda::Function");
  // Both functions of the issue, and whatever else serverless.yml declares, on the same runtime.
  expect(functions.map(([name]) => name)).toEqual(expect.arrayContaining(["AuthorizerLambdaFunction", "SecuredLambdaFunction"]));
  for (const [, { Properties }] of functions) {
    expect(Properties.Runtime).toBe("nodejs22.x");
    expect(Properties.Architectures).toEqual(["arm64"]);
  }
  const authorizer = template.Resources.AuthorizerLambdaFunction?.Properties as { Environment: { Variables: Record<string, string> } };
  expect(authorizer.Environment.Variables.KEYCLOAK_ISSUER).toBe(ISSUER);
});
