import { randomUUID } from 'node:crypto';
import { Connection, Client as TemporalClient } from '@temporalio/client';
import request from 'supertest';
import { ROBOT_WORKFLOW } from '../../core/domain/robot-workflow.contract';
import { TcpProxy } from '../support/tcp-proxy';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';

// A workflow start that times out at the client but succeeds at the server: the proxy in front of
// Temporal lets the request through and holds the reply past the API's TEMPORAL_RPC_TIMEOUT_MS.

let system: TestSystem;
let proxy: TcpProxy;
let connection: Connection;
let slowApp: ReturnType<TestSystem['appFor']>['app'];

beforeAll(async () => {
  system = await startTestSystem();
  const [host, port] = system.config.TEMPORAL_ADDRESS.split(':');
  proxy = new TcpProxy(Number(port), host);
  await proxy.start();
  connection = await Connection.connect({ address: `127.0.0.1:${proxy.port}` });
  const temporal = new TemporalClient({ connection, namespace: system.config.TEMPORAL_NAMESPACE });
  slowApp = system.appFor({ temporal, config: { TEMPORAL_RPC_TIMEOUT_MS: 1000 } }).app;
});

afterEach(() => proxy.releaseReplies());

afterAll(async () => {
  await connection?.close().catch(() => undefined);
  await proxy?.cut();
  await system?.close();
});

/** Robot workflow ids on this system's queue, as Temporal's visibility lists them. */
async function robotWorkflowIds(): Promise<string[]> {
  const ids: string[] = [];
  const query = `WorkflowType = "${ROBOT_WORKFLOW}" AND TaskQueue = "${system.config.CONTROL_TASK_QUEUE}"`;
  for await (const workflow of system.temporal.workflow.list({ query })) ids.push(workflow.workflowId);
  return ids.sort();
}

async function robotIds(): Promise<string[]> {
  const rows = await system.sql.query<{ robot_id: string }>('select robot_id from robots order by 1');
  return rows.rows.map((row) => row.robot_id);
}

/** A create whose start reaches Temporal while its reply is held until the API gives up. */
async function createWithLostReply(body: object, idempotencyKey?: string) {
  proxy.holdReplies();
  const req = request(slowApp).post('/v1/robots').set('Authorization', `Bearer ${system.adminKey}`);
  if (idempotencyKey) req.set('idempotency-key', idempotencyKey);
  const res = await req.send(body);
  proxy.releaseReplies();
  return res;
}

describe('a robot start whose outcome the API does not know', () => {
  it('answers 503 with Retry-After; the retry with the same key returns the same robot, never a second one', async () => {
    const body = { type: 'demo', input: { text: 'ambiguous start' } };
    const key = `ambiguous-${Date.now()}`;
    const first = await createWithLostReply(body, key);
    expect(first.status).toBe(503);
    expect(first.headers['retry-after']).toMatch(/^\d+$/);

    // Temporal did start it: exactly one robot workflow exists on the queue.
    const [started] = await eventually(async () => {
      const ids = await robotWorkflowIds();
      return ids.length > 0 ? ids : undefined;
    });

    const retry = await system.api.post('/v1/robots').set('idempotency-key', key).send(body);
    expect({ status: retry.status, robotId: retry.body.robotId }).toEqual({ status: 200, robotId: started });
    expect(first.body.robotId).toBe(started);

    await system.temporal.workflow.getHandle(started ?? '').result();
    const finished = await system.api.get(`/v1/robots/${started}`);
    expect(finished.body.status).toBe('completed');
    expect(await robotIds()).toEqual([started]);
    // Visibility lags the start by a moment; a second workflow would have shown by the end of the first.
    expect(await robotWorkflowIds()).toEqual([started]);
  }, 60_000);

  it('without a key: the 503 names the kept robot, which runs once, and the reconciler keeps its row', async () => {
    const first = await createWithLostReply({ type: 'demo', input: { text: 'no key' } });
    expect(first.status).toBe(503);
    const { robotId } = first.body;
    expect(robotId).toEqual(expect.any(String));
    expect(first.body.detail).toContain(robotId);

    const kept = await system.api.get(`/v1/robots/${robotId}`);
    expect(kept.status).toBe(200);
    await system.temporal.workflow.getHandle(robotId).result();

    // A reconciliation pass over the row (made stale) finds its workflow: no removal, no second run.
    await system.sql.query("update robots set updated_at = now() - interval '1 hour' where robot_id = $1", [
      robotId,
    ]);
    const reconciled = await system.temporal.workflow.execute('cleanupWorkflow', {
      taskQueue: system.config.CONTROL_TASK_QUEUE,
      workflowId: `cleanup-${randomUUID()}`,
    });
    expect(reconciled).toMatchObject({ restarted: [], created: [] });
    expect(await robotIds()).toContain(robotId);
    expect((await robotWorkflowIds()).filter((id) => id === robotId)).toEqual([robotId]);
  }, 60_000);

  it('a start that never reached Temporal keeps the row; the retry with the same key starts that robot', async () => {
    const unreachable = Connection.lazy({ address: '127.0.0.1:1', connectTimeout: '500 milliseconds' });
    const temporal = new TemporalClient({ connection: unreachable, namespace: 'default' });
    const { app } = system.appFor({ temporal, config: { TEMPORAL_RPC_TIMEOUT_MS: 1000 } });
    const body = { type: 'demo', input: { text: 'Temporal away' } };
    const key = `unreached-${Date.now()}`;
    try {
      const first = await request(app)
        .post('/v1/robots')
        .set('Authorization', `Bearer ${system.adminKey}`)
        .set('idempotency-key', key)
        .send(body);
      expect(first.status).toBe(503);
      const { robotId } = first.body;
      const row = await system.sql.query('select status from robots where robot_id = $1', [robotId]);
      expect(row.rows).toEqual([{ status: 'queued' }]);

      const retry = await system.api.post('/v1/robots').set('idempotency-key', key).send(body);
      expect({ status: retry.status, robotId: retry.body.robotId }).toEqual({ status: 200, robotId });
      await system.temporal.workflow.getHandle(robotId).result();
      expect((await system.api.get(`/v1/robots/${robotId}`)).body.status).toBe('completed');
    } finally {
      await unreachable.close().catch(() => undefined);
    }
  }, 60_000);

  it('a start Temporal refused (no such namespace) leaves no robot row', async () => {
    const temporal = new TemporalClient({ connection, namespace: `no-such-namespace-${Date.now()}` });
    const { app } = system.appFor({ temporal });
    const before = await robotIds();
    const res = await request(app)
      .post('/v1/robots')
      .set('Authorization', `Bearer ${system.adminKey}`)
      .send({ type: 'demo', input: { text: 'refused' } });
    expect(res.status).toBe(503);
    expect(res.body.robotId).toBeUndefined();
    expect(await robotIds()).toEqual(before);
  }, 60_000);
});
