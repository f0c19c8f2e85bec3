import type { Page } from 'playwright-core';
import { launchBrowser, type TestBrowser, watchPageErrors } from '../support/browser';
import { pageWithKey, waitForText } from '../support/dashboard-page';
import { scheduleOf } from '../support/robot-schedules';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';

// The Schedules view in Debian's Chromium against the real API and Temporal: a schedule paused by
// an error stands out, an active one can be paused and run from the page.

let system: TestSystem;
let browser: TestBrowser | undefined;

beforeAll(async () => {
  system = await startTestSystem();
  const type = await system.api
    .post('/v1/robot-types')
    .send({ name: 'short-lived-type', steps: [{ name: 'wait', kind: 'delay', params: { ms: 10 } }] });
  expect(type.status).toBe(201);
  for (const body of [
    {
      id: 'morning-report',
      description: 'Daily report',
      type: 'demo',
      input: { text: 'report' },
      cron: '0 7 * * *',
      timeZone: 'Europe/Berlin',
    },
    { id: 'lost-type', type: 'short-lived-type', input: {}, interval: { every: '1h' } },
  ]) {
    expect((await system.api.post('/v1/schedules').send(body)).status).toBe(201);
  }
  // The type goes away; the next firing pauses its schedule with the reason.
  await system.sql.query(`delete from robot_types where name = 'short-lived-type'`);
  await system.api.post('/v1/schedules/lost-type/trigger').send({});
  await eventually(async () => ((await scheduleOf(system, 'lost-type')).lastError ? true : undefined));
  browser = await launchBrowser();
}, 90_000);

afterAll(async () => {
  await browser?.close();
  for (const id of ['morning-report', 'lost-type']) await system?.api.delete(`/v1/schedules/${id}`);
  await system?.close();
}, 60_000);

const cells = (page: Page, row: string) => page.locator(`${row} > th, ${row} > td`).allTextContents();

it('shows each schedule, its error state, and pauses and runs one from the page', async () => {
  if (!browser) throw new Error('no browser');
  const page = await pageWithKey(browser.context, system.adminKey);
  const errors = watchPageErrors(page);
  await page.goto(`${system.url}/dashboard/#schedules`, { timeout: 15_000 });
  await page.locator('#schedules-body tr[data-schedule="lost-type"]').waitFor();
  await waitForText(page, '#schedules-status', /^2 schedules; 1 paused by an error\.$/);

  const morning = await cells(page, '#schedules-body tr[data-schedule="morning-report"]');
  expect(morning.slice(0, 4)).toEqual([
    'morning-reportDaily reportTemporal UI',
    'demo',
    'cron 0 7 * * * (Europe/Berlin; overlap skip)',
    'active',
  ]);
  const link = page.locator('#schedules-body tr[data-schedule="morning-report"] th a');
  await expect(link.getAttribute('href')).resolves.toBe(
    (await scheduleOf(system, 'morning-report')).links.temporalUi,
  );
  const lost = await cells(page, '#schedules-body tr[data-schedule="lost-type"]');
  expect(lost[3]).toMatch(/^error robot type "short-lived-type": unknown robot type "short-lived-type"/);

  await page
    .locator('#schedules-body tr[data-schedule="morning-report"] button[data-action="pause"]')
    .click();
  await waitForText(page, '#schedules-body tr[data-schedule="morning-report"] td:nth-of-type(3)', /^paused/);
  expect((await scheduleOf(system, 'morning-report')).paused).toBe(true);

  await page
    .locator('#schedules-body tr[data-schedule="morning-report"] button[data-action="trigger"]')
    .click();
  const run = await eventually(async () => (await scheduleOf(system, 'morning-report')).recentRuns[0]);
  await page.locator(`#schedules-body a[href="#robot/${run.robotId}"]`).waitFor({ timeout: 15_000 });
  expect(errors).toEqual([]);
}, 60_000);
