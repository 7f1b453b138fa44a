/**
 * A headless Chromium for browser tests that comes from the lock file: `@sparticuz/chromium`
 * carries a Chromium build inside its npm package (unpacked to the temp folder on first use, no
 * download), driven by playwright-core. CHROMIUM_PATH points at another Chromium instead (Debian's
 * package chromium, say) for whoever prefers their own.
 */
import sparticuz from "@sparticuz/chromium";
import { chromium, type Browser } from "playwright-core";

/**
 * Flags of the package's Lambda-oriented set that we drop. The first three would weaken what the
 * tests check (the page's cross-origin calls must meet real CORS and CSP rules, as in a user's
 * browser); with `--single-process`, closing one browser context ends the whole browser.
 */
const DROPPED_FLAGS = new Set(["--disable-web-security", "--allow-running-insecure-content", "--disable-site-isolation-trials", "--single-process"]);

/** No phoning home: this machine has no network, and a test must not try. */
const QUIET_FLAGS = ["--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"];

export async function launchBrowser(): Promise<Browser> {
  const override = process.env.CHROMIUM_PATH?.trim();
  if (override) {
    return chromium.launch({ executablePath: override, headless: true, args: ["--no-sandbox", "--disable-gpu", ...QUIET_FLAGS] });
  }
  const args = sparticuz.args.filter((flag) => !DROPPED_FLAGS.has(flag));
  return chromium.launch({ executablePath: await sparticuz.executablePath(), headless: true, args: [...args, ...QUIET_FLAGS] });
}
