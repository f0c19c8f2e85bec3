import { robotsMarked, scheduleOf } from '../support/robot-schedules';
import { runRpa } from '../support/rpa-cli';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';

// `rpa schedules …` as a user types it, against a real API and Temporal.

let system: TestSystem;

beforeAll(async () => {
  system = await startTestSystem();
});

afterAll(async () => {
  await system?.api.delete('/v1/schedules/cli-nightly');
  await system?.close();
});

const run = (args: string[]) => runRpa(system, ['schedules', ...args]);

it('create, show, next, update, pause, trigger, resume, list, delete; a bad cron exits 2 and makes nothing', async () => {
  const bad = await run([
    'create',
    '--id',
    'cli-bad',
    '--type',
    'demo',
    '--input',
    '{"text":"x"}',
    '--cron',
    '* * *',
  ]);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toMatch(/400 .*5 fields/);
  expect((await system.api.get('/v1/schedules/cli-bad')).status).toBe(404);

  const created = await run([
    'create',
    '--id',
    'cli-nightly',
    '--type',
    'demo',
    '--input',
    '{"text":"from the cli"}',
    '--cron',
    '0 2 * * *',
    '--time-zone',
    'America/New_York',
    '--paused',
    '--note',
    'not yet',
  ]);
  expect(created.stderr).toBe('');
  expect(created.code).toBe(0);
  expect(JSON.parse(created.stdout)).toMatchObject({
    id: 'cli-nightly',
    cron: '0 2 * * *',
    timeZone: 'America/New_York',
    paused: true,
    note: 'not yet',
  });

  // On a loaded machine Temporal may answer a new schedule's first query late (503, exit 3): wait for it.
  const next = await eventually(async () => {
    const result = await run(['next', 'cli-nightly', '-n', '3']);
    return result.code === 0 ? result : undefined;
  });
  expect(next.stderr).toBe('');
  const times = next.stdout.trim().split('\n');
  expect(times).toHaveLength(3);
  for (const time of times) {
    const hour = new Intl.DateTimeFormat('en-US', {
      timeZone: 'America/New_York',
      hour: 'numeric',
      hour12: false,
    });
    expect(hour.format(new Date(time))).toBe('02');
  }

  const updated = await run(['update', 'cli-nightly', '--every', '1h', '--priority', 'high']);
  expect(updated.code).toBe(0);
  expect(JSON.parse(updated.stdout)).toMatchObject({ interval: { every: '1h' }, priority: 'high' });
  expect(JSON.parse(updated.stdout).cron).toBeUndefined();

  const paused = await run(['pause', 'cli-nightly', '--note', 'hold on']);
  expect(paused.stdout).toMatch(/^cli-nightly\s+demo\s+every 1h\s+America\/New_York\s+paused /);
  expect((await scheduleOf(system, 'cli-nightly')).note).toBe('hold on');

  expect((await run(['trigger', 'cli-nightly'])).stdout).toBe('triggered cli-nightly\n');
  await eventually(async () =>
    (await robotsMarked(system, 'from the cli')).length === 1 ? true : undefined,
  );

  const resumed = await run(['resume', 'cli-nightly', '--note', 'go']);
  expect(resumed.stdout).toMatch(/^cli-nightly\s+demo\s+every 1h\s+America\/New_York\s+active /);
  const listed = await eventually(async () => {
    const result = await run(['list']);
    return result.stdout.includes('cli-nightly') ? result.stdout : undefined;
  });
  expect(listed).toMatch(/cli-nightly\s+demo\s+every 1h/);
  expect((await run(['show', 'cli-nightly'])).stdout).toContain('"note": "go"');

  expect((await run(['delete', 'cli-nightly'])).code).toBe(2);
  expect((await scheduleOf(system, 'cli-nightly')).id).toBe('cli-nightly');
  expect((await run(['delete', 'cli-nightly', '--yes'])).stdout).toBe('deleted cli-nightly\n');
  expect((await system.api.get('/v1/schedules/cli-nightly')).status).toBe(404);
}, 90_000);
