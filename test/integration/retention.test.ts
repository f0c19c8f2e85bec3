import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRetentionActivities } from '../../activities/retention';
import { LocalDocumentStore } from '../../core/adapters/fs/document-store.local';
import { createBuiltInRobotTypes } from '../../core/domain/robot-types';
import { createLogger } from '../../core/observability/logger';
import { retentionPurged } from '../../core/observability/metrics';
import { RetentionRepository } from '../../db/retention.repository';
import { RobotTypesRepository } from '../../db/robot-types.repository';
import { runMaintenanceNow } from '../../workers/maintenance-workflows';
import { startTestSystem, type TestSystem } from '../support/test-system';

// Retention (docs/adr/0050-retention.md) on a real Postgres and a real document directory: rows are
// backdated with SQL, the purge is run, and what went and what stayed is read back.

let system: TestSystem;
let documentsDir: string;
let store: LocalDocumentStore;
const SHORT_TYPE = 'short-lived-records';

beforeAll(async () => {
  documentsDir = await mkdtemp(path.join(tmpdir(), 'rpa-retention-'));
  store = new LocalDocumentStore(documentsDir);
  system = await startTestSystem({
    module: false,
    env: {
      DOCUMENTS_DIR: documentsDir,
      ROBOT_RETENTION_DAYS: '30',
      DOCUMENT_ORPHAN_GRACE_HOURS: '1',
      // Two per statement: the purge below takes several statements to drain what is due.
      RETENTION_BATCH_SIZE: '2',
    },
  });
  const registered = await system.api.post('/v1/robot-types').send({
    name: SHORT_TYPE,
    retentionDays: 5,
    steps: [{ name: 'settle', kind: 'delay', params: { ms: 10 } }],
  });
  expect(registered.status).toBe(201);
  expect(registered.body.retentionDays).toBe(5);
});

afterAll(async () => {
  await system?.close();
  await rm(documentsDir, { recursive: true, force: true });
});

function retention() {
  const robotTypes = new RobotTypesRepository(system.database.db);
  return createRetentionActivities({
    config: system.config,
    retention: new RetentionRepository(system.database.db),
    documentStore: store,
    robotTypes: async () => [
      ...createBuiltInRobotTypes().all,
      ...(await robotTypes.listLatest()).map((stored) => stored.definition),
    ],
    logger: createLogger(system.config, 'test'),
  });
}

/** A robot row finished (or not) `daysAgo` days ago. */
async function robot(type: string, status: string, daysAgo: number, input: Record<string, unknown> = {}) {
  const robotId = randomUUID();
  await system.sql.query(
    `insert into robots (robot_id, robot_type, status, input_data, priority, created_at, updated_at)
     values ($1, $2, $3, $4, 'normal', now() - make_interval(days => $5 + 1), now() - make_interval(days => $5))`,
    [robotId, type, status, JSON.stringify(input), daysAgo],
  );
  return robotId;
}

/** A stored document (row and bytes), uploaded `hoursAgo` hours ago. */
async function document(hoursAgo: number, bytes = randomBytes(64)) {
  const { sha256 } = await store.put(bytes);
  const when = new Date(Date.now() - hoursAgo * 3_600_000);
  await utimes(path.join(documentsDir, sha256.slice(0, 2), sha256.slice(2, 4), sha256), when, when);
  const rows = await system.sql.query(
    `insert into documents (sha256, media_type, size_bytes, created_at)
     values ($1, 'application/octet-stream', $2, $3) returning document_id`,
    [sha256, bytes.length, when],
  );
  return { documentId: rows.rows[0].document_id as string, sha256, bytes };
}

const robotIdsIn = async (ids: string[]) =>
  (await system.sql.query('select robot_id from robots where robot_id = any($1::uuid[])', [ids])).rows.map(
    (row) => row.robot_id,
  );

const purgedCount = async () =>
  Object.fromEntries((await retentionPurged.get()).values.map((v) => [v.labels.kind, v.value]));

describe('retention', () => {
  it.each([0, 3651, 1.5, '30'])(
    'refuses a robot type with retentionDays %p (400 naming the field), storing nothing',
    async (retentionDays) => {
      const res = await system.api.post('/v1/robot-types').send({
        name: 'bad-retention',
        retentionDays,
        steps: [{ name: 'settle', kind: 'delay', params: { ms: 10 } }],
      });
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual(
        expect.arrayContaining([expect.objectContaining({ field: 'body.retentionDays' })]),
      );
      expect((await system.api.get('/v1/robot-types/bad-retention')).status).toBe(404);
    },
  );

  it('purges finished robots past their type’s retention with their executions and emails; keeps the rest and the audit trail', async () => {
    const oldDemo = await robot('demo', 'completed', 40);
    const oldDemoFailed = await robot('demo', 'failed', 31);
    const recentDemo = await robot('demo', 'completed', 10);
    const oldShort = await robot(SHORT_TYPE, 'cancelled', 6);
    const recentShort = await robot(SHORT_TYPE, 'completed', 3);
    // Never finished: kept whatever their age.
    const ancientRunning = await robot('demo', 'running', 400);
    const ancientPending = await robot(SHORT_TYPE, 'pending', 400);
    const ancientPaused = await robot('demo', 'paused', 400);

    for (const [robotId, days] of [
      [oldDemo, 40],
      [recentDemo, 10],
      [oldShort, 6],
    ] as const) {
      await system.sql.query(
        `insert into robot_execute (execution_id, robot_id, execution_state, started_at, completed_at)
         values ($1, $2, 'completed', now() - make_interval(days => $3 + 1), now() - make_interval(days => $3))`,
        [randomUUID(), robotId, days],
      );
      await system.sql.query(
        `insert into sent_emails (robot_id, step, message_id, recipients, subject, status)
         values ($1, 'mail', $2, '{a@example.test}', 's', 'sent')`,
        [robotId, `<${randomUUID()}@test>`],
      );
    }
    // An execution archived earlier (EXECUTION_RETENTION_DAYS) goes with its robot too.
    await system.sql.query(
      `insert into robot_execute_archive (execution_id, robot_id, execution_state, step_details, performance_metrics, started_at, completed_at)
       values ($1, $2, 'completed', '{}', '{}', now() - interval '41 days', now() - interval '40 days')`,
      [randomUUID(), oldDemo],
    );
    await system.sql.query(
      `insert into audit_log (actor, action, target, outcome) values ('workflow', 'robots.create', $1, 'success')`,
      [oldDemo],
    );

    const before = await purgedCount();
    const { purged } = await retention().purgeExpired();

    expect(purged).toMatchObject({ robots: 3, executions: 2, archivedExecutions: 1, sentEmails: 2 });
    const all = [
      oldDemo,
      oldDemoFailed,
      recentDemo,
      oldShort,
      recentShort,
      ancientRunning,
      ancientPending,
      ancientPaused,
    ];
    expect((await robotIdsIn(all)).sort()).toEqual(
      [recentDemo, recentShort, ancientRunning, ancientPending, ancientPaused].sort(),
    );
    const executions = await system.sql.query(
      'select robot_id from robot_execute where robot_id = any($1::uuid[]) union all select robot_id from robot_execute_archive where robot_id = any($1::uuid[])',
      [all],
    );
    expect(executions.rows).toEqual([{ robot_id: recentDemo }]);
    const emails = await system.sql.query(
      'select robot_id from sent_emails where robot_id = any($1::uuid[])',
      [all],
    );
    expect(emails.rows).toEqual([{ robot_id: recentDemo }]);
    // The audit trail stays (append-only): the purged robot's creation is still on record.
    const audit = await system.sql.query('select action from audit_log where target = $1', [oldDemo]);
    expect(audit.rows).toEqual([{ action: 'robots.create' }]);

    const after = await purgedCount();
    expect((after.robots ?? 0) - (before.robots ?? 0)).toBe(3);
    expect((after.executions ?? 0) - (before.executions ?? 0)).toBe(2);
    expect((after.archived_executions ?? 0) - (before.archived_executions ?? 0)).toBe(1);
    expect((after.sent_emails ?? 0) - (before.sent_emails ?? 0)).toBe(2);

    // Idempotent: nothing more is due.
    expect((await retention().purgeExpired()).purged).toMatchObject({
      robots: 0,
      executions: 0,
      sentEmails: 0,
    });
    expect((await robotIdsIn(all)).length).toBe(5);
    // Out of the reconciler's way (it would start their workflows in the cleanup test below).
    await system.sql.query('delete from robots where robot_id = any($1::uuid[])', [
      [ancientRunning, ancientPending, ancientPaused],
    ]);
  });

  it('removes documents no robot names once past the grace period, rows and bytes; keeps named, fresh and shared ones', async () => {
    const namedByKept = await document(48);
    const namedByPurged = await document(48);
    const orphanOld = await document(2);
    const orphanFresh = await document(0.1);
    // Same bytes as another, referenced document: the row goes, the shared file stays.
    const sharedKept = await document(48);
    const sharedOrphan = await document(2, sharedKept.bytes);
    await robot('demo', 'completed', 1, { documentIds: [namedByKept.documentId], note: 'x' });
    await robot('demo', 'completed', 1, { nested: { documentId: sharedKept.documentId } });
    await robot('demo', 'completed', 45, { documentId: namedByPurged.documentId });

    const before = await purgedCount();
    const { purged } = await retention().purgeExpired();
    expect(purged).toMatchObject({ robots: 1, documents: 3, documentFiles: 2 });

    const ids = [namedByKept, namedByPurged, orphanOld, orphanFresh, sharedKept, sharedOrphan].map(
      (d) => d.documentId,
    );
    const rows = await system.sql.query(
      'select document_id from documents where document_id = any($1::uuid[])',
      [ids],
    );
    expect(rows.rows.map((row) => row.document_id).sort()).toEqual(
      [namedByKept.documentId, orphanFresh.documentId, sharedKept.documentId].sort(),
    );
    expect(await store.exists(namedByKept.sha256)).toBe(true);
    expect(await store.exists(orphanFresh.sha256)).toBe(true);
    expect(await store.exists(sharedKept.sha256)).toBe(true);
    expect(await store.exists(namedByPurged.sha256)).toBe(false);
    expect(await store.exists(orphanOld.sha256)).toBe(false);

    const after = await purgedCount();
    expect((after.documents ?? 0) - (before.documents ?? 0)).toBe(3);
    expect((after.document_files ?? 0) - (before.document_files ?? 0)).toBe(2);
  });

  it('one statement purges at most its batch', async () => {
    const due = [await robot('demo', 'completed', 50), await robot('demo', 'completed', 50)];
    const repository = new RetentionRepository(system.database.db);
    const first = await repository.purgeFinishedRobots({ defaultDays: 30, byType: {} }, 1);
    expect(first.robots).toBe(1);
    expect((await robotIdsIn(due)).length).toBe(1);
  });

  it('runs as part of the cleanup maintenance workflow', async () => {
    const due = await robot(SHORT_TYPE, 'completed', 9);
    const status = await runMaintenanceNow(system.temporal, system.config, 'cleanup');
    expect(status.lastError).toBeNull();
    expect(status.lastResult).toMatchObject({
      purged: expect.objectContaining({ robots: expect.any(Number) }),
    });
    expect(await robotIdsIn([due])).toEqual([]);
  });
});
