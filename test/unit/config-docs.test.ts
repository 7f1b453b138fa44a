/** docs/configuration.md's tables are the settings records as they are: regenerate with `npm run docs:config`. */
import { expect, test } from "@jest/globals";
import { readFile } from "node:fs/promises";
import { CONFIGURATION_DOC, withCurrentTables } from "../../local/config-docs.js";

test("docs/configuration.md lists every setting with its default and meaning, as the code has them", async () => {
  const document = await readFile(CONFIGURATION_DOC, "utf8");
  expect(document).toBe(withCurrentTables(document));
  for (const name of ["KEYCLOAK_ISSUER", "KEYCLOAK_AUDIENCE", "KEYCLOAK_TOKEN_CACHE_SIZE", "CORS_ORIGINS", "DOCS_CLIENT_ID"])
    expect(document).toContain(`\`${name}\``);
});
