import type { Page } from 'playwright-core';
import { launchBrowser, type TestBrowser, watchPageErrors } from '../support/browser';
import { pageWithKey, waitForText } from '../support/dashboard-page';
import { startTestSystem, type TestSystem } from '../support/test-system';

// With METRICS_TOKEN set, the dashboard's metrics view reads /metrics with the API key it holds:
// an admin key draws the charts, a narrower key is told why it cannot.

let system: TestSystem;
let browser: TestBrowser | undefined;

beforeAll(async () => {
  system = await startTestSystem({ module: false, env: { METRICS_TOKEN: 'dashboard-token-0123456789' } });
  browser = await launchBrowser();
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await system?.close();
}, 60_000);

async function openMetrics(key: string): Promise<{ page: Page; status: number; errors: string[] }> {
  if (!browser) throw new Error('no browser');
  const page = await pageWithKey(browser.context, key);
  const errors = watchPageErrors(page);
  const scraped = page.waitForResponse((res) => new URL(res.url()).pathname === '/metrics', {
    timeout: 15_000,
  });
  await page.goto(`${system.url}/dashboard/#metrics`, { timeout: 15_000 });
  return { page, status: (await scraped).status(), errors };
}

describe('the dashboard metrics view with METRICS_TOKEN', () => {
  it('scrapes with an admin key', async () => {
    // Unguarded scrapes are refused, so the page's 200 below is its key at work.
    expect((await fetch(`${system.url}/metrics`)).status).toBe(401);
    const { page, status } = await openMetrics(system.adminKey);
    expect(status).toBe(200);
    await waitForText(page, '#chart-robots', /Robots by status/);
    expect(await page.locator('#metrics-error').textContent()).toBe('');
    await page.close();
  });

  it('says an admin key is needed when the key is narrower', async () => {
    const reader = await system.security.keys.create({
      name: 'reader',
      scopes: ['robots:read'],
      expiresAt: null,
    });
    const { page, status } = await openMetrics(reader.key);
    expect(status).toBe(403);
    await waitForText(page, '#metrics-error', /admin scope/);
    await page.close();
  });
});
