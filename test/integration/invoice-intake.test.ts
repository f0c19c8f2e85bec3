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

  it('fails a robot whose document id is unknown or missing', async () => {
    const unknown = await runRobot({ documentId: '00000000-0000-4000-8000-000000000000' });
    expect(unknown).toMatchObject({
      status: 'failed',
      error: 'no document 00000000-0000-4000-8000-000000000000',
    });
    const missing = await runRobot({});
    expect(missing.status).toBe('failed');
    expect(missing.error).toMatch(/input field "documentId" must be a document id/);
  }, 60_000);
});
