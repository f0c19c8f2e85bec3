import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import { createBasicStepActivities } from '../../activities/basic-steps';
import { launchBrowser, screenshot, type TestBrowser, watchPageErrors } from '../support/browser';
import { type InPage, pageWithKey, waitForText } from '../support/dashboard-page';
import { startTestSystem, type TestSystem } from '../support/test-system';

// The Steps and Robot types views in Debian's Chromium against the real API. One live module serves
// the basic kinds (validate, classify, transform, noop); a second module is registered over HTTP for
// ocr but sends no heartbeat (not live); nobody serves send-email. A registered robot type uses all
// of them, so its card must name the live module for one step and warn for the other two.

let system: TestSystem;
let browser: TestBrowser | undefined;
const suffix = randomBytes(3).toString('hex');
// Module queues live on the shared Temporal server: names of their own keep other files' workers off.
const basic = `basic-${suffix}`;
const scanner = `scanner-${suffix}`;
const TYPE = 'catalog-check';

beforeAll(async () => {
  system = await startTestSystem({ module: false });
  await system.startModule({ name: basic }, createBasicStepActivities());
  const registered = await system.api.post('/v1/modules').send({
    name: scanner,
    version: '1.0.0',
    supportedRobotTypes: ['*'],
    supportedSteps: ['ocr'],
    capacity: 2,
  });
  expect(registered.status).toBe(201);
  const type = await system.api.post('/v1/robot-types').send({
    name: TYPE,
    description: 'Checks a text, pauses, reads a scan and answers.',
    sla: '4h',
    inputSchema: {
      type: 'object',
      required: ['text'],
      properties: { text: { type: 'string', minLength: 1 } },
    },
    steps: [
      {
        name: 'validate-input',
        kind: 'validate',
        params: { required: ['text'] },
        timeoutSeconds: 30,
        retry: {
          maximumAttempts: 5,
          initialIntervalSeconds: 2,
          maximumIntervalSeconds: 30,
          backoffCoefficient: 3,
        },
      },
      { name: 'pause', kind: 'delay', params: { ms: 100 } },
      { name: 'read-scan', kind: 'ocr' },
      { name: 'send-reply', kind: 'send-email', params: { to: 'a@example.com', subject: 's', text: 't' } },
    ],
  });
  expect(type.status).toBe(201);
  browser = await launchBrowser();
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await system?.close();
}, 60_000);

async function open(hash: string): Promise<{ page: Page; errors: string[] }> {
  if (!browser) throw new Error('no browser');
  const page = await pageWithKey(browser.context, system.adminKey);
  const errors = watchPageErrors(page);
  await page.goto(`${system.url}/dashboard/${hash}`, { timeout: 15_000 });
  return { page, errors };
}

/** The text of every cell of a row, header cell included. */
const cells = (page: Page, row: string) => page.locator(`${row} > th, ${row} > td`).allTextContents();

/** Waits until the element with this id has focus (a view's or a card's heading). */
const focusOn = (page: Page, id: string) =>
  page.waitForFunction(
    (expected) => (globalThis as unknown as InPage).document.activeElement?.id === expected,
    id,
  );

describe('the Steps view', () => {
  it('lists built-in kinds with their modules, live or not, and their params schemas', async () => {
    const { page, errors } = await open('#steps');
    await page.locator('#kinds-body tr[data-kind="validate"]').waitFor();
    await waitForText(page, '#kinds-status', /^\d+ step kinds: \d+ built-in, \d+ custom\.$/);

    const validate = await cells(page, '#kinds-body tr[data-kind="validate"]');
    expect(validate.slice(0, 3)).toEqual(['validate', 'built-in', 'module']);
    // The kind's version and description come with the registry's catalog: shown when sent.
    expect(validate[3]).toMatch(/^(—|\d+\.\d+\.\d+)$/);
    expect(validate[4]).toBe(`${basic} (1 replica)`);
    expect((await cells(page, '#kinds-body tr[data-kind="ocr"]'))[4]).toBe('no live module');
    expect((await cells(page, '#kinds-body tr[data-kind="send-email"]'))[4]).toBe('no live module');
    const delay = await cells(page, '#kinds-body tr[data-kind="delay"]');
    expect([delay[2], delay[4]]).toEqual(['workflow', 'the workflow']);

    // Cards: the module rows of a kind, live and not live.
    const basicRow = await cells(page, `#kinds-list li[data-kind="validate"] tr[data-module="${basic}"]`);
    expect([basicRow[0], basicRow[3], basicRow[4], basicRow[5]]).toEqual([basic, 'live', '1', 'active']);
    const scannerRow = await cells(page, `#kinds-list li[data-kind="ocr"] tr[data-module="${scanner}"]`);
    expect([scannerRow[0], scannerRow[1], scannerRow[3], scannerRow[4], scannerRow[5]]).toEqual([
      scanner,
      '1.0.0',
      'not live',
      '0',
      'active',
    ]);
    await expect(page.locator('#kinds-list li[data-kind="send-email"] .warning').textContent()).resolves.toBe(
      'No module serves this kind: robots reaching a step of it wait pending.',
    );
    await expect(page.locator('#kinds-list li[data-kind="delay"] dd').nth(1).textContent()).resolves.toBe(
      'the workflow (no module needed)',
    );

    // The keyboard reaches a kind from the index: its card's heading takes focus.
    await page.locator('#kinds-body a', { hasText: /^http-request$/ }).focus();
    await page.keyboard.press('Enter');
    await focusOn(page, 'kind-title-http-request');
    expect(page.url()).toMatch(/#steps\/http-request$/);
    const card = page.locator('#kinds-list li[data-kind="http-request"]');
    await expect(card.locator('dd').nth(3).textContent()).resolves.toBe('headers, body, form');
    await expect(
      cells(page, '#kinds-list li[data-kind="http-request"] tr[data-property="url"]'),
    ).resolves.toEqual(['url', 'string', 'yes', 'length 8–2048; pattern ^https?:\\/\\/']);
    await expect(
      cells(page, '#kinds-list li[data-kind="http-request"] tr[data-property="headers"]'),
    ).resolves.toEqual(['headers secret', 'map of string | secret ref', 'no', 'default {}']);
    // The full schema is folded away; Enter on its summary opens it.
    const json = card.locator('details pre');
    expect(await json.isVisible()).toBe(false);
    await card.locator('summary', { hasText: 'Params JSON Schema' }).focus();
    await page.keyboard.press('Enter');
    await json.waitFor({ state: 'visible' });
    expect(JSON.parse((await json.textContent()) ?? '')).toMatchObject({ required: ['url'] });
    // A kind without a params schema says so.
    await expect(
      page.locator('#kinds-list li[data-kind="validate"] [data-schema="params"] .hint').textContent(),
    ).resolves.toBe('No params schema: any params object is accepted.');
    await screenshot(page, 'steps');
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('shows what a custom kind declares (version, description, input, output, kindVersion)', async () => {
    // Two modules declare ledger.post through the API: the old one drained and deactivated, the
    // current one with two live replicas. Neither polls: the catalog is what the page reads.
    await declareLedger('ledger-old', '1.0.0', '1.0.0');
    expect((await system.api.post('/v1/modules/ledger-old/drain')).status).toBe(200);
    expect((await system.api.delete('/v1/modules/ledger-old')).status).toBe(200);
    await declareLedger('ledger', '2.0.0', '1.2.0');
    for (const replicaId of ['ledger-a', 'ledger-b']) {
      const beat = await system.api.post('/v1/modules/ledger/heartbeat').send({ replicaId, capacity: 2 });
      expect(beat.status).toBe(200);
    }
    const page = await pageWithKey(context(), system.adminKey);
    const errors = watchPageErrors(page);
    await page.goto(`${system.url}/dashboard/#steps/ledger.post`);
    await focusOn(page, 'kind-title-ledger.post');
    await expect(cells(page, '#kinds-body tr[data-kind="ledger.post"]')).resolves.toEqual([
      'ledger.post',
      'custom',
      'module',
      '1.2.0',
      'ledger (2 replicas)',
      'Posts an entry',
    ]);
    const card = '#kinds-list li[data-kind="ledger.post"]';
    await expect(page.locator(`${card} h3`).textContent()).resolves.toBe('ledger.post custom v1.2.0');
    await expect(cells(page, `${card} tr[data-module="ledger"]`)).resolves.toEqual([
      'ledger',
      '2.0.0',
      '1.2.0',
      'live',
      '2',
      'active',
    ]);
    await expect(cells(page, `${card} tr[data-module="ledger-old"]`)).resolves.toEqual([
      'ledger-old',
      '1.0.0',
      '1.0.0',
      'not live',
      '0',
      'inactive, draining',
    ]);
    await expect(cells(page, `${card} [data-schema="params"] tr[data-property="token"]`)).resolves.toEqual([
      'token secret',
      'string',
      'no',
      '',
    ]);
    await expect(cells(page, `${card} [data-schema="input"] tr[data-property="amount"]`)).resolves.toEqual([
      'amount',
      'number',
      'yes',
      'Amount in cents; > 0',
    ]);
    await expect(cells(page, `${card} [data-schema="output"] tr[data-property="entryId"]`)).resolves.toEqual([
      'entryId',
      'string',
      'yes',
      'format uuid',
    ]);
    expect(errors).toEqual([]);
    await page.close();
  }, 30_000);
});

describe('the Robot types view', () => {
  it("shows a type's steps in order, who would take each, and warns where nobody would", async () => {
    const { page, errors } = await open('#robots');
    await page.getByRole('link', { name: 'Robot types' }).click();
    await focusOn(page, 'robot-types-title');
    const card = `#types-list li[data-robot-type="${TYPE}"]`;
    await page.locator(card).waitFor();
    await expect(page.locator(`${card} h3`).textContent()).resolves.toBe(`${TYPE} v1 registered`);
    const rows = page.locator(`${card} table.type-steps tbody tr`);
    expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-step')))).toEqual([
      'validate-input',
      'pause',
      'read-scan',
      'send-reply',
    ]);
    await expect(cells(page, `${card} tr[data-step="validate-input"]`)).resolves.toEqual([
      '1',
      'validate-input',
      'validate',
      'module',
      '30 s',
      '5 attempts, 2 s → 30 s, ×3',
      `${basic} (1 replica)`,
    ]);
    await expect(cells(page, `${card} tr[data-step="pause"]`)).resolves.toEqual([
      '2',
      'pause',
      'delay',
      'workflow',
      '—',
      '—',
      'the workflow',
    ]);
    await expect(cells(page, `${card} tr[data-step="read-scan"]`)).resolves.toEqual([
      '3',
      'read-scan',
      'ocr',
      'module',
      '1 min',
      'default: 3 attempts, 1 s → 20 s',
      `warning No live module serves ocr (${scanner}: not live). Robots would wait pending here.`,
    ]);
    await expect(page.locator(`${card} tr[data-step="send-reply"] td`).last().textContent()).resolves.toBe(
      'warning No module serves send-email. Robots would wait pending here.',
    );
    await expect(page.locator(`${card} [data-warning]`).textContent()).resolves.toBe(
      'Robots of this type would wait pending: no live module would take step read-scan (ocr), step send-reply (send-email).',
    );
    await expect(page.locator(`${card} dl.summary`).textContent()).resolves.toMatch(
      /^Version1Registered.+SLA4hMax pendingno limit/,
    );
    await expect(cells(page, `${card} [data-schema="input"] tr[data-property="text"]`)).resolves.toEqual([
      'text',
      'string',
      'yes',
      'length ≥ 1',
    ]);
    // A built-in type whose module steps the live module serves: no warning.
    await page.locator('#types-list li[data-robot-type="demo"]').waitFor();
    expect(await page.locator('#types-list li[data-robot-type="demo"] [data-warning]').count()).toBe(0);
    expect(await page.locator('#types-list li[data-robot-type="demo"] .coverage-warning').count()).toBe(0);
    await screenshot(page, 'robot-types');

    // The scanner comes up: the next refresh drops its warning and keeps the opened fold open.
    await page.locator(`${card} [data-schema="input"] summary`).click();
    const beat = () =>
      system.api.post(`/v1/modules/${scanner}/heartbeat`).send({ replicaId: 'scanner-1', capacity: 2 });
    expect((await beat()).status).toBe(200);
    // supertest sends a request only once it is awaited or then-ed.
    const beating = setInterval(() => beat().then(noop, noop), 1000);
    try {
      await page.waitForFunction(
        ([selector, expected]) =>
          (globalThis as unknown as InPage).document.querySelector(selector)?.textContent === expected,
        [`${card} tr[data-step="read-scan"] td:last-child`, `${scanner} (1 replica)`] as const,
        { timeout: 20_000 },
      );
    } finally {
      clearInterval(beating);
    }
    await expect(page.locator(`${card} [data-warning]`).textContent()).resolves.toBe(
      'Robots of this type would wait pending: no live module would take step send-reply (send-email).',
    );
    expect(await page.locator(`${card} [data-schema="input"] details`).getAttribute('open')).toBe('');

    // A step's kind links to the kind in the Steps view.
    await page.locator(`${card} tr[data-step="read-scan"] a`).click();
    await focusOn(page, 'kind-title-ocr');
    expect(page.url()).toMatch(/#steps\/ocr$/);
    expect(errors).toEqual([]);
    await page.close();
  }, 90_000);
});

const noop = () => undefined;

function context() {
  if (!browser) throw new Error('no browser');
  return browser.context;
}

/** Registers a module that declares ledger.post (docs/modules.md, "Registration"). */
async function declareLedger(name: string, version: string, kindVersion: string): Promise<void> {
  const registered = await system.api.post('/v1/modules').send({
    name,
    version,
    capacity: 2,
    steps: [
      {
        kind: 'ledger.post',
        version: kindVersion,
        description: 'Posts an entry',
        params: {
          type: 'object',
          required: ['account'],
          properties: { account: { type: 'string' }, token: { type: 'string' } },
        },
        input: {
          type: 'object',
          required: ['amount'],
          properties: { amount: { type: 'number', exclusiveMinimum: 0, description: 'Amount in cents' } },
        },
        output: {
          type: 'object',
          required: ['entryId'],
          properties: { entryId: { type: 'string', format: 'uuid' } },
        },
        secretParams: ['token'],
      },
    ],
  });
  expect(registered.status).toBe(201);
}
