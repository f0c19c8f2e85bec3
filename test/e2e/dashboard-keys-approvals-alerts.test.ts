import type { Page } from 'playwright-core';
import { AlertEvaluator } from '../../api/alerting';
import { defaultAlertRules } from '../../core/domain/alerts';
import type { RobotView } from '../../core/domain/robot';
import { createLogger } from '../../core/observability/logger';
import { MetricWindows } from '../../core/observability/metric-windows';
import { AlertsRepository } from '../../db/alerts.repository';
import { launchBrowser, screenshot, type TestBrowser, watchPageErrors } from '../support/browser';
import { type InPage, pageWithKey, waitForText } from '../support/dashboard-page';
import { faultySteps } from '../support/faulty-steps';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';

// The dashboard's API-key prompt, approvals inbox and alerts view in Chromium, against the real API:
// real keys (and a wrong one), a robot really waiting at its approval step, and alerts raised by the
// real alert evaluator from a robot that really parked. Nothing is answered inside the browser.

let system: TestSystem;
let browser: TestBrowser | undefined;
const steps = faultySteps();

beforeAll(async () => {
  // The parked robot's failures are its step's own, never the module's: keep the circuit closed.
  system = await startTestSystem({ module: false, env: { CIRCUIT_FAILURE_THRESHOLD: '1000' } });
  await system.startModule({ name: 'dash-mod' }, steps.activities);
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

async function robot(robotId: string): Promise<RobotView> {
  return (await system.api.get(`/v1/robots/${robotId}`)).body as RobotView;
}

function waitForStatus(robotId: string, status: string, timeoutMs = 30_000): Promise<RobotView> {
  return eventually(async () => {
    const view = await robot(robotId);
    return view.status === status ? view : undefined;
  }, timeoutMs);
}

interface AuditRow {
  key_id: string | null;
  action: string;
  target: string | null;
  outcome: string;
  status: number;
}

/** Audit rows are written on `finish`, so they may trail the response a little. */
function auditRows(where: string, count: number): Promise<AuditRow[]> {
  return eventually(async () => {
    const { rows } = await system.sql.query<AuditRow>(
      `select key_id, action, target, outcome, status from audit_log where ${where} order by at`,
    );
    return rows.length >= count ? rows : undefined;
  }, 5000);
}

const storedKey = (page: Page) =>
  page.evaluate(() => (globalThis as unknown as InPage).localStorage.getItem('rpa.dashboard.apiKey'));

describe('API keys in the dashboard', () => {
  it('asks for a key, refuses a wrong one, works with a real one, and asks for another on 403', async () => {
    const reader = await system.security.keys.create({
      name: 'dashboard-reader',
      scopes: ['robots:read'],
      expiresAt: null,
    });
    const writer = await system.security.keys.create({
      name: 'dashboard-writer',
      scopes: ['robots:read', 'robots:write'],
      expiresAt: null,
    });
    // Well formed and with the reader's prefix, so the server finds the row and must compare the
    // secret: the refusal is the hash check's, not the format check's.
    const wrongKey = `${reader.key.slice(0, -2)}${reader.key.endsWith('AA') ? 'BB' : 'AA'}`;

    const page = await context().newPage();
    const errors = watchPageErrors(page);
    await page.addInitScript(() => (globalThis as unknown as InPage).localStorage.clear());
    // What the page sent and what the server answered, seen from the browser.
    const answers: { url: string; authorization: string | undefined; status: number }[] = [];
    page.on('response', async (res) => {
      if (!res.url().includes('/v1/')) return;
      const { authorization } = await res.request().allHeaders();
      answers.push({ url: res.url(), authorization, status: res.status() });
    });

    await page.goto(`${system.url}/dashboard/`);
    const dialog = page.locator('#key-dialog[open]');
    const keyInput = page.getByRole('textbox', { name: 'Key', exact: true });
    await dialog.waitFor();
    // The server's 401 says the key is missing (reason "missing"), and the page words it so.
    await expect(page.locator('#key-message').textContent()).resolves.toMatch(/needs an API key/);

    await keyInput.fill(wrongKey);
    await page.getByRole('button', { name: 'Use this key' }).click();
    await waitForText(page, '#key-message', /refused \(unknown, expired or revoked\)/);
    expect(await dialog.isVisible()).toBe(true);
    const withWrongKey = answers.filter((answer) => answer.authorization === `Bearer ${wrongKey}`);
    expect(withWrongKey.length).toBeGreaterThan(0);
    expect(withWrongKey.map((answer) => answer.status)).toEqual(withWrongKey.map(() => 401));

    await keyInput.fill(reader.key);
    await page.getByRole('button', { name: 'Use this key' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await page.waitForFunction(
      () =>
        (globalThis as unknown as InPage).document
          .querySelector('#robots-table')
          ?.getAttribute('aria-busy') === 'false',
    );
    expect(await page.locator('#robots-error').textContent()).toBe('');
    expect(await page.locator('#robots-empty').isVisible()).toBe(true);
    expect(await storedKey(page)).toBe(reader.key);

    // The reader may list but not create: the real 403 names the scope it lacks.
    await page.getByText('New robot').click();
    await page.getByRole('button', { name: 'Create robot' }).click();
    await dialog.waitFor();
    await expect(page.locator('#key-message').textContent()).resolves.toMatch(
      /not allowed to do that \("robots:write"\)/,
    );
    await screenshot(page, 'key-dialog');
    await page.getByRole('button', { name: 'Cancel' }).click();
    await waitForText(page, '#new-robot-error', /Could not create the robot/);
    expect((await system.sql.query('select 1 from robots')).rows).toEqual([]);

    // "API key…" asks again after a cancel; the writer's key then creates the robot.
    await page.getByRole('button', { name: 'API key…' }).click();
    await dialog.waitFor();
    await keyInput.fill(writer.key);
    await page.getByRole('button', { name: 'Use this key' }).click();
    await dialog.waitFor({ state: 'hidden' });
    const created = page.waitForResponse(
      (res) => res.request().method() === 'POST' && res.url().endsWith('/v1/robots') && res.status() === 201,
    );
    await page.getByRole('button', { name: 'Create robot' }).click();
    const { robotId } = (await (await created).json()) as { robotId: string };
    await page.locator(`#robots-body tr[data-robot-id="${robotId}"][data-status="completed"]`).waitFor({
      timeout: 60_000,
    });
    expect((await robot(robotId)).status).toBe('completed');
    expect(await storedKey(page)).toBe(writer.key);
    const stream = answers.find((answer) => answer.url.endsWith(`/v1/robots/${robotId}/events`));
    expect(stream).toMatchObject({ authorization: `Bearer ${writer.key}`, status: 200 });

    // The server's own record of who asked: the reader's create denied, the writer's done.
    const creates = await auditRows("action = 'robots.create'", 2);
    expect(creates).toEqual([
      { key_id: reader.row.id, action: 'robots.create', target: null, outcome: 'denied', status: 403 },
      { key_id: writer.row.id, action: 'robots.create', target: robotId, outcome: 'success', status: 201 },
    ]);
    // Chromium logs each refused request (the missing and the wrong key, the reader's create);
    // nothing else may fail.
    expect(errors.filter((error) => !/status of 40[13] /.test(error))).toEqual([]);
    await page.close();
  }, 120_000);
});

describe('approvals inbox', () => {
  it('shows a robot as it starts waiting at its approval step; approving it from the page completes it', async () => {
    const page = await pageWithKey(context(), system.adminKey);
    const errors = watchPageErrors(page);
    await page.goto(`${system.url}/dashboard/#approvals`);
    await waitForText(page, '#approvals-status', /Nothing is waiting for approval/);

    const res = await system.api
      .post('/v1/robots')
      .send({ type: 'approval-demo', input: { text: 'invoice 12 total 40 EUR' } });
    expect(res.status).toBe(201);
    const robotId = res.body.robotId as string;
    // The open inbox picks it up on its own refresh (every 10 s), without a reload.
    const card = page.locator(`#approvals-list li[data-robot-id="${robotId}"]`);
    await card.waitFor({ timeout: 30_000 });
    await expect(page.locator('#approvals-status').textContent()).resolves.toBe('1 waiting for approval.');
    await expect(card.locator('h3').textContent()).resolves.toMatch(/approval-demo · step review/);
    await expect(card.locator('details pre').textContent()).resolves.toContain('invoice 12 total 40 EUR');
    expect((await robot(robotId)).status).toBe('awaiting_approval');

    await card.getByLabel('Fields (JSON, optional)').fill('{"text": "invoice 12 total 45 EUR"}');
    await card.getByLabel('Comment').fill('amount fixed');
    await screenshot(page, 'approvals');
    await card.getByRole('button', { name: 'Approve' }).click();
    // The reload right after the 202 may still list it (the workflow records the new status a moment
    // later); the next refresh, 10 s on, may be the one that drops it.
    await card.waitFor({ state: 'detached', timeout: 30_000 });
    await waitForText(page, '#approvals-status', /Nothing is waiting for approval/);
    await expect(page.locator('#announcer').textContent()).resolves.toBe(
      `Robot ${robotId.slice(0, 8)} approved.`,
    );

    // The robot goes on with the corrected data and completes.
    const done = await waitForStatus(robotId, 'completed');
    expect(done.output).toMatchObject({
      review: { approved: true, fields: { text: 'invoice 12 total 45 EUR' }, comment: 'amount fixed' },
      summarize: { summary: 'invoice 12 total 45 EUR' },
    });
    expect(errors).toEqual([]);
    await page.close();
  }, 90_000);
});

describe('alerts view', () => {
  it('shows the alert the evaluator raises for a parked robot, and lists it as resolved after the robot is resumed', async () => {
    // The evaluator as the API process runs it (api/server.ts), on a short interval: default rules
    // and config's hysteresis, over this system's database.
    const evaluator = new AlertEvaluator({
      rules: defaultAlertRules(system.config),
      alerts: new AlertsRepository(system.database.db, system.database.readDb),
      windows: new MetricWindows(system.config.ALERT_MIN_SAMPLES),
      fireAfter: system.config.ALERT_FIRE_AFTER,
      resolveAfter: system.config.ALERT_RESOLVE_AFTER,
      logger: createLogger(system.config, 'test'),
    });
    evaluator.start(250);
    const page = await pageWithKey(context(), system.adminKey);
    const errors = watchPageErrors(page);
    try {
      await page.goto(`${system.url}/dashboard/#alerts`);
      await waitForText(page, '#alerts-status', /firing/);
      const parkedRow = page.locator('#alerts-body tr', {
        has: page.getByRole('rowheader', { name: 'robots_parked', exact: true }),
      });
      expect(await parkedRow.count()).toBe(0);

      steps.fail('alert-1', 'second', 'ledger unreachable');
      const created = await system.api
        .post('/v1/robots')
        .send({ type: 'noop-pipeline', input: { tag: 'alert-1' } });
      expect(created.status).toBe(201);
      const robotId = created.body.robotId as string;
      await waitForStatus(robotId, 'parked');

      // The open view shows it on its own refresh (every 10 s).
      await parkedRow.waitFor({ timeout: 30_000 });
      const [alert] = (
        await system.sql.query<{ alert_id: string }>(
          "select alert_id from alerts where rule = 'robots_parked' and status = 'firing'",
        )
      ).rows;
      expect(await parkedRow.getAttribute('data-alert-id')).toBe(alert?.alert_id);
      const cells = await parkedRow.locator('th, td').allTextContents();
      expect(cells.slice(0, 5)).toEqual(['robots_parked', 'robots', 'warning', 'firing', '1 / 0.5']);
      expect(cells[5]).toMatch(/^robots parked, waiting for an operator to resume them: 1/);
      expect(cells[7]).toBe('—');
      await screenshot(page, 'alerts');

      // The operator fixes the cause and resumes the robot (the dashboard has no resume control).
      steps.fix('alert-1', 'second');
      expect((await system.api.post(`/v1/robots/${robotId}/resume`)).status).toBe(202);
      await waitForStatus(robotId, 'completed');
      await parkedRow.waitFor({ state: 'detached', timeout: 30_000 });

      await page.getByLabel('Alert status').selectOption('resolved');
      const resolvedRow = page.locator(`#alerts-body tr[data-alert-id="${alert?.alert_id}"]`);
      await resolvedRow.waitFor();
      const resolvedCells = await resolvedRow.locator('th, td').allTextContents();
      expect(resolvedCells.slice(0, 4)).toEqual(['robots_parked', 'robots', 'warning', 'resolved']);
      expect(resolvedCells[7]).not.toBe('—');
      await screenshot(page, 'alerts-resolved');
      expect(errors).toEqual([]);
    } finally {
      await evaluator.stop();
      await page.close();
    }
  }, 120_000);
});
