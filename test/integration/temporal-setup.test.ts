import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { msNumberToTs } from '@temporalio/common/lib/time';
import { startTemporalDevServer } from '../../cli/temporal-dev-server';
import { namespaceRetentionDays } from '../../core/adapters/temporal/namespace-setup';
import { runRpa } from '../support/rpa-cli';
import { TEST_DATA_DIR } from '../support/test-env';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';

// `rpa temporal setup` against the test dev server, on a namespace of its own (made here with a one
// day retention, as the dev server makes them), read back with describeNamespace.

let system: TestSystem;
let connection: Connection;
const namespace = `rpa-setup-${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  system = await startTestSystem({ module: false });
  connection = await Connection.connect({ address: system.config.TEMPORAL_ADDRESS });
  await connection.workflowService.registerNamespace({
    namespace,
    workflowExecutionRetentionPeriod: msNumberToTs(86_400_000),
  });
  // A new namespace reaches the frontend's cache a moment after its registration.
  await eventually(async () =>
    (await namespaceRetentionDays(connection, namespace)) === 1 ? true : undefined,
  );
  const registered = await system.api.post('/v1/robot-types').send({
    name: 'kept-long',
    retentionDays: 90,
    steps: [{ name: 'settle', kind: 'delay', params: { ms: 10 } }],
  });
  expect(registered.status).toBe(201);
});

afterAll(async () => {
  await connection?.close();
  await system?.close();
});

const setup = (args: string[] = [], env: Record<string, string> = {}) =>
  runRpa(system, ['temporal', 'setup', ...args], {
    env: {
      TEMPORAL_ADDRESS: system.config.TEMPORAL_ADDRESS,
      TEMPORAL_NAMESPACE: namespace,
      DATABASE_URL: system.config.DATABASE_URL ?? '',
      ROBOT_RETENTION_DAYS: '45',
      LOG_LEVEL: 'silent',
      ...env,
    },
  });

async function customAttributes(): Promise<Record<string, number>> {
  const listed = await connection.operatorService.listSearchAttributes({ namespace });
  return (listed.customAttributes ?? {}) as Record<string, number>;
}

describe('rpa temporal setup', () => {
  it('refuses a bad --retention-days with exit code 2 and changes nothing', async () => {
    const result = await setup(['--retention-days', '0']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--retention-days must be a whole number of days from 1 to 3650');
    expect(await namespaceRetentionDays(connection, namespace)).toBe(1);
    expect(Object.keys(await customAttributes())).not.toContain('RobotType');
  });

  it('registers the search attributes and raises the retention to the longest robot retention', async () => {
    const result = await setup();
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      address: system.config.TEMPORAL_ADDRESS,
      namespace,
      searchAttributes: {
        created: ['RobotType', 'RobotStatus', 'ModuleName', 'RobotPriority'],
        existing: [],
      },
      // The registered type keeps its robots 90 days: longer than ROBOT_RETENTION_DAYS (45).
      retentionDays: { wanted: 90, before: 1, after: 90 },
    });
    expect(await namespaceRetentionDays(connection, namespace)).toBe(90);
    const attributes = await customAttributes();
    for (const name of ['RobotType', 'RobotStatus', 'ModuleName', 'RobotPriority']) {
      expect(attributes[name]).toBe(2); // Keyword
    }
  });

  it('is safe to run again, and never lowers a longer retention', async () => {
    const again = await setup();
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({
      searchAttributes: {
        created: [],
        existing: ['RobotType', 'RobotStatus', 'ModuleName', 'RobotPriority'],
      },
      retentionDays: { wanted: 90, before: 90, after: 90 },
    });
    const shorter = await setup(['--retention-days', '10']);
    expect(shorter.code).toBe(0);
    expect(JSON.parse(shorter.stdout).retentionDays).toEqual({ wanted: 10, before: 90, after: 90 });
    expect(await namespaceRetentionDays(connection, namespace)).toBe(90);
  });

  it('fails with exit code 3 and a message when Temporal cannot be reached', async () => {
    const address = `127.0.0.1:${await freePort()}`;
    const result = await setup([], { TEMPORAL_ADDRESS: address });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(`cannot reach Temporal at ${address}`);
    expect(result.stdout).toBe('');
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

describe('the dev server the launcher starts', () => {
  it('has its namespace retention set to the one asked for', async () => {
    const port = await freePort();
    const server = await startTemporalDevServer({
      root: path.join(__dirname, '..', '..'),
      port,
      logFile: path.join(TEST_DATA_DIR, `temporal-retention-${port}.log`),
      namespace: 'default',
      retentionDays: 45,
    });
    const direct = await Connection.connect({ address: server.address });
    try {
      expect(await namespaceRetentionDays(direct, 'default')).toBe(45);
    } finally {
      await direct.close();
      await server.stop();
    }
  }, 90_000);
});
