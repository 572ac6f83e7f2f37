/**
 * Headless Chromium for the browser tests, through playwright-core with a system Chromium (no
 * browser download). The page may only talk to 127.0.0.1: every other request is aborted and
 * recorded, so a test can check the editor never tried to reach anything else.
 */
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Debian/Ubuntu package `chromium`; override with CHROMIUM_PATH. */
const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

const VIEWPORT = { width: 1600, height: 900 };

export interface EditorBrowser {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Requests to anything but 127.0.0.1, aborted. */
  blockedRequests: string[];
  /** Uncaught exceptions in the page. */
  pageErrors: string[];
  /** console.error lines of the page. */
  consoleErrors: string[];
  /** Answers of 400 and above to the page's requests, as "<status> <method> <url>". */
  failedResponses: string[];
  close(): Promise<void>;
}

function isLoopback(url: string): boolean {
  try {
    const u = new URL(url);
    if (u.protocol === 'data:' || u.protocol === 'blob:' || u.protocol === 'about:') return true;
    return u.hostname === '127.0.0.1';
  } catch {
    return false;
  }
}

export async function launchEditorBrowser(): Promise<EditorBrowser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const blockedRequests: string[] = [];
  const pageErrors: string[] = [];
  const consoleErrors: string[] = [];
  const failedResponses: string[] = [];
  try {
    const context = await browser.newContext({ viewport: VIEWPORT, deviceScaleFactor: 1, locale: 'en-US' });
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (isLoopback(url)) return route.continue();
      blockedRequests.push(url);
      return route.abort('blockedbyclient');
    });
    const page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(String(err && err.stack ? err.stack : err)));
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(msg.text());
    });
    page.on('response', (res) => {
      if (res.status() >= 400) failedResponses.push(`${res.status()} ${res.request().method()} ${res.url()}`);
    });
    return {
      browser,
      context,
      page,
      blockedRequests,
      pageErrors,
      consoleErrors,
      failedResponses,
      close: async () => {
        await context.close().catch(() => undefined);
        await browser.close().catch(() => undefined);
      },
    };
  } catch (err) {
    await browser.close().catch(() => undefined);
    throw err;
  }
}
