import { createTransport } from 'nodemailer';
import { createBasicStepActivities } from '../../activities/basic-steps';
import { createEmailStepActivities } from '../../activities/email-steps';
import { SentEmailsRepository } from '../../db/sent-emails.repository';
import { launchBrowser, screenshot, type TestBrowser, watchPageErrors } from '../support/browser';
import { pageWithKey, waitForText } from '../support/dashboard-page';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink';
import { startTestSystem, type TestSystem } from '../support/test-system';

// The Outbox view in Debian's Chromium: an email-reply robot runs on a module whose send-email
// step talks to a loopback SMTP sink, and its reply shows up in the view without a reload.

let system: TestSystem;
let browser: TestBrowser | undefined;
let sink: SmtpSink;
/** Recipients of every message the sink accepted. */
const delivered = () => sink.mails.flatMap((mail) => mail.to);

beforeAll(async () => {
  sink = await startSmtpSink();
  system = await startTestSystem({ module: false });
  const port = sink.port;
  await system.startModule(
    { name: 'mailer', robotTypes: ['email-reply'] },
    {
      ...createBasicStepActivities(),
      ...createEmailStepActivities({
        transport: createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true }),
        from: 'robots@example.com',
        sentEmails: new SentEmailsRepository(system.database.db),
      }),
    },
  );
  browser = await launchBrowser();
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await system?.close();
  await sink?.close();
}, 60_000);

describe('the Outbox view', () => {
  it('shows the reply an email-reply robot sent, with its robot, step and Message-ID', async () => {
    if (!browser) throw new Error('no browser');
    const page = await pageWithKey(browser.context, system.adminKey);
    const errors = watchPageErrors(page);
    await page.goto(`${system.url}/dashboard/#outbox`, { timeout: 15_000 });
    await waitForText(page, '#outbox-status', /No emails sent yet/);

    // Sent while the view is open: it must appear on the view's own refresh, not by a reload.
    const created = await system.api.post('/v1/robots').send({
      type: 'email-reply',
      input: { to: 'ada@example.com', name: 'Ada', subject: 'Order 42', text: 'Where is my order?' },
    });
    expect(created.status).toBe(201);
    const robotId = created.body.robotId as string;
    await system.temporal.workflow.getHandle(robotId).result();
    expect(delivered()).toEqual(['ada@example.com']);

    await page.waitForSelector('#outbox-body tr', { timeout: 20_000 });
    const row = page.locator('#outbox-body tr').first();
    await expect(row.getAttribute('data-message-id')).resolves.toBe(
      `<${robotId}.send-reply@rpa-orchestrator>`,
    );
    const cells = await row.locator('th, td').allTextContents();
    expect(cells.slice(1, 5)).toEqual(['Re: Order 42', 'ada@example.com', robotId.slice(0, 8), 'send-reply']);
    await waitForText(page, '#outbox-status', /1 sent email\./);
    await expect(page.getByRole('link', { name: 'Outbox' }).getAttribute('aria-current')).resolves.toBe(
      'page',
    );
    await screenshot(page, 'outbox');

    // The robot filter: a bad id is refused in the page, another robot's id shows nothing.
    await page.getByRole('textbox', { name: 'Robot id' }).fill('not-a-robot');
    await page.getByRole('button', { name: 'Apply' }).click();
    await waitForText(page, '#outbox-error', /must be a UUID/);
    await page.getByRole('textbox', { name: 'Robot id' }).fill('00000000-0000-4000-8000-000000000000');
    await page.getByRole('button', { name: 'Apply' }).click();
    await waitForText(page, '#outbox-status', /No emails sent yet/);
    expect(await page.locator('#outbox-error').textContent()).toBe('');

    // The robot link leads to the robot's detail view.
    await page.getByRole('textbox', { name: 'Robot id' }).fill(robotId);
    await page.getByRole('button', { name: 'Apply' }).click();
    await waitForText(page, '#outbox-status', /1 sent email\./);
    await page.locator('#outbox-body a').first().click();
    expect(page.url()).toContain(`#robot/${robotId}`);
    // Allowed: the 401s of the first calls before the key is entered (Chromium logs them).
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);
});
