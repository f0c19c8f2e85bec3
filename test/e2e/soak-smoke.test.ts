import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT } from '../support/test-env';

// `npm run soak -- --smoke`: the soak's own code end to end with 60 robots (a chaos cluster of real
// processes, the load generator process, the approval answerer, the sampler), so that the long run
// does not rot between its scheduled runs. Its figures mean nothing; its invariants do: every robot
// completed once, rows == workflows == side effects at their sinks.

const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');
const RELIABILITY_FILE = path.join(ROOT, 'RELIABILITY.md');
const RUN_TIMEOUT_MS = 240_000; // about a minute alone; more on a busy machine
const KILL_GRACE_MS = 60_000; // after SIGINT, the soak's clean-up (cluster, databases)

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'rpa-soak-smoke-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function runSoak(args: string[]): Promise<{ code: number | null; output: string; timedOut: boolean }> {
  const child = spawn(TSX, [path.join('bench', 'soak.ts'), ...args], {
    cwd: ROOT,
    env: process.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-8000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let timedOut = false;
  let killer: NodeJS.Timeout | undefined;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGINT');
    killer = setTimeout(() => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // the group is already gone
      }
    }, KILL_GRACE_MS);
  }, RUN_TIMEOUT_MS);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      clearTimeout(killer);
      resolve({ code, output, timedOut });
    });
  });
}

test(
  'the smoke soak: 60 mixed robots all completed once, counted alike everywhere, RSS and growth reported',
  async () => {
    const out = path.join(dir, 'soak.json');
    const reliability = path.join(dir, 'RELIABILITY.md');
    const committedBefore = existsSync(RELIABILITY_FILE) ? readFileSync(RELIABILITY_FILE, 'utf8') : null;
    const run = await runSoak(['--smoke', '--out', out, '--reliability', reliability]);
    if (run.code !== 0 || run.timedOut) {
      throw new Error(
        `bench/soak.ts --smoke ${run.timedOut ? 'timed out' : `exited ${run.code}`}; its output ends:\n${run.output}`,
      );
    }

    const result = JSON.parse(readFileSync(out, 'utf8'));
    expect(result.smoke).toBe(true);
    expect(result.problems).toEqual([]);
    expect(result.verdict.lost).toEqual([]);
    expect(result.verdict.duplicated).toEqual([]);
    expect(result.mix).toEqual({ chaos: 30, approval: 15, plain: 15 });
    expect(result.counts).toEqual({
      started: 60,
      completed: 60,
      rows: 60,
      'workflows completed': 60,
      webhooks: 30,
      'custom calls': 30,
      emails: 30,
      approvals: 15,
    });
    // Every process of the system was sampled, under load and after it.
    const processes = result.rss.map((row: { process: string }) => row.process);
    expect(processes).toEqual(
      expect.arrayContaining([
        'api-1',
        'control',
        'module-soak-a-1',
        'module-soak-a-2',
        'module-soak-mail-1',
      ]),
    );
    for (const row of result.rss) {
      expect(row.start).toBeGreaterThan(10 * 2 ** 20);
      expect(row.max).toBeGreaterThanOrEqual(row.end);
    }
    const phases = new Set(result.samples.map((sample: { phase: string }) => sample.phase));
    expect([...phases].sort()).toEqual(['drain', 'load']);
    expect(result.growth.databaseBytes).toBeGreaterThan(0);
    expect(result.growth.redisKeys).toBeGreaterThan(0);

    const section = readFileSync(reliability, 'utf8');
    expect(section).toMatch(/<!-- soak:begin -->\nSmoke run of [\s\S]+<!-- soak:end -->/);
    expect(section).toContain('Invariants: started 60, completed 60, rows 60, workflows completed 60');
    expect(section).toContain('| control |');
    // The committed report is a full run's; a smoke run never touches it.
    expect(existsSync(RELIABILITY_FILE) ? readFileSync(RELIABILITY_FILE, 'utf8') : null).toBe(
      committedBefore,
    );
  },
  RUN_TIMEOUT_MS + KILL_GRACE_MS + 10_000,
);
