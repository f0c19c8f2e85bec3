import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { RobotView } from '../../core/domain/robot';
import { fixture, truncated } from '../support/document-samples';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';

// The whole path: upload through the API, an invoice-intake robot on a real module worker (its
// built-in steps, one OCR worker), Temporal, Postgres and Redis.

let system: TestSystem;
let documentsDir: string;

beforeAll(async () => {
  documentsDir = await mkdtemp(path.join(tmpdir(), 'rpa-intake-'));
  system = await startTestSystem({
    module: { robotTypes: ['invoice-intake'] },
    env: { DOCUMENTS_DIR: documentsDir, OCR_WORKERS: '1' },
  });
}, 60_000);

afterAll(async () => {
  await system?.close();
  await rm(documentsDir, { recursive: true, force: true });
});

async function uploadFixture(bytes: Buffer, filename: string): Promise<string> {
  const res = await system.api.post('/v1/documents').attach('file', bytes, { filename });
  expect(res.status).toBe(201);
  return res.body.documentId as string;
}

async function runRobot(input: Record<string, unknown>): Promise<RobotView> {
  const created = await system.api.post('/v1/robots').send({ type: 'invoice-intake', input });
  expect(created.status).toBe(201);
  await system.temporal.workflow
    .getHandle(created.body.robotId)
    .result()
    .catch(() => undefined);
  return eventually(async () => {
    const robot = (await system.api.get(`/v1/robots/${created.body.robotId}`)).body as RobotView;
    return robot.status === 'completed' || robot.status === 'failed' ? robot : undefined;
  }, 60_000);
}

describe('invoice-intake', () => {
  it('reads an uploaded invoice: fields in the output, completenessScore on the robot', async () => {
    const documentId = await uploadFixture(fixture('invoice-sans.png'), 'acme.png');
    const robot = await runRobot({ documentId });
    expect(robot.status).toBe('completed');
    const output = robot.output as Record<string, Record<string, unknown>>;
    expect(output['read-document']).toMatchObject({ documentId, mediaType: 'image/png', pageCount: 1 });
    const fields = output['extract-fields']?.fields as Record<string, { value: unknown }>;
    expect(Object.fromEntries(Object.entries(fields).map(([name, field]) => [name, field.value]))).toEqual({
      vendor: 'ACME Supplies Ltd',
      invoiceNumber: 'INV-2024-0042',
      date: '2024-03-15',
      total: 1234.5,
      currency: 'EUR',
    });
    expect(output['check-fields']).toMatchObject({ valid: true });
    // Complete: the review does not wait; nobody subscribed, so the notify step only says so.
    expect(output.review).toEqual({ reviewed: false, reason: 'completeness 1 is not below 0.8' });
    expect(output.notify).toMatchObject({
      subscribers: 0,
      note: 'no subscribers to robot.notified for invoice-intake',
    });
    expect(robot.completenessScore).toBe(1);
    const row = await system.sql.query('select completeness_score from robots where robot_id = $1', [
      robot.robotId,
    ]);
    expect(row.rows[0].completeness_score).toBe(1);
    // Ids, not bytes, in the workflow's input.
    const history = await system.temporal.workflow.getHandle(robot.robotId).fetchHistory();
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    expect(
      JSON.stringify(started?.input?.payloads?.map((p) => Buffer.from(p.data ?? []).toString())),
    ).toContain(documentId);
  }, 90_000);

  it('fails a robot whose image is corrupt at once, with a clear non-retryable reason', async () => {
    const documentId = await uploadFixture(truncated(fixture('receipt.jpg')), 'cut.jpg');
    const robot = await runRobot({ documentId });
    expect(robot.status).toBe('failed');
    expect(robot.error).toMatch(new RegExp(`^document ${documentId} \\(image/jpeg\\) cannot be read: `));
    expect(robot.retryCount).toBe(0);
    expect(robot.progress?.steps.map((step) => step.status)).toEqual([
      'failed',
      'pending',
      'pending',
      'pending',
      'pending',
    ]);
    // One attempt: the failure is about the file, so Temporal does not retry it.
    const history = await system.temporal.workflow.getHandle(robot.robotId).fetchHistory();
    const failed = history.events?.find((event) => event.activityTaskFailedEventAttributes);
    expect(failed?.activityTaskFailedEventAttributes?.failure?.applicationFailureInfo).toMatchObject({
      type: 'UnreadableDocument',
      nonRetryable: true,
    });
    const started = history.events?.find((event) => event.activityTaskStartedEventAttributes);
    expect(started?.activityTaskStartedEventAttributes?.attempt).toBe(1);
  }, 60_000);

  it('fails a robot whose document id is unknown', async () => {
    const unknown = await runRobot({ documentId: '00000000-0000-4000-8000-000000000000' });
    expect(unknown).toMatchObject({
      status: 'failed',
      error: 'no document 00000000-0000-4000-8000-000000000000',
    });
  }, 60_000);

  it('refuses text instead of a documentId at the door: 400 naming the field, no robot, no workflow', async () => {
    const rowsBefore = await system.sql.query('select count(*)::int as n from robots');
    const res = await system.api
      .post('/v1/robots')
      .set('idempotency-key', 'invoice-as-text')
      .send({
        type: 'invoice-intake',
        input: { text: 'Invoice INV-42 from ACME Supplies, total 1234.50 EUR' },
      });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({
      type: '/problems/validation-error',
      status: 400,
      detail:
        'the input does not match the inputSchema of robot type invoice-intake: /documentId is required',
      errors: [{ field: 'body.input.documentId', path: '/documentId', message: 'is required' }],
    });
    const missing = await system.api.post('/v1/robots').send({ type: 'invoice-intake', input: {} });
    expect(missing.status).toBe(400);
    const notAnId = await system.api
      .post('/v1/robots')
      .send({ type: 'invoice-intake', input: { documentId: 'INV-42' } });
    expect(notAnId.body.errors).toEqual([
      {
        field: 'body.input.documentId',
        path: '/documentId',
        message: expect.stringMatching(/^must match pattern/),
      },
    ]);

    // No row, and the idempotency key is still free: the same key with good input makes the robot.
    expect((await system.sql.query('select count(*)::int as n from robots')).rows[0].n).toBe(
      rowsBefore.rows[0].n,
    );
    // Audit rows are written after the answer is sent.
    const audit = await eventually(async () => {
      const rows = await system.sql.query(
        "select action, outcome from audit_log where action = 'robots.create' and status = 400",
      );
      return rows.rows.length >= 3 ? rows.rows : undefined;
    });
    expect(audit).toEqual(Array(3).fill({ action: 'robots.create', outcome: 'failure' }));
    const good = await system.api
      .post('/v1/robots')
      .set('idempotency-key', 'invoice-as-text')
      .send({ type: 'invoice-intake', input: { documentId: '00000000-0000-4000-8000-000000000000' } });
    expect(good.status).toBe(201);
    // No workflow: once Temporal lists the robot made after the refusals, every robot workflow on this
    // system's queue has its row.
    const listed = await eventually(async () => {
      const ids: string[] = [];
      for await (const run of system.temporal.workflow.list({
        query: `TaskQueue = "${system.config.CONTROL_TASK_QUEUE}" AND WorkflowType = "robotWorkflow"`,
      })) {
        ids.push(run.workflowId);
      }
      return ids.includes(good.body.robotId) ? ids : undefined;
    });
    const rows = await system.sql.query('select robot_id from robots');
    expect([...listed].sort()).toEqual(rows.rows.map((row) => row.robot_id as string).sort());
  }, 60_000);
});
