import type { BrowserContext, Page } from 'playwright-core';

/** What the callbacks run in the page may use (the test program has no DOM lib). */
export interface InPage {
  document: {
    activeElement: { id: string } | null;
    querySelector(
      css: string,
    ): { textContent: string | null; getAttribute(name: string): string | null } | null;
  };
  localStorage: {
    getItem(key: string): string | null;
    setItem(key: string, value: string): void;
    clear(): void;
  };
}

/**
 * A new page whose dashboard already holds `key` (as after a person entered it once), so a test of
 * another view starts there; the key prompt itself is tested in dashboard-keys-approvals-alerts.
 */
export async function pageWithKey(context: BrowserContext, key: string): Promise<Page> {
  const page = await context.newPage();
  await page.addInitScript((k) => {
    (globalThis as unknown as InPage).localStorage.setItem('rpa.dashboard.apiKey', k);
  }, key);
  return page;
}

export async function waitForText(page: Page, selector: string, pattern: RegExp): Promise<void> {
  await page.waitForFunction(
    ([css, source, flags]) =>
      new RegExp(source, flags).test(
        (globalThis as unknown as InPage).document.querySelector(css)?.textContent ?? '',
      ),
    [selector, pattern.source, pattern.flags] as const,
    { timeout: 15_000 },
  );
}
