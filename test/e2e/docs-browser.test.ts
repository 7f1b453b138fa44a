/**
 * The docs page as a person uses it, in headless Chromium (from the lock file, driven by
 * playwright-core: test/helpers/browser.ts; no browser is downloaded): open /docs served by serverless-offline, click
 * Authorize, sign in on the provider's login page, "Try it out" a protected route. On both API
 * kinds: the HTTP API at the root and the REST API under /dev.
 *
 * The stack (test/helpers/docs-stack.ts) runs on a free port with a copy of the demo realm whose
 * api-docs client allows exactly that origin, so this file never needs port 3000.
 * Screenshots of the page after each call go to test-output/ (gitignored).
 */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { ROOT } from "../../local/stack.js";
import { launchBrowser } from "../helpers/browser.js";
import { openDocs as openDocsPage, screenshot as screenshotTo, signIn as signInAs, tryItOut } from "../helpers/docs-page.js";
import { startDocsStack, type DocsStack } from "../helpers/docs-stack.js";

const OUTPUT = join(ROOT, "test-output");

let docs: DocsStack;
let browser: Browser;

beforeAll(async () => {
  await mkdir(OUTPUT, { recursive: true });
  browser = await launchBrowser();
  docs = await startDocsStack();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await docs?.stop();
});

const openDocs = (prefix: string) => openDocsPage(browser, docs.origin, prefix);
// The embedded provider serves its login form under the realm's login-actions path.
const signIn = (page: Page, username: string) => signInAs(page, { username, loginUrlPrefix: `${docs.stack.issuer}/login-actions/` });
const screenshot = (page: Page, name: string) => screenshotTo(page, OUTPUT, name);

describe.each([
  ["HTTP API", "", "docs"],
  ["REST API", "/dev", "docs-rest"],
])("%s: the docs page at <origin>%s/docs", (_kind, prefix, shot) => {
  test("alice signs in through Authorize and GET /secured shows 200 with her claims", async () => {
    const { context, page, requested, problems } = await openDocs(prefix);
    try {
      await signIn(page, "alice");
      const result = await tryItOut(page, "getSecured");
      await screenshot(page, `${shot}-secured-alice.png`);
      expect(result.requestUrl).toBe(`${docs.origin}${prefix}/secured`);
      expect(result.status).toBe("200");
      expect(result.body).toContain('"preferred_username": "alice"');
      expect(result.body).toContain('"azp": "api-docs"');
      // Everything came from this API or the realm: no CDN, no validator badge.
      const origins = new Set(requested.filter((url) => !url.startsWith("data:")).map((url) => new URL(url).origin));
      expect([...origins].sort()).toEqual([docs.origin, new URL(docs.stack.issuer).origin].sort());
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 180_000);

  test("bob signs in and GET /admin shows 403", async () => {
    const { context, page, problems } = await openDocs(prefix);
    try {
      await signIn(page, "bob");
      const result = await tryItOut(page, "getAdmin");
      await screenshot(page, `${shot}-admin-bob.png`);
      expect(result.requestUrl).toBe(`${docs.origin}${prefix}/admin`);
      expect(result.status).toBe("403");
      // The HTTP API's 403 comes from the handler (RFC 6750 body); serverless-offline answers the
      // REST API's itself (API Gateway's gateway response on AWS), with a body of its own.
      if (prefix === "") expect(result.body).toContain('"error": "insufficient_scope"');
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 180_000);
});
