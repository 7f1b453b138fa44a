/**
 * `npm ci && npm test` must pass on a machine with only Node and npm: nothing the tests, the local
 * stack or the functions run may live outside the clone and node_modules. This catches the usual
 * way that breaks: a hard-coded path to a system binary or folder (`/usr/bin/chromium`).
 * (test/run.ts checks the other half: a run leaves no process or port behind.)
 */
import { expect, test } from "@jest/globals";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../../local/stack.js";

/** Absolute paths that are not files of this machine: they live inside Keycloak's container image. */
const NOT_HOST_PATHS = ["/opt/keycloak/"];

const SYSTEM_PATH = /["'`](\/(?:usr|bin|sbin|opt|etc|snap|var|home|root)\/[^"'`\s]*)/g;

test("no source file names a system path outside the clone", () => {
  const files = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], { cwd: ROOT })
    .toString()
    .split("\n")
    .filter((file) => /^(lib|functions|local|test|bench|infra|\.ci)\/.*\.(ts|cjs|mjs|js)$/.test(file) && !file.endsWith("self-contained.test.ts"));
  expect(files.length).toBeGreaterThan(20);
  const found: string[] = [];
  for (const file of files) {
    const text = readFileSync(join(ROOT, file), "utf8");
    for (const [, path] of text.matchAll(SYSTEM_PATH)) {
      if (path !== undefined && !NOT_HOST_PATHS.some((allowed) => path.startsWith(allowed))) found.push(`${file}: ${path}`);
    }
  }
  expect(found).toEqual([]);
});
