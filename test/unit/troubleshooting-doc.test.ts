/** docs/troubleshooting.md against the code: its example test is the one that runs, its hint table has every hinted reason. */
import { expect, test } from "@jest/globals";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { HINTED_REASONS } from "../../lib/operations/hints.js";
import { ROOT } from "../../local/stack.js";

const doc = (): Promise<string> => readFile(join(ROOT, "docs", "troubleshooting.md"), "utf8");

test("the example a user copies is test/unit/example-user-test.test.ts verbatim", async () => {
  const block = /<!-- example-user-test -->\n```ts\n([\s\S]*?)```\n<!-- \/example-user-test -->/.exec(await doc())?.[1];
  expect(block).toBe(await readFile(join(ROOT, "test", "unit", "example-user-test.test.ts"), "utf8"));
});

test("the hint table has a row for every reason that can carry a hint", async () => {
  const rows = (await doc()).split("\n").filter((line) => line.startsWith("| `"));
  for (const reason of [...HINTED_REASONS, "no_role_claims", "insufficient_rights"]) {
    expect(rows.some((row) => row.split("|")[1]?.includes(`\`${reason}\``))).toBe(true);
  }
});
