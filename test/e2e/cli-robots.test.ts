import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runRpa } from '../support/rpa-cli';
import { startTestSystem, type TestSystem } from '../support/test-system';

let system: TestSystem;

beforeAll(async () => {
  system = await startTestSystem();
});

afterAll(async () => {
  await system?.close();
});

const run = (args: string[]) => runRpa(system, args);

function inputFile(input: unknown): string {
  const file = path.join(tmpdir(), `rpa-input-${process.pid}-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(input));
  return file;
}

describe('rpa robots', () => {
  it('create --wait exits 0 when the robot completes and prints it', async () => {
    const result = await run([
      'robots',
      'create',
      'demo',
      '--input',
      inputFile({ text: 'invoice total' }),
      '--wait',
    ]);
    expect(result.code).toBe(0);
    const robot = JSON.parse(result.stdout);
    expect(robot.status).toBe('completed');
    expect(result.stderr).toContain('Temporal UI:');

    const got = await run(['robots', 'get', robot.robotId]);
    expect(got.code).toBe(0);
    expect(JSON.parse(got.stdout).robotId).toBe(robot.robotId);

    const listed = await run(['robots', 'list', '--status', 'completed']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(robot.robotId);
  });

  it('create --wait exits 1 when the robot fails', async () => {
    // A well-formed document id that names no document: accepted, then failed by its ocr step.
    const input = inputFile({ documentId: '00000000-0000-4000-8000-000000000000' });
    const result = await run(['robots', 'create', 'invoice-intake', '--input', input, '--wait']);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout).status).toBe('failed');
  });

  it("exits 2 naming the field when the input does not match the type's inputSchema", async () => {
    const result = await run(['robots', 'create', 'demo', '--input', inputFile({ other: 1 })]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('/text is required');
  });

  it('create --sla gives the robot a deadline; a bad one exits 2', async () => {
    const result = await run([
      'robots',
      'create',
      'demo',
      '--input',
      inputFile({ text: 'x' }),
      '--sla',
      '2h',
    ]);
    expect(result.code).toBe(0);
    const robot = JSON.parse(result.stdout);
    const ahead = Date.parse(robot.sla.deadline) - Date.parse(robot.createdAt);
    expect(ahead).toBeGreaterThan(7_190_000);
    expect(ahead).toBeLessThanOrEqual(7_201_000);
    const bad = await run([
      'robots',
      'create',
      'demo',
      '--input',
      inputFile({ text: 'x' }),
      '--deadline',
      '2001-01-01T00:00:00Z',
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('body.deadline');
  });

  it('exits 2 with the API problem on bad input', async () => {
    const result = await run(['robots', 'create', 'no-such-type']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown robot type');
  });

  it('exits 2 when the input file is not a JSON object', async () => {
    const result = await run(['robots', 'create', 'demo', '--input', inputFile([1, 2])]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('must hold a JSON object');
  });

  it('exits 3 when the API cannot be reached', async () => {
    const result = await run([
      'robots',
      'get',
      '00000000-0000-4000-8000-000000000000',
      '--api',
      'http://127.0.0.1:1',
    ]);
    expect(result.code).toBe(3);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('rpa modules', () => {
  it('list --type shows live state and the score for that type', async () => {
    const result = await run(['modules', 'list', '--type', 'demo', '--json']);
    expect(result.code).toBe(0);
    const [module] = JSON.parse(result.stdout);
    expect(module).toMatchObject({
      name: system.moduleName,
      live: { replicas: 1 },
      routing: { eligible: true },
    });
    const table = await run(['modules', 'list']);
    expect(table.stdout).toContain(system.moduleName);
    expect(table.stdout).toContain('1 replica(s)');
  });

  it('drain and resume', async () => {
    const drained = await run(['modules', 'drain', system.moduleName]);
    expect(JSON.parse(drained.stdout).draining).toBe(true);
    const resumed = await run(['modules', 'resume', system.moduleName]);
    expect(JSON.parse(resumed.stdout).draining).toBe(false);
  });

  it('exits 2 for an unknown module', async () => {
    const result = await run(['modules', 'drain', 'no-such-module']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('not found');
  });
});

describe('rpa robots approve | reject | pause | cancel | retry', () => {
  async function waitingRobot(text: string): Promise<string> {
    const created = JSON.parse(
      (await run(['robots', 'create', 'approval-demo', '--input', inputFile({ text })])).stdout,
    );
    for (let i = 0; i < 100; i++) {
      const robot = JSON.parse((await run(['robots', 'get', created.robotId])).stdout);
      if (robot.status === 'awaiting_approval') return created.robotId;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error('robot never waited for approval');
  }

  it('approve with a fields file continues the robot on the corrected data', async () => {
    const robotId = await waitingRobot('typo in this txet');
    const result = await run([
      'robots',
      'approve',
      robotId,
      '--fields',
      inputFile({ text: 'typo fixed in this text' }),
      '-m',
      'fixed',
    ]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ robotId, action: 'approve', status: 'running' });
    expect(result.stderr).toContain('continues with the corrected data');
  }, 60_000);

  it('reject, then a second verdict is refused', async () => {
    const robotId = await waitingRobot('spam');
    expect((await run(['robots', 'reject', robotId, '-m', 'spam'])).code).toBe(0);
    // Approving what was already decided is a 409: exit 2 with the reason.
    const late = await run(['robots', 'approve', robotId]);
    expect(late.code).toBe(2);
    expect(late.stderr).toMatch(/409 Conflict/);
  }, 60_000);

  it('pause, cancel, resume and retry of an unknown robot exit 2 with the 404', async () => {
    for (const action of ['pause', 'cancel', 'resume', 'retry']) {
      const result = await run(['robots', action, '0b6f1f7e-1d2c-4a5b-9c8d-7e6f5a4b3c2d']);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('404 Not Found');
    }
  }, 60_000);
});
