import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import request from 'supertest';
import type { BulkProgress } from '../../core/domain/bulk-operation.contract';
import { RobotPriorityKey } from '../../core/domain/search-attributes';
import { runRpa } from '../support/rpa-cli';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';

// Bulk actions on robots (ADR 0049) on a real system. Demo robots stay pending: the only module
// serves another robot type. Batches of 5, one robot at a time, so an operation runs long enough
// to be seen and cancelled midway.

let system: TestSystem;

beforeAll(async () => {
  system = await startTestSystem({
    module: { name: 'other-work', robotTypes: ['invoice-intake'] },
    env: {
      // Pending robots ask for a module every 30 s, not every second: 500 of them stay quiet.
      MODULE_WAIT_SECONDS: '30',
      RATE_LIMIT_PER_KEY: '100000',
      RATE_LIMIT_PER_IP: '100000',
      MAX_RUNNING_ROBOTS_PER_KEY: '100000',
      BULK_BATCH_SIZE: '5',
      BULK_CONCURRENCY: '1',
    },
  });
}, 60_000);

afterAll(async () => {
  await system?.close();
});

async function createRobots(count: number, type = 'demo', concurrency = 16): Promise<string[]> {
  const ids: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next += 1;
      const res = await system.api.post('/v1/robots').send({ type, input: { text: `bulk ${next}` } });
      expect(res.status).toBe(201);
      ids.push(res.body.robotId as string);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return ids;
}

async function rowsWith(ids: string[], column: 'status' | 'priority'): Promise<Map<string, string>> {
  const { rows } = await system.sql.query(
    `select robot_id, ${column} as value from robots where robot_id = any($1)`,
    [ids],
  );
  return new Map(rows.map((row: { robot_id: string; value: string }) => [row.robot_id, row.value]));
}

async function allRows(ids: string[], column: 'status' | 'priority', value: string, timeoutMs = 60_000) {
  return eventually(async () => {
    const rows = await rowsWith(ids, column);
    return ids.every((id) => rows.get(id) === value) ? rows : undefined;
  }, timeoutMs);
}

async function finished(operationId: string, timeoutMs = 90_000): Promise<BulkProgress> {
  return eventually(async () => {
    const res = await system.api.get(`/v1/robots/bulk/${operationId}`);
    expect(res.status).toBe(200);
    return res.body.state === 'completed' || res.body.state === 'cancelled'
      ? (res.body as BulkProgress)
      : undefined;
  }, timeoutMs);
}

/** A point in time between robots created before and after it (row clocks are Postgres'). */
async function dbNow(): Promise<string> {
  const { rows } = await system.sql.query('select now() as now');
  return (rows[0].now as Date).toISOString();
}

/**
 * Replays a closed workflow's fresh history on today's bundle (the new workflow code is
 * deterministic); RECORD_HISTORIES=1 keeps it for workflow-replay.test.ts, which replays every
 * recorded history on later code.
 */
async function replays(workflowId: string, file: string): Promise<void> {
  const codePath = process.env.WORKFLOW_BUNDLE_PATH;
  if (!codePath) throw new Error('global setup sets WORKFLOW_BUNDLE_PATH');
  const history = await system.temporal.workflow.getHandle(workflowId).fetchHistory();
  await Worker.runReplayHistory({ workflowBundle: { codePath } }, history, file);
  if (process.env.RECORD_HISTORIES === '1') {
    writeFileSync(path.join(__dirname, '..', 'fixtures', 'histories', file), historyToJSON(history));
  }
}

async function describeAll(ids: string[]) {
  const statuses: string[] = [];
  for (let at = 0; at < ids.length; at += 25) {
    const batch = ids.slice(at, at + 25);
    const described = await Promise.all(batch.map((id) => system.temporal.workflow.getHandle(id).describe()));
    statuses.push(...described.map((description) => description.status.name));
  }
  return statuses;
}

describe('bulk cancel of 500 pending robots', () => {
  let ids: string[];
  let createdBefore: string;

  beforeAll(async () => {
    ids = await createRobots(500);
    createdBefore = await dbNow();
    await allRows(ids, 'status', 'pending', 90_000);
  }, 150_000);

  it('a dry run counts them and acts on none', async () => {
    const res = await system.api
      .post('/v1/robots/bulk/cancel')
      .send({ filter: { status: 'pending', type: 'demo', createdTo: createdBefore }, dryRun: true });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ dryRun: true, action: 'cancel', matched: 500, limit: 10000 });
    expect(res.body.sample).toHaveLength(20);
    for (const id of res.body.sample) expect(ids).toContain(id);
    const statuses = await rowsWith(ids, 'status');
    expect([...statuses.values()].every((status) => status === 'pending')).toBe(true);
  });

  it('an operation cancelled midway stops between batches, and its counts say what it did', async () => {
    const started = await system.api
      .post('/v1/robots/bulk/reprioritize')
      .send({ filter: { status: 'pending', type: 'demo', createdTo: createdBefore }, priority: 'low' });
    expect(started.status).toBe(202);
    const operationId: string = started.body.operationId;
    // Wait until it has acted on some robots (it needs 100 batches for all of them).
    await eventually(async () => {
      const res = await system.api.get(`/v1/robots/bulk/${operationId}`);
      return res.body.done > 0 ? res.body : undefined;
    });
    const cancel = await system.api.post(`/v1/robots/bulk/${operationId}/cancel`);
    expect(cancel.status).toBe(202);

    const progress = await finished(operationId);
    expect(progress.state).toBe('cancelled');
    expect(progress.matched).toBe(500);
    expect(progress.done).toBeGreaterThan(0);
    expect(progress.done).toBeLessThan(500);
    expect(progress.skipped + progress.failed).toBe(0);
    const priorities = await rowsWith(ids, 'priority');
    expect([...priorities.values()].filter((priority) => priority === 'low')).toHaveLength(progress.done);
    // A finished operation takes no more cancels.
    expect((await system.api.post(`/v1/robots/bulk/${operationId}/cancel`)).status).toBe(409);
  }, 120_000);

  it('cancels every one, reports its progress, and leaves none running', async () => {
    // No created range: the operation fixes its own end, the time of the request.
    const body = { filter: { status: 'pending', type: 'demo' } };
    const started = await system.api
      .post('/v1/robots/bulk/cancel')
      .set('Idempotency-Key', 'cancel-500')
      .send(body);
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ action: 'cancel', state: 'matching', matched: 500 });
    const operationId: string = started.body.operationId;
    expect(started.headers.location).toBe(`/v1/robots/bulk/${operationId}`);

    // Created after the request: outside the set, whatever the operation reads later.
    const [later] = await createRobots(1);

    // Progress while it runs: the counts only grow, up to the whole set.
    const seen: number[] = [];
    const progress = await eventually(async () => {
      const res = await system.api.get(`/v1/robots/bulk/${operationId}`);
      seen.push(res.body.done + res.body.skipped + res.body.failed);
      return res.body.state === 'completed' ? (res.body as BulkProgress) : undefined;
    }, 90_000);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    // 100 batches of 5, read every 100 ms: it was seen midway, not only before and after.
    expect(seen.some((handled) => handled > 0 && handled < 500)).toBe(true);
    expect(progress).toMatchObject({ matched: 500, done: 500, skipped: 0, failed: 0, reasons: {} });

    // A repeat of the key is the same operation, never a second one.
    const repeat = await system.api
      .post('/v1/robots/bulk/cancel')
      .set('Idempotency-Key', 'cancel-500')
      .send(body);
    expect(repeat.status).toBe(200);
    expect(repeat.body).toMatchObject({ operationId, state: 'completed', done: 500 });
    // The same key with another request is refused, not a new operation.
    const other = await system.api
      .post('/v1/robots/bulk/cancel')
      .set('Idempotency-Key', 'cancel-500')
      .send({ filter: { status: 'queued' } });
    expect(other.status).toBe(409);

    await allRows(ids, 'status', 'cancelled');
    const statuses = await describeAll(ids);
    expect(statuses.filter((status) => status !== 'CANCELLED')).toEqual([]);
    const { rows: laterRows } = await system.sql.query('select created_at from robots where robot_id = $1', [
      later,
    ]);
    expect(Date.parse(started.body.filter.createdTo)).toBeLessThan(laterRows[0].created_at.getTime());
    const laterStatus = await rowsWith([later as string], 'status');
    expect(laterStatus.get(later as string)).not.toBe('cancelled');
    await system.temporal.workflow.getHandle(later as string).cancel();

    // Audited: the request (who, which operation) and the outcome with its counts.
    const { rows } = await system.sql.query(
      "select action, target, actor, outcome from audit_log where action like 'robots.bulk-cancel%' order by at",
    );
    const requests = rows.filter((row) => row.action === 'robots.bulk-cancel' && row.target === operationId);
    expect(requests.length).toBeGreaterThanOrEqual(2); // the start and the repeat
    expect(requests[0].actor).toMatch(/^key:/);
    const outcome = rows.find((row) => row.action === 'robots.bulk-cancel.completed');
    expect(outcome).toMatchObject({
      target: `${operationId} matched=500 done=500 skipped=0 failed=0`,
      outcome: 'success',
    });
    expect(outcome.actor).toBe(requests[0].actor);
  }, 150_000);
});

describe('filters', () => {
  it('match by type, status and created range', async () => {
    const from = await dbNow();
    const first = await createRobots(3);
    const middle = await dbNow();
    const second = await createRobots(2);
    await allRows([...first, ...second], 'status', 'pending');
    const count = async (filter: Record<string, unknown>) => {
      const res = await system.api.post('/v1/robots/bulk/cancel').send({ filter, dryRun: true });
      expect(res.status).toBe(200);
      return res.body.matched as number;
    };
    expect(await count({ type: 'demo', createdFrom: from })).toBe(5);
    expect(await count({ type: 'demo', createdFrom: from, createdTo: middle })).toBe(3);
    expect(await count({ type: 'demo', createdFrom: middle })).toBe(2);
    expect(await count({ type: 'invoice-intake', createdFrom: from })).toBe(0);
    expect(await count({ status: 'completed', createdFrom: from })).toBe(0);
    expect(await count({ status: 'pending', module: 'other-work', createdFrom: from })).toBe(0);

    // A visibility query: Temporal matches, the other conditions become search attributes.
    const reprioritized = await system.api
      .post(`/v1/robots/${second[0]}/reprioritize`)
      .send({ priority: 'high' });
    expect(reprioritized.status).toBe(202);
    await eventually(async () =>
      (await count({ type: 'demo', createdFrom: from, query: "RobotPriority = 'high'" })) === 1
        ? true
        : undefined,
    );

    await system.api.post('/v1/robots/bulk/cancel').send({ filter: { createdFrom: from, type: 'demo' } });
    await allRows([...first, ...second], 'status', 'cancelled');
  }, 120_000);
});

describe('reprioritize, resume and retry in bulk', () => {
  it('reprioritizes open robots, in their rows and in Temporal; a repeat skips them with the reason', async () => {
    const from = await dbNow();
    const ids = await createRobots(4);
    await allRows(ids, 'status', 'pending');
    const filter = { type: 'demo', status: 'pending', createdFrom: from };
    const first = await system.api
      .post('/v1/robots/bulk/reprioritize')
      .send({ filter, priority: 'critical' });
    expect(first.status).toBe(202);
    expect(await finished(first.body.operationId)).toMatchObject({ matched: 4, done: 4, skipped: 0 });
    await allRows(ids, 'priority', 'critical');
    for (const id of ids) {
      const description = await system.temporal.workflow.getHandle(id).describe();
      expect(description.typedSearchAttributes.get(RobotPriorityKey)).toBe('critical');
    }
    const again = await system.api
      .post('/v1/robots/bulk/reprioritize')
      .send({ filter, priority: 'critical' });
    expect(await finished(again.body.operationId)).toMatchObject({
      matched: 4,
      done: 0,
      skipped: 4,
      reasons: { 'robot is already at priority critical': 4 },
    });
    await system.api.post('/v1/robots/bulk/cancel').send({ filter });
    await allRows(ids, 'status', 'cancelled');
  }, 120_000);

  it('resumes the paused robots and skips the others with the reason', async () => {
    const from = await dbNow();
    const ids = await createRobots(3);
    await allRows(ids, 'status', 'pending');
    for (const id of ids.slice(0, 2))
      expect((await system.api.post(`/v1/robots/${id}/pause`)).status).toBe(202);
    const filter = { type: 'demo', createdFrom: from };
    const res = await system.api.post('/v1/robots/bulk/resume').send({ filter });
    expect(res.status).toBe(202);
    expect(await finished(res.body.operationId)).toMatchObject({
      matched: 3,
      done: 2,
      skipped: 1,
      reasons: { 'robot is pending; only a paused or parked robot can be resumed': 1 },
    });
    for (const id of ids) {
      const view = await system.api.get(`/v1/robots/${id}`);
      expect(view.body.progress?.pauseRequested).toBeUndefined();
    }
    await eventually(async () => {
      const description = await system.temporal.workflow.getHandle(res.body.operationId).describe();
      return description.status.name === 'COMPLETED' ? true : undefined;
    });
    await replays(res.body.operationId, 'bulk-resume.json');
    await system.api.post('/v1/robots/bulk/cancel').send({ filter });
    await allRows(ids, 'status', 'cancelled');
  }, 120_000);

  it('retries the failed robots: a new run of each', async () => {
    const register = await system.api.post('/v1/robot-types').send({
      name: 'bulk-gives-up',
      maxPendingSeconds: 1,
      steps: [{ name: 'post', kind: 'noop' }],
    });
    expect(register.status).toBe(201);
    const from = await dbNow();
    const ids = await createRobots(3, 'bulk-gives-up', 3);
    await allRows(ids, 'status', 'failed');
    const firstRuns = await Promise.all(
      ids.map(async (id) => (await system.temporal.workflow.getHandle(id).describe()).runId),
    );
    const filter = { type: 'bulk-gives-up', status: 'failed', createdFrom: from };
    const res = await system.api.post('/v1/robots/bulk/retry').send({ filter });
    expect(res.status).toBe(202);
    expect(await finished(res.body.operationId)).toMatchObject({
      matched: 3,
      done: 3,
      skipped: 0,
      failed: 0,
    });
    for (const [index, id] of ids.entries()) {
      const description = await system.temporal.workflow.getHandle(id).describe();
      expect(description.runId).not.toBe(firstRuns[index]);
    }
  }, 120_000);
});

describe('refusals', () => {
  it('refuses a bad visibility query with 400, and starts nothing', async () => {
    const before = await system.temporal.workflow.count("WorkflowType = 'bulkRobotsWorkflow'");
    for (const query of [
      "NoSuchAttribute = 'x'",
      "RobotType = 'demo') OR (RobotType != ''",
      'RobotType ==',
    ]) {
      const res = await system.api.post('/v1/robots/bulk/cancel').send({ filter: { query } });
      expect(res.status).toBe(400);
      expect(res.body.type).toMatch(/validation-error$/);
      expect(res.body.detail ?? res.body.title).toBeDefined();
    }
    const after = await system.temporal.workflow.count("WorkflowType = 'bulkRobotsWorkflow'");
    expect(after.count).toBe(before.count);
  });

  it('refuses an unknown action, an empty filter and a priority where none belongs', async () => {
    expect(
      (await system.api.post('/v1/robots/bulk/explode').send({ filter: { status: 'pending' } })).status,
    ).toBe(400);
    expect((await system.api.post('/v1/robots/bulk/cancel').send({ filter: {} })).status).toBe(400);
    expect(
      (await system.api.post('/v1/robots/bulk/reprioritize').send({ filter: { status: 'pending' } })).status,
    ).toBe(400);
    const wrong = await system.api
      .post('/v1/robots/bulk/cancel')
      .send({ filter: { status: 'pending' }, priority: 'high' });
    expect(wrong.status).toBe(400);
    expect((await system.api.get('/v1/robots/bulk/bulk-00000000000000000000000000000000')).status).toBe(404);
    expect((await system.api.get('/v1/robots/bulk/not-an-operation')).status).toBe(400);
  });

  it('refuses a filter matching more than BULK_MAX_ROBOTS with 422 and the count', async () => {
    const from = await dbNow();
    const ids = await createRobots(3);
    const { app } = system.appFor({ config: { BULK_MAX_ROBOTS: 2 } });
    const res = await request(app)
      .post('/v1/robots/bulk/cancel')
      .set('Authorization', `Bearer ${system.adminKey}`)
      .send({ filter: { type: 'demo', createdFrom: from } });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ matched: 3, limit: 2 });
    expect(res.body.detail).toContain('narrow it');
    // The trail writes after the answer.
    const rows = await eventually(async () => {
      const result = await system.sql.query(
        "select outcome, status, target from audit_log where action = 'robots.bulk-cancel' and status = 422",
      );
      return result.rows.length > 0 ? result.rows : undefined;
    });
    // Refused before any operation was made: no operation id to name.
    expect(rows).toEqual([{ outcome: 'failure', status: 422, target: null }]);
    const statuses = await rowsWith(ids, 'status');
    expect([...statuses.values()].filter((status) => status === 'cancelled')).toEqual([]);
    await system.api.post('/v1/robots/bulk/cancel').send({ filter: { type: 'demo', createdFrom: from } });
    await allRows(ids, 'status', 'cancelled');
  });

  it('keeps idempotency keys per API key: another key with the same key text is another operation', async () => {
    const other = await system.security.keys.create({
      name: 'bulk-other',
      scopes: ['robots:read', 'robots:write'],
      expiresAt: null,
    });
    const body = { filter: { type: 'no-such-type' } };
    const mine = await system.api.post('/v1/robots/bulk/cancel').set('Idempotency-Key', 'shared').send(body);
    const theirs = await request(system.url)
      .post('/v1/robots/bulk/cancel')
      .set('Authorization', `Bearer ${other.key}`)
      .set('Idempotency-Key', 'shared')
      .send(body);
    expect(mine.status).toBe(202);
    expect(theirs.status).toBe(202);
    expect(theirs.body.operationId).not.toBe(mine.body.operationId);
    expect(await finished(mine.body.operationId)).toMatchObject({ matched: 0, done: 0 });
  });
});

describe('rpa robots bulk-*', () => {
  it('counts without --yes, acts with it and prints the progress until done', async () => {
    const from = await dbNow();
    const ids = await createRobots(3);
    await allRows(ids, 'status', 'pending');
    const filter = ['--type', 'demo', '--status', 'pending', '--created-from', from];

    const dry = await runRpa(system, ['robots', 'bulk-cancel', ...filter]);
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, matched: 3 });
    expect(dry.stderr).toContain('3 robots match (limit 10000); run again with --yes to cancel them');
    expect([...(await rowsWith(ids, 'status')).values()]).toEqual(['pending', 'pending', 'pending']);

    const reprioritized = await runRpa(system, ['robots', 'bulk-reprioritize', 'high', ...filter, '--yes']);
    expect(reprioritized.code).toBe(0);
    expect(JSON.parse(reprioritized.stdout)).toMatchObject({
      action: 'reprioritize',
      state: 'completed',
      done: 3,
    });
    await allRows(ids, 'priority', 'high');

    const cancelled = await runRpa(system, ['robots', 'bulk-cancel', ...filter, '--yes']);
    expect(cancelled.code).toBe(0);
    const operation = JSON.parse(cancelled.stdout);
    expect(operation).toMatchObject({ action: 'cancel', state: 'completed', matched: 3, done: 3 });
    expect(cancelled.stderr).toContain(
      `bulk cancel ${operation.operationId}: completed, 3 done, 0 skipped, 0 failed of 3`,
    );
    await allRows(ids, 'status', 'cancelled');

    const status = await runRpa(system, ['robots', 'bulk-status', operation.operationId]);
    expect(JSON.parse(status.stdout)).toMatchObject({ operationId: operation.operationId, done: 3 });
    const usage = await runRpa(system, ['robots', 'bulk-cancel', '--yes']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('give at least one of --status');
  }, 120_000);
});

describe('the API document and single reprioritize', () => {
  it('lists the bulk paths', async () => {
    const res = await system.api.get('/openapi.json');
    expect(Object.keys(res.body.paths)).toEqual(
      expect.arrayContaining([
        '/v1/robots/bulk/{action}',
        '/v1/robots/bulk/{operationId}',
        '/v1/robots/bulk/{operationId}/cancel',
        '/v1/robots/{id}/reprioritize',
      ]),
    );
  });

  it('refuses a priority that does not exist (400) and a finished robot (409)', async () => {
    const [id] = await createRobots(1);
    expect((await system.api.post(`/v1/robots/${id}/reprioritize`).send({ priority: 'urgent' })).status).toBe(
      400,
    );
    await system.temporal.workflow.getHandle(id as string).cancel();
    await allRows([id as string], 'status', 'cancelled');
    const finished = await system.api.post(`/v1/robots/${id}/reprioritize`).send({ priority: 'low' });
    expect(finished.status).toBe(409);
    expect((await rowsWith([id as string], 'priority')).get(id as string)).toBe('normal');
  });
});

describe('a reprioritized robot', () => {
  it('runs its remaining module steps at the new priority', async () => {
    const type = await system.api.post('/v1/robot-types').send({
      name: 'bulk-review-then-run',
      steps: [
        { name: 'review', kind: 'approval' },
        { name: 'post', kind: 'noop' },
      ],
    });
    expect(type.status).toBe(201);
    await system.startModule({ name: 'prio-mod', robotTypes: ['bulk-review-then-run'] });
    const created = await system.api.post('/v1/robots').send({ type: 'bulk-review-then-run', input: {} });
    expect(created.status).toBe(201);
    const robotId: string = created.body.robotId;
    await allRows([robotId], 'status', 'awaiting_approval');

    const res = await system.api.post(`/v1/robots/${robotId}/reprioritize`).send({ priority: 'critical' });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ action: 'reprioritize', status: 'awaiting_approval' });
    expect((await system.api.get(`/v1/robots/${robotId}`)).body.priority).toBe('critical');
    expect((await system.api.post(`/v1/robots/${robotId}/approve`).send({})).status).toBe(202);
    await system.temporal.workflow.getHandle(robotId).result();

    // A normal robot starts at key 3; the step after the change was dispatched at key 1.
    const events = (await system.temporal.workflow.getHandle(robotId).fetchHistory()).events ?? [];
    const scheduled = events
      .map((event) => event.activityTaskScheduledEventAttributes)
      .filter((attributes) => attributes?.activityType?.name === 'noop');
    expect(scheduled).toHaveLength(1);
    expect(scheduled[0]?.priority?.priorityKey).toBe(1);
    await replays(robotId, 'robot-reprioritized.json');
  }, 60_000);
});
