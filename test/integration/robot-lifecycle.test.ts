import { defaultPayloadConverter } from '@temporalio/common';
import Redis from 'ioredis';
import { robotStatusKey } from '../../core/adapters/redis/status-cache';
import type { RobotView } from '../../core/domain/robot';
import {
  ModuleNameKey,
  RobotPriorityKey,
  RobotStatusKey,
  RobotTypeKey,
} from '../../core/domain/search-attributes';
import { progressQuery } from '../../workflows/robot/robot.definitions';
import { TEST_REDIS_URL } from '../support/test-env';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';

let system: TestSystem;
let redis: Redis;

beforeAll(async () => {
  system = await startTestSystem();
  redis = new Redis(TEST_REDIS_URL);
});

afterAll(async () => {
  redis?.disconnect();
  await system?.close();
});

async function waitForStatus(robotId: string, statuses: string[]): Promise<RobotView> {
  return eventually(async () => {
    const res = await system.api.get(`/v1/robots/${robotId}`);
    return statuses.includes(res.body.status) ? (res.body as RobotView) : undefined;
  });
}

/** The statuses the workflow went through, in order, read back from its search-attribute upserts. */
async function recordedStatuses(robotId: string): Promise<string[]> {
  const history = await system.temporal.workflow.getHandle(robotId).fetchHistory();
  return (history.events ?? []).flatMap((event) => {
    const payload =
      event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.RobotStatus;
    return payload ? [defaultPayloadConverter.fromPayload<string>(payload)] : [];
  });
}

describe('a demo robot through the API', () => {
  const input = { text: 'Invoice 7: total amount due 99.00 EUR, VAT included' };
  let robotId: string;

  it('is created queued, with links, and goes running -> completed', async () => {
    const created = await system.api.post('/v1/robots').send({ type: 'demo', input, priority: 'high' });
    expect(created.status).toBe(201);
    expect(created.headers.location).toBe(`/v1/robots/${created.body.robotId}`);
    expect(created.body).toMatchObject({ type: 'demo', status: 'queued', priority: 'high', input });
    expect(created.body.links.temporalUi).toContain(`/workflows/${created.body.robotId}`);
    robotId = created.body.robotId;

    const done = await waitForStatus(robotId, ['completed', 'failed']);
    expect(done.status).toBe('completed');
    expect(done.moduleName).toBe(system.moduleName);
    expect(done.output).toMatchObject({
      'validate-input': { valid: true },
      'classify-text': { category: 'invoice' },
      summarize: { category: 'invoice', wordCount: 9 },
    });
    expect(done.processingTimeMs).toBeGreaterThan(0);
    expect(done.progress).toMatchObject({ percent: 100, stepsCompleted: 4, stepsTotal: 4 });

    // The row is written inside the last workflow task; history has that task's events once the run ends.
    await system.temporal.workflow.getHandle(robotId).result();
    const statuses = await recordedStatuses(robotId);
    expect(statuses[0]).toBe('running');
    expect(statuses.at(-1)).toBe('completed');
    expect(statuses.every((status, i) => i === statuses.length - 1 || status === 'running')).toBe(true);
  });

  it('has Postgres rows and a Redis status that agree with each other', async () => {
    const robot = (await system.sql.query('select * from robots where robot_id = $1', [robotId])).rows[0];
    expect(robot).toMatchObject({ status: 'completed', module_name: system.moduleName, priority: 'high' });
    expect(robot.processing_time_ms).toBeGreaterThan(0);

    const executions = (await system.sql.query('select * from robot_execute where robot_id = $1', [robotId]))
      .rows;
    expect(executions).toHaveLength(1);
    expect(executions[0]).toMatchObject({ execution_state: 'completed', module_name: system.moduleName });
    expect(executions[0].completed_at).toBeInstanceOf(Date);
    expect(executions[0].step_details.steps.map((step: { status: string }) => step.status)).toEqual([
      'completed',
      'completed',
      'completed',
      'completed',
    ]);

    const cached = JSON.parse(
      (await redis.get(system.cache.manager.storeKey(robotStatusKey(robotId)))) ?? 'null',
    ) as RobotView;
    expect(cached.status).toBe('completed');
    expect(cached.output).toEqual(robot.output_data);
    expect(cached.processingTimeMs).toBe(robot.processing_time_ms);
    expect(await redis.ttl(system.cache.manager.storeKey(robotStatusKey(robotId)))).toBeGreaterThan(0);
  });

  it('is visible in Temporal with search attributes, memo and the progress query', async () => {
    const handle = system.temporal.workflow.getHandle(robotId);
    const description = await handle.describe();
    expect(description.status.name).toBe('COMPLETED');
    expect(description.typedSearchAttributes.get(RobotTypeKey)).toBe('demo');
    expect(description.typedSearchAttributes.get(RobotStatusKey)).toBe('completed');
    expect(description.typedSearchAttributes.get(ModuleNameKey)).toBe(system.moduleName);
    expect(description.typedSearchAttributes.get(RobotPriorityKey)).toBe('high');
    expect(description.memo).toMatchObject({ robotType: 'demo', priority: 'high' });
    expect(await handle.query(progressQuery)).toMatchObject({ status: 'completed', percent: 100 });

    const found = await eventually(async () => {
      const ids: string[] = [];
      for await (const wf of system.temporal.workflow.list({
        query: `RobotType = "demo" AND RobotStatus = "completed" AND WorkflowId = "${robotId}"`,
      })) {
        ids.push(wf.workflowId);
      }
      return ids.length > 0 ? ids : undefined;
    });
    expect(found).toEqual([robotId]);
  });

  it('is read from Redis, then Postgres, then Temporal as each one forgets it', async () => {
    const fromCache = await system.api.get(`/v1/robots/${robotId}`);
    expect(fromCache.headers['x-robot-source']).toBe('cache');

    await redis.del(system.cache.manager.storeKey(robotStatusKey(robotId)));
    const fromDb = await system.api.get(`/v1/robots/${robotId}`);
    expect(fromDb.headers['x-robot-source']).toBe('database');
    expect(fromDb.body).toMatchObject({ status: 'completed', progress: { stepsCompleted: 4 } });

    await redis.del(system.cache.manager.storeKey(robotStatusKey(robotId)));
    await system.sql.query('delete from robots where robot_id = $1', [robotId]);
    const fromTemporal = await system.api.get(`/v1/robots/${robotId}`);
    expect(fromTemporal.status).toBe(200);
    expect(fromTemporal.headers['x-robot-source']).toBe('temporal');
    expect(fromTemporal.body).toMatchObject({ robotId, type: 'demo', status: 'completed', priority: 'high' });
  });

  it('lists robots newest first with filters and a cursor', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await system.api
        .post('/v1/robots')
        .send({ type: 'demo', input: { text: `order number ${i}` } });
      ids.push(res.body.robotId);
    }
    await Promise.all(ids.map((id) => waitForStatus(id, ['completed'])));

    const first = await system.api.get('/v1/robots?limit=2&type=demo&status=completed');
    expect(first.status).toBe(200);
    expect(first.body.items.map((robot: RobotView) => robot.robotId)).toEqual([ids[2], ids[1]]);
    expect(first.body.nextCursor).toEqual(expect.any(String));

    const second = await system.api.get(`/v1/robots?limit=2&type=demo&cursor=${first.body.nextCursor}`);
    expect(second.body.items.map((robot: RobotView) => robot.robotId)).toEqual([ids[0]]);
    expect(second.body.nextCursor).toBeNull();

    const none = await system.api.get('/v1/robots?status=failed');
    expect(none.body.items).toEqual([]);
  });
});

describe('a robot whose step fails', () => {
  it('is marked failed with the reason, in the API, Postgres and Temporal', async () => {
    // demo's inputSchema would refuse this input at the door: a type without one lets it reach the step.
    const registered = await system.api.post('/v1/robot-types').send({
      name: 'unchecked-input',
      steps: [
        { name: 'validate-input', kind: 'validate', params: { required: ['text'] } },
        { name: 'summarize', kind: 'transform', params: { fields: ['text'] } },
      ],
    });
    expect(registered.status).toBe(201);
    const created = await system.api
      .post('/v1/robots')
      .send({ type: 'unchecked-input', input: { note: 'no text' } });
    expect(created.status).toBe(201);
    const robot = await waitForStatus(created.body.robotId, ['completed', 'failed']);
    expect(robot.status).toBe('failed');
    expect(robot.error).toContain('missing required input field(s): text');
    expect(robot.progress?.steps[0]).toMatchObject({ name: 'validate-input', status: 'failed' });

    const row = (
      await system.sql.query('select status, error_message from robots where robot_id = $1', [robot.robotId])
    ).rows[0];
    expect(row).toEqual({ status: 'failed', error_message: 'missing required input field(s): text' });
    const handle = system.temporal.workflow.getHandle(robot.robotId);
    await expect(handle.result()).rejects.toThrow();
    const description = await handle.describe();
    expect(description.status.name).toBe('FAILED');
    expect(description.typedSearchAttributes.get(RobotStatusKey)).toBe('failed');
  });
});
