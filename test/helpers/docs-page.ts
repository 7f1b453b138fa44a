/**
 * The docs page (Swagger UI at <origin>[/dev]/docs) driven as a person uses it: open it, Authorize
 * through the realm's login page in a popup, "Try it out" an operation, screenshot the result.
 * Shared by test/e2e/docs-browser.test.ts and the provider contract (test/contract/).
 */
import { join } from "node:path";
import { expect } from "@jest/globals";
import type { Browser, BrowserContext, Page } from "playwright-core";

export interface DocsSession {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Every URL the page (and its login popup) asked for. */
  readonly requested: string[];
  /** Script errors and Content-Security-Policy violations on the docs page. */
  readonly problems: string[];
}

/** A fresh browser profile (no provider session yet) on `<origin><prefix>/docs`, Swagger UI rendered. */
export async function openDocs(browser: Browser, origin: string, prefix: string): Promise<DocsSession> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const requested: string[] = [];
  const problems: string[] = [];
  context.on("request", (request) => requested.push(request.url()));
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error" && /Content Security Policy|Refused to/i.test(message.text())) problems.push(message.text());
  });
  await page.goto(`${origin}${prefix}/docs`);
  await page.locator("#operations-api-getSecured").waitFor({ timeout: 60_000 });
  return { context, page, requested, problems };
}

export interface SignInOptions {
  readonly username: string;
  readonly password?: string;
  /** The login page must be served under this URL (the realm's issuer, or a path below it). */
  readonly loginUrlPrefix: string;
  /** Called with the login popup once its form is shown (a screenshot, say). */
  readonly onLoginPage?: (popup: Page) => Promise<void>;
}

/** Authorize -> the realm's login page in a popup -> back through oauth2-redirect.html. */
export async function signIn(page: Page, options: SignInOptions): Promise<void> {
  await page.locator("button.btn.authorize").first().click();
  const oauth2 = page.locator(".modal-ux .auth-container", { hasText: "OAuth2" });
  await expect(oauth2.locator("input[data-name=clientId]").inputValue()).resolves.toBe("api-docs");
  const popupOpened = page.waitForEvent("popup");
  await oauth2.getByRole("button", { name: "Apply given OAuth2 credentials" }).click();
  const popup = await popupOpened;
  await popup.locator("#username").waitFor({ timeout: 60_000 });
  expect(popup.url().startsWith(options.loginUrlPrefix)).toBe(true);
  await options.onLoginPage?.(popup);
  await popup.fill("#username", options.username);
  await popup.fill("#password", options.password ?? options.username);
  const closed = popup.waitForEvent("close", { timeout: 60_000 });
  await popup.click("#kc-login");
  // oauth2-redirect.html hands the code to the page and closes the popup; the page then redeems
  // it (with the PKCE verifier) at the token endpoint, cross-origin.
  await closed;
  await oauth2.getByRole("button", { name: "Remove authorization" }).waitFor({ timeout: 60_000 });
  await oauth2.getByRole("button", { name: "Close" }).click();
}

/** "Try it out" + "Execute" on one operation; what Swagger UI shows of the live response. */
export async function tryItOut(page: Page, operationId: string): Promise<{ status: string; body: string; requestUrl: string }> {
  const operation = page.locator(`#operations-api-${operationId}`);
  await operation.locator(".opblock-summary").click();
  await operation.getByRole("button", { name: "Try it out" }).click();
  await operation.getByRole("button", { name: "Execute" }).click();
  const live = operation.locator(".live-responses-table tbody tr.response").first();
  await live.waitFor({ timeout: 60_000 });
  await operation.scrollIntoViewIfNeeded();
  return {
    // biome-ignore lint/performance/useDomNodeTextContent: a Playwright locator, not a DOM node
    status: (await live.locator(".response-col_status").innerText()).trim(),
    // biome-ignore lint/performance/useDomNodeTextContent: a Playwright locator, not a DOM node
    body: await live.locator(".response-col_description pre").first().innerText(),
    // biome-ignore lint/performance/useDomNodeTextContent: a Playwright locator, not a DOM node
    requestUrl: (await operation.locator(".request-url pre").innerText()).trim(),
  };
}

/** The page from its top (Authorize, servers) down to the end of the live response. */
export async function screenshot(page: Page, folder: string, name: string): Promise<void> {
  // The response body box scrolls: show its end, where the profile claims are.
  // (Strings, not functions: they run in the page, and this project's types have no DOM.)
  await page.evaluate(`(() => {
    const body = document.querySelector(".live-responses-table .response-col_description pre");
    if (body) body.scrollTop = body.scrollHeight;
    window.scrollTo(0, 0);
  })()`);
  const box = await page.locator(".live-responses-table").first().boundingBox();
  const width = page.viewportSize()?.width ?? 1280;
  await page.screenshot({
    path: join(folder, name),
    fullPage: true,
    ...(box === null ? {} : { clip: { x: 0, y: 0, width, height: box.y + box.height + 24 } }),
  });
}
