import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { Client as TemporalClient } from '@temporalio/client';
import type { Pool } from 'pg';
import request from 'supertest';
import { createSecurity, type Security } from '../../api/security';
import { composeApi } from '../../api/server';
import { createLogger } from '../../core/observability/logger';
import { createDatabase, type DatabaseHandle } from '../../db/client';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';

// The create path's round trips (issue 17, ADR 0042): one database statement per new robot — its
// row, its audit row and the running-robots cap together — made before the workflow start and none
// after it; the status cache is filled after the answer. The API here has its own pool, so the
// count sees its statements only, and its own task queue, which no worker polls: nothing else
// writes the robot's row or its cached status.

let system: TestSystem;
let database: DatabaseHandle;
let security: Security;
let server: Server;
let url: string;
let adminKey: string;
const statements: string[] = [];
const started: string[] = [];
let startsSeenBy: number[] = [];

beforeAll(async () => {
  system = await startTestSystem({ module: false });
  const config = {
    ...system.config,
    CONTROL_TASK_QUEUE: `rpa-create-path-${randomBytes(4).toString('hex')}`,
  };
  database = await createDatabase(config);
  const pool = (database.db as unknown as { $client: Pool }).$client;
  const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  (pool as unknown as { query: unknown }).query = (...args: unknown[]) => {
    const first = args[0] as string | { text: string };
    statements.push(typeof first === 'string' ? first : first.text);
    return query(...args);
  };
  const temporal = new TemporalClient({
    connection: system.temporal.connection,
    namespace: config.TEMPORAL_NAMESPACE,
  });
  const start = temporal.workflow.start.bind(temporal.workflow);
  temporal.workflow.start = (async (...args: Parameters<typeof start>) => {
    startsSeenBy.push(statements.length);
    const handle = await start(...args);
    started.push(handle.workflowId);
    return handle;
  }) as typeof start;
  const logger = createLogger(config, 'test');
  security = createSecurity(config, database, logger);
  adminKey = (await security.keys.create({ name: 'create-path', scopes: ['admin'], expiresAt: null })).key;
  const app = composeApi({
    config,
    logger,
    database,
    cache: system.cache,
    temporal,
    moduleStores: system.moduleStores,
    events: system.events,
    security,
  });
  server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const address = server.address();
  url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  for (const id of started) {
    await system.temporal.workflow
      .getHandle(id)
      .terminate('test over')
      .catch(() => undefined);
  }
  await security?.close();
  await database?.close();
  await system?.close();
});

const create = (requestId: string) =>
  request(url)
    .post('/v1/robots')
    .set({ authorization: `Bearer ${adminKey}`, 'x-request-id': requestId })
    .send({ type: 'demo', input: { text: 'one round trip' } });

async function auditRows(requestId: string) {
  const { rows } = await system.sql.query(
    'select action, actor, target, outcome, status from audit_log where request_id = $1 order by action, status',
    [requestId],
  );
  return rows;
}

describe('POST /v1/robots', () => {
  it('makes one database statement, before the workflow start, and writes its audit row with it', async () => {
    // The first request also loads the API key (cached afterwards).
    expect((await create(`warm-${randomBytes(4).toString('hex')}`)).status).toBe(201);
    statements.length = 0;
    startsSeenBy = [];
    const requestId = `one-trip-${randomBytes(4).toString('hex')}`;

    const res = await create(requestId);
    expect(res.status).toBe(201);
    // The row is there as the answer arrives: it was written with the robot, not after the answer.
    expect(await auditRows(requestId)).toEqual([
      {
        action: 'robots.create',
        actor: expect.stringMatching(/^key:/),
        target: res.body.robotId,
        outcome: 'success',
        status: 201,
      },
    ]);
    // Nothing else is written after the answer (the audit trail used to append the row then).
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(statements).toHaveLength(1);
    expect(startsSeenBy).toEqual([1]);
  });

  it('warms the status cache after the answer: the first read is a hit', async () => {
    const res = await create(`warm-cache-${randomBytes(4).toString('hex')}`);
    expect(res.status).toBe(201);
    // The fill went to Redis as the answer left, on the connection this read's lookup then uses.
    const read = await request(url)
      .get(`/v1/robots/${res.body.robotId}`)
      .set('authorization', `Bearer ${adminKey}`);
    expect({ source: read.headers['x-robot-source'], status: read.body.status }).toEqual({
      source: 'cache',
      status: 'queued',
    });
  });

  it('on a refused start removes the robot and records the creation, the removal and the answer', async () => {
    // A namespace Temporal does not have: the start is refused (NOT_FOUND), surely not made.
    const refusing = new TemporalClient({ connection: system.temporal.connection, namespace: 'no-such-ns' });
    const logger = createLogger(system.config, 'test');
    const app = composeApi({
      config: system.config,
      logger,
      database,
      cache: system.cache,
      temporal: refusing,
      moduleStores: system.moduleStores,
      events: system.events,
      security,
    });
    const requestId = `refused-${randomBytes(4).toString('hex')}`;
    const res = await request(app)
      .post('/v1/robots')
      .set({ authorization: `Bearer ${adminKey}`, 'x-request-id': requestId })
      .send({ type: 'demo', input: { text: 'refused' } });
    expect(res.status).toBe(503);
    const rows = await eventually(async () => {
      const found = await auditRows(requestId);
      return found.length === 3 ? found : undefined;
    }, 5000);
    const robotId = rows[0]?.target;
    const key = expect.stringMatching(/^key:/);
    expect(rows).toEqual([
      { action: 'robots.create', actor: key, target: robotId, outcome: 'success', status: 201 },
      { action: 'robots.create', actor: key, target: null, outcome: 'failure', status: 503 },
      { action: 'robots.delete', actor: key, target: robotId, outcome: 'success', status: null },
    ]);
    const { rows: left } = await system.sql.query('select 1 from robots where robot_id = $1', [robotId]);
    expect(left).toHaveLength(0);
  });
});
