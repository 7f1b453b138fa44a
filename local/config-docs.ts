/**
 * `npm run docs:config`: writes the configuration tables of docs/configuration.md from the
 * settings records themselves (lib/config/*-config.ts), between the marker comments, so a default
 * or a meaning is written once, in code. test/unit/config-docs.test.ts fails when they drift.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { API_SETTINGS } from "../lib/config/api-config.js";
import { AUTHORIZER_SETTINGS } from "../lib/config/authorizer-config.js";
import { DOCS_SETTINGS } from "../lib/config/docs-config.js";
import { LOGOUT_RECEIVER_SETTINGS } from "../lib/config/logout-receiver-config.js";
import { settingsTable } from "../lib/config/settings.js";
import { ROOT } from "./stack.js";

export const CONFIGURATION_DOC = join(ROOT, "docs", "configuration.md");

const TABLES = { authorizer: AUTHORIZER_SETTINGS, secured: API_SETTINGS, docs: DOCS_SETTINGS, "backchannel-logout": LOGOUT_RECEIVER_SETTINGS } as const;

/** The document with every generated table replaced by the current one. */
export function withCurrentTables(document: string): string {
  let result = document;
  for (const [name, settings] of Object.entries(TABLES)) {
    const begin = `<!-- settings:${name} -->`;
    const end = `<!-- /settings:${name} -->`;
    const from = result.indexOf(begin);
    const to = result.indexOf(end);
    if (from < 0 || to < from) throw new Error(`docs/configuration.md lacks the markers ${begin} ... ${end}`);
    result = `${result.slice(0, from + begin.length)}\n${settingsTable(settings)}\n${result.slice(to)}`;
  }
  return result;
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, ""))) {
  const current = await readFile(CONFIGURATION_DOC, "utf8");
  await writeFile(CONFIGURATION_DOC, withCurrentTables(current));
  console.log("docs/configuration.md: tables written from lib/config");
}
