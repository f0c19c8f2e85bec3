import type { Page } from 'playwright-core';
import type { TestSystem } from './test-system';

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

/** With API keys on (security branch), the test system has an admin key; on main there is none. */
export const apiKeyOf = (system: TestSystem): string | undefined =>
  (system as unknown as { adminKey?: string }).adminKey;

/** Answers the dashboard's key dialog if it asks (only when there is a key to give). */
export async function answerKeyPromptIfAsked(page: Page, key: string | undefined): Promise<void> {
  if (!key) return;
  const dialog = page.locator('#key-dialog[open]');
  await dialog.waitFor({ timeout: 5000 }).then(
    async () => {
      await page.getByRole('textbox', { name: 'Key', exact: true }).fill(key);
      await page.getByRole('button', { name: 'Use this key' }).click();
    },
    () => undefined,
  );
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
