import type { Page } from 'playwright-core';
import request from 'supertest';
import { DASHBOARD_CSP } from '../../api/routes/dashboard.routes';
import { temporalUiRobotUrl } from '../../core/domain/temporal-ui';
import { launchBrowser, screenshot, type TestBrowser, watchPageErrors } from '../support/browser';
import { type InPage, pageWithKey, waitForText } from '../support/dashboard-page';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';

// The dashboard against the real API and workers in Debian's Chromium, with the admin key already
// entered. The key prompt, and approvals and alerts in depth: dashboard-keys-approvals-alerts.test.ts.

let system: TestSystem;
let browser: TestBrowser | undefined;

beforeAll(async () => {
  system = await startTestSystem();
  browser = await launchBrowser();
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await system?.close();
}, 60_000);

function context() {
  if (!browser) throw new Error('no browser');
  return browser.context;
}

async function openDashboard(): Promise<{ page: Page; errors: string[] }> {
  const page = await pageWithKey(context(), system.adminKey);
  const errors = watchPageErrors(page);
  const response = await page.goto(`${system.url}/dashboard/`, { timeout: 15_000 });
  expect(response?.status()).toBe(200);
  expect(response?.headers()['content-security-policy']).toBe(DASHBOARD_CSP);
  return { page, errors };
}

describe('serving /dashboard', () => {
  it('redirects /dashboard to /dashboard/ and serves the files with a strict CSP', async () => {
    const redirect = await system.api.get('/dashboard');
    expect(redirect.status).toBe(301);
    expect(redirect.headers.location).toBe('/dashboard/');
    const index = await system.api.get('/dashboard/');
    expect(index.headers['content-type']).toMatch(/^text\/html/);
    expect(index.headers['content-security-policy']).toContain("script-src 'self'");
    expect(index.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
    const app = await system.api.get('/dashboard/app.mjs');
    expect(app.headers['content-type']).toMatch(/^text\/javascript/);
    expect((await system.api.get('/dashboard/nope.mjs')).status).toBe(404);
  });

  it('is absent with DASHBOARD_ENABLED=false', async () => {
    const { app } = system.appFor({ config: { DASHBOARD_ENABLED: false } });
    const res = await request(app).get('/dashboard/');
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(/problem\+json/);
  });
});

describe('the dashboard in Chromium', () => {
  it('creates a robot, follows it live to completed, and shows detail, modules, charts', async () => {
    const { page, errors } = await openDashboard();
    await waitForText(page, '#health-body', /database: up/);
    const streams: string[] = [];
    page.on('request', (req) => {
      if (req.url().endsWith('/events')) streams.push(req.url());
    });
    // Set before the robot exists: still there at the end means the page never reloaded.
    await page.evaluate(() => {
      (globalThis as unknown as { loadMarker: string }).loadMarker = 'first-load';
    });

    await page.getByText('New robot').click();
    await page.getByLabel('Type').first().fill('noop-pipeline');
    // Three steps of 2 s: the row must be seen running before it turns completed.
    await page.getByLabel('Input (JSON object)').fill('{"holdMs": 2000}');
    const created = page.waitForResponse(
      (res) => res.request().method() === 'POST' && res.url().endsWith('/v1/robots') && res.status() === 201,
    );
    await page.getByRole('button', { name: 'Create robot' }).click();
    const { robotId } = (await (await created).json()) as { robotId: string };
    const row = page.locator(`#robots-body tr[data-robot-id="${robotId}"]`);
    await row.waitFor();
    expect(await page.locator('#robots-body tr').first().getAttribute('data-robot-id')).toBe(robotId);
    expect(await row.getAttribute('data-status')).not.toBe('completed');
    await page.locator(`#robots-body tr[data-robot-id="${robotId}"][data-status="completed"]`).waitFor({
      timeout: 60_000,
    });
    await expect(row.locator('.status-cell').textContent()).resolves.toBe('completed');
    expect(await page.evaluate(() => (globalThis as unknown as { loadMarker?: string }).loadMarker)).toBe(
      'first-load',
    );
    expect(streams.some((url) => url.includes(`/v1/robots/${robotId}/events`))).toBe(true);
    await expect(page.locator('#announcer').textContent()).resolves.toMatch(/completed/);
    await screenshot(page, 'robots');

    await row.getByRole('link').click();
    const link = page.locator('#temporal-ui-link');
    await link.waitFor();
    expect(await link.getAttribute('href')).toBe(
      temporalUiRobotUrl(system.config.TEMPORAL_UI_URL, system.config.TEMPORAL_NAMESPACE, robotId),
    );
    const stepRows = page.locator('#steps-table tbody tr');
    expect(await stepRows.count()).toBeGreaterThanOrEqual(1);
    await expect(stepRows.first().locator('td').nth(1).textContent()).resolves.toBe('completed');
    await expect(page.locator('#view-robot .routing').textContent()).resolves.toContain(system.moduleName);
    await screenshot(page, 'robot-detail');

    await page.getByRole('link', { name: 'Modules' }).click();
    // The view's heading takes focus, so keyboard and screen-reader users land in the new view.
    await page.waitForFunction(
      () => (globalThis as unknown as InPage).document.activeElement?.id === 'modules-title',
    );
    const moduleRow = page.locator(`#modules-body tr[data-module="${system.moduleName}"]`);
    await moduleRow.waitFor();
    await expect(moduleRow.locator('td').nth(4).textContent()).resolves.toMatch(/^[1-9]\d*$/); // live replicas
    await page.getByLabel('Routing score for robot type').fill('noop-pipeline');
    await page.keyboard.press('Enter');
    await waitForText(
      page,
      `#modules-body tr[data-module="${system.moduleName}"] td:nth-child(5)`,
      /^[01]\.\d{3}$/,
    );
    await screenshot(page, 'modules');

    await page.getByRole('link', { name: 'Metrics' }).click();
    // Two points need three samples (one every 5 s): a line, not just the axis.
    await page.waitForFunction(
      () =>
        /L/.test(
          (globalThis as unknown as InPage).document
            .querySelector('#chart-request-rate svg path')
            ?.getAttribute('d') ?? '',
        ),
      undefined,
      { timeout: 20_000 },
    );
    expect(await page.locator('#chart-robots svg rect').count()).toBeGreaterThanOrEqual(1);
    await expect(page.locator('#chart-robots svg').getAttribute('aria-label')).resolves.toMatch(
      /completed [1-9]/,
    );
    await screenshot(page, 'metrics');

    // Both views answer from their real APIs: nobody waits (the robot above had no approval step) and
    // nothing fires (no evaluator runs in this test system). Only those exact texts pass: a view
    // whose API is gone says something else and fails here.
    await page.getByRole('link', { name: 'Approvals' }).click();
    await waitForText(page, '#approvals-status', /./);
    await expect(page.locator('#approvals-status').textContent()).resolves.toBe(
      'Nothing is waiting for approval.',
    );
    expect(await page.locator('#approvals-error').textContent()).toBe('');

    await page.getByRole('link', { name: 'Alerts' }).click();
    await waitForText(page, '#alerts-status', /./);
    await expect(page.locator('#alerts-status').textContent()).resolves.toBe('No firing alerts.');
    expect(await page.locator('#alerts-error').textContent()).toBe('');
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);
});

describe('robots table paging and filters', () => {
  it('pages with the API cursor ("More") and filters by type and status', async () => {
    // A second robot of another type beside the one the test above created.
    const created = await system.api.post('/v1/robots').send({ type: 'demo', input: { text: 'paging' } });
    expect(created.status).toBe(201);
    const counts = await system.sql.query<{ robot_type: string; n: number }>(
      'select robot_type, count(*)::int as n from robots group by robot_type',
    );
    const total = counts.rows.reduce((sum, row) => sum + row.n, 0);
    const noop = counts.rows.find((row) => row.robot_type === 'noop-pipeline')?.n ?? 0;
    expect(total).toBeGreaterThanOrEqual(2);
    const page = await pageWithKey(context(), system.adminKey);
    // Pages of one robot, so a handful of robots needs several "More" clicks through real cursors.
    await page.route(/\/v1\/robots\?/, (route) =>
      route.continue({ url: route.request().url().replace('limit=20', 'limit=1') }),
    );
    await page.goto(`${system.url}/dashboard/`);
    const rows = page.locator('#robots-body tr');
    await rows.first().waitFor();
    expect(await rows.count()).toBe(1);
    const more = page.getByRole('button', { name: 'More' });
    for (let clicks = 1; clicks < total; clicks++) {
      await more.click();
      await page.waitForFunction(
        (n) =>
          (globalThis as unknown as InPage).document.querySelector(`#robots-body tr:nth-child(${n})`) !==
          null,
        clicks + 1,
      );
    }
    await more.waitFor({ state: 'hidden' });
    expect(await rows.count()).toBe(total);
    const ids = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-robot-id')));
    expect(new Set(ids).size).toBe(total);

    await page.getByLabel('Type').nth(1).fill('noop-pipeline');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForFunction(
      () =>
        (globalThis as unknown as InPage).document
          .querySelector('#robots-table')
          ?.getAttribute('aria-busy') === 'false',
    );
    for (let clicks = 1; clicks < noop && (await more.isVisible()); clicks++) await more.click();
    await more.waitFor({ state: 'hidden' });
    const types = await page.locator('#robots-body tr td:nth-child(2)').allTextContents();
    expect(types).toEqual(Array(noop).fill('noop-pipeline'));

    await page.getByLabel('Status', { exact: true }).selectOption('failed');
    await page.locator('#robots-empty').waitFor();
    expect(await rows.count()).toBe(0);
    await page.close();
  }, 60_000);
});

describe('approvals inbox against the real API', () => {
  it('approves and rejects waiting robots', async () => {
    const page = await pageWithKey(context(), system.adminKey);
    const start = async (text: string) => {
      const res = await system.api.post('/v1/robots').send({ type: 'approval-demo', input: { text } });
      expect(res.status).toBe(201);
      return res.body.robotId as string;
    };
    const robotStatus = async (id: string) =>
      (await system.api.get(`/v1/robots/${id}`)).body as {
        status: string;
        error: string | null;
      };
    const approveId = await start('invoice 7');
    const rejectId = await start('invoice 8');
    await page.goto(`${system.url}/dashboard/#approvals`);
    // The inbox refreshes every 10 s: wait until both robots wait for a person, then load it.
    for (const id of [approveId, rejectId]) {
      await eventually(async () =>
        (await robotStatus(id)).status === 'awaiting_approval' ? true : undefined,
      );
    }
    await page.reload();
    const approveCard = page.locator(`#approvals-list li[data-robot-id="${approveId}"]`);
    await approveCard.waitFor();
    await approveCard.getByLabel('Fields (JSON, optional)').fill('{"text": "invoice 7 corrected"}');
    await approveCard.getByLabel('Comment').fill('looks right');
    await approveCard.getByRole('button', { name: 'Approve' }).click();
    await approveCard.waitFor({ state: 'detached' });
    const rejectCard = page.locator(`#approvals-list li[data-robot-id="${rejectId}"]`);
    await rejectCard.getByLabel('Reason').fill('duplicate');
    await rejectCard.getByRole('button', { name: 'Reject' }).click();
    await rejectCard.waitFor({ state: 'detached' });
    const approved = await eventually(async () => {
      const robot = await robotStatus(approveId);
      return robot.status === 'completed' ? robot : undefined;
    });
    expect(JSON.stringify(approved)).toContain('invoice 7 corrected');
    const rejected = await eventually(async () => {
      const robot = await robotStatus(rejectId);
      return robot.status === 'failed' ? robot : undefined;
    });
    expect(rejected.error).toContain('duplicate');
    await screenshot(page, 'approvals-live');
    await page.close();
  }, 90_000);
});
