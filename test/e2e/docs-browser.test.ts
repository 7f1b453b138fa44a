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
import type { Browser, BrowserContext, Page } from "playwright-core";
import { ROOT } from "../../local/stack.js";
import { launchBrowser } from "../helpers/browser.js";
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

interface Session {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Every URL the page (and its login popup) asked for. */
  readonly requested: string[];
  /** Script errors and Content-Security-Policy violations on the docs page. */
  readonly problems: string[];
}

/** A fresh browser profile (no provider session yet) on `<prefix>/docs`, Swagger UI rendered. */
async function openDocs(prefix: string): Promise<Session> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const requested: string[] = [];
  const problems: string[] = [];
  context.on("request", (request) => requested.push(request.url()));
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error" && /Content Security Policy|Refused to/i.test(message.text())) problems.push(message.text());
  });
  await page.goto(`${docs.origin}${prefix}/docs`);
  await page.locator("#operations-api-getSecured").waitFor({ timeout: 20_000 });
  return { context, page, requested, problems };
}

/** Authorize -> the realm's login page in a popup -> back through oauth2-redirect.html. */
async function signIn(page: Page, username: string): Promise<void> {
  await page.locator("button.btn.authorize").first().click();
  const oauth2 = page.locator(".modal-ux .auth-container", { hasText: "OAuth2" });
  await expect(oauth2.locator("input[data-name=clientId]").inputValue()).resolves.toBe("api-docs");
  const popupOpened = page.waitForEvent("popup");
  await oauth2.getByRole("button", { name: "Apply given OAuth2 credentials" }).click();
  const popup = await popupOpened;
  await popup.locator("#username").waitFor();
  expect(popup.url()).toContain(`${docs.stack.issuer}/login-actions/`);
  await popup.fill("#username", username);
  await popup.fill("#password", username);
  const closed = popup.waitForEvent("close", { timeout: 20_000 });
  await popup.click("#kc-login");
  // oauth2-redirect.html hands the code to the page and closes the popup; the page then redeems
  // it (with the PKCE verifier) at the token endpoint, cross-origin.
  await closed;
  await oauth2.getByRole("button", { name: "Remove authorization" }).waitFor({ timeout: 20_000 });
  await oauth2.getByRole("button", { name: "Close" }).click();
}

/** "Try it out" + "Execute" on one operation; what Swagger UI shows of the live response. */
async function tryItOut(page: Page, operationId: string): Promise<{ status: string; body: string; requestUrl: string }> {
  const operation = page.locator(`#operations-api-${operationId}`);
  await operation.locator(".opblock-summary").click();
  await operation.getByRole("button", { name: "Try it out" }).click();
  await operation.getByRole("button", { name: "Execute" }).click();
  const live = operation.locator(".live-responses-table tbody tr.response").first();
  await live.waitFor({ timeout: 20_000 });
  await operation.scrollIntoViewIfNeeded();
  return {
    status: (await live.locator(".response-col_status").innerText()).trim(),
    body: await live.locator(".response-col_description pre").first().innerText(),
    requestUrl: (await operation.locator(".request-url pre").innerText()).trim(),
  };
}

/** The page from its top (Authorize, servers) down to the end of the live response. */
async function screenshot(page: Page, name: string): Promise<void> {
  // The response body box scrolls: show its end, where the profile claims are.
  // (Strings, not functions: they run in the page, and this project's types have no DOM.)
  await page.evaluate(`(() => {
    const body = document.querySelector(".live-responses-table .response-col_description pre");
    if (body) body.scrollTop = body.scrollHeight;
    window.scrollTo(0, 0);
  })()`);
  const box = await page.locator(".live-responses-table").first().boundingBox();
  const width = page.viewportSize()?.width ?? 1280;
  await page.screenshot({ path: join(OUTPUT, name), fullPage: true, ...(box === null ? {} : { clip: { x: 0, y: 0, width, height: box.y + box.height + 24 } }) });
}

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
  }, 90_000);

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
  }, 90_000);
});
