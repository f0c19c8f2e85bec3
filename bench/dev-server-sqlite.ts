// The Temporal dev server's SQLite file (what `npm start` / `rpa up` run on): SQLite's default
// (rollback journal, synchronous FULL) against WAL with synchronous FULL and WAL with NORMAL, in
// rounds that alternate the order, each on a fresh file and a fresh server started by the launcher
// (cli/temporal-dev-server.ts) with only the pragmas changed. Per variant: `workflow.start` latency
// and robots/s of the throughput bench's bare workflow (3 no-op activities) with its workers here.
// Usage: npm run bench:sqlite -- [--robots N] [--concurrency C] [--rounds R] [--smoke] [--out FILE]
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createBasicStepActivities } from '../activities/basic-steps';
import { startTemporalDevServer } from '../cli/temporal-dev-server';
import { createBuiltInRobotTypes } from '../core/domain/robot-types';
import { BASELINE_WORKFLOW, type BaselineInput } from './baseline.workflow';
import * as bench from './bench-support';

const NAME = 'dev-server-sqlite';
const VARIANTS = {
  default: [],
  'wal, synchronous full': ['journal_mode=wal', 'synchronous=full'],
  'wal, synchronous normal': ['journal_mode=wal', 'synchronous=normal'],
} as const satisfies Record<string, readonly string[]>;
type Variant = keyof typeof VARIANTS;
const PORT = Number(process.env.BENCH_TEMPORAL_PORT ?? 7266) + 1;

interface RoundResult {
  starts: bench.Sample;
  robotsPerSecond: number;
}

/** One round of one variant: a fresh file and server, `robots` bare workflows at `concurrency`. */
async function round(
  variant: Variant,
  opts: { robots: number; concurrency: number },
  workflowBundle: { code: string },
): Promise<RoundResult> {
  // Under .data, as the launcher's file is: the same file system, so the same cost of a sync.
  mkdirSync(path.join(bench.ROOT, '.data', 'bench'), { recursive: true });
  const dir = mkdtempSync(path.join(bench.ROOT, '.data', 'bench', 'sqlite-'));
  const server = await startTemporalDevServer({
    root: bench.ROOT,
    port: PORT,
    dbFile: path.join(dir, 'temporal.db'),
    sqlitePragmas: VARIANTS[variant],
    logFile: path.join(bench.ROOT, '.data', 'bench', 'temporal-sqlite.log'),
    namespace: 'default',
  });
  const connection = await Connection.connect({ address: server.address });
  const native = await NativeConnection.connect({ address: server.address });
  const workers: Worker[] = [];
  let running: Promise<unknown> = Promise.resolve();
  try {
    const client = new Client({ connection, namespace: 'default' });
    const [taskQueue, activityTaskQueue] = ['sqlite-bench', 'sqlite-bench-steps'];
    const base = { connection: native, namespace: 'default' };
    workers.push(await Worker.create({ ...base, taskQueue, workflowBundle }));
    workers.push(
      await Worker.create({ ...base, taskQueue: activityTaskQueue, activities: createBasicStepActivities() }),
    );
    running = Promise.all(workers.map((worker) => worker.run()));
    const definition = createBuiltInRobotTypes().find('demo');
    if (!definition) throw new Error('built-in robot type "demo" is missing');
    const starts: bench.Sample = { latencies: [], errors: [], wallMs: 0 };
    let issued = 0;
    const started = performance.now();
    const lane = async () => {
      while (issued < opts.robots && !bench.interruption.aborted) {
        issued += 1;
        const robotId = `sqlite-${variant.replace(/\W+/g, '-')}-${issued}`;
        const args: BaselineInput = { robotId, definition, input: {}, activityTaskQueue };
        try {
          const at = performance.now();
          const handle = await client.workflow.start(BASELINE_WORKFLOW, {
            workflowId: robotId,
            taskQueue,
            args: [args],
          });
          starts.latencies.push(performance.now() - at);
          await client.withDeadline(Date.now() + 60_000, () => handle.result());
        } catch (err) {
          starts.errors.push(err instanceof Error ? err.message : String(err));
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(opts.concurrency, opts.robots) }, lane));
    starts.wallMs = performance.now() - started;
    return { starts, robotsPerSecond: (starts.latencies.length / starts.wallMs) * 1000 };
  } finally {
    for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
    await running.catch(() => undefined);
    await native.close().catch(() => undefined);
    await connection.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  const { opts, mode } = bench.benchOptions(
    { robots: 200, concurrency: 16, rounds: 2 },
    { robots: 6, concurrency: 3, rounds: 1 },
  );
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const workflowBundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('./baseline.workflow'),
    logger: new DefaultLogger('WARN'),
  });
  const names = Object.keys(VARIANTS) as Variant[];
  const results = new Map<Variant, RoundResult[]>(names.map((name) => [name, []]));
  for (let r = 0; r < opts.rounds && !bench.interruption.aborted; r += 1) {
    // Alternating order: no variant always runs first (cold disk cache) or last.
    for (const name of r % 2 === 0 ? names : [...names].reverse()) {
      results.get(name)?.push(await round(name, opts, workflowBundle));
    }
  }
  bench.throwIfInterrupted();

  const machine = await bench.describeMachine(
    null,
    'dev servers started by the bench, SQLite file under .data/bench',
  );
  const rows = names.map((name) => {
    const rounds = results.get(name) ?? [];
    const starts = bench.summarize(bench.merge(rounds.map((x) => x.starts)));
    const perRound = rounds.map((x) => Math.round(x.robotsPerSecond * 10) / 10);
    return { variant: name, pragmas: VARIANTS[name], starts, robotsPerSecond: perRound };
  });
  const errors = [...results.values()].flatMap((rounds) => rounds.flatMap((x) => x.starts.errors));
  const header = ['p50 ms', 'p99 ms', 'robots/s'];
  const cells = (row: (typeof rows)[number]): string[] => [
    row.starts.p50.toFixed(2),
    row.starts.p99.toFixed(2),
    row.robotsPerSecond.join(', '),
  ];
  const tableRows = rows.map((row): [string, string[]] => [row.variant, cells(row)]);
  console.log(
    `\n${NAME}: ${opts.robots} robots per variant and round (3 no-op activities), concurrency ${opts.concurrency}, ${opts.rounds} rounds`,
  );
  console.log(`${bench.machineSummary(machine, 'Temporal dev server')}\n`);
  console.log(bench.table(tableRows, header));
  const date = new Date().toISOString();
  return bench.publish(NAME, mode, errors, { date, machine, options: opts, variants: rows }, [
    ...bench.measuredOn(
      date,
      machine,
      'Temporal dev servers started by the bench, SQLite files under .data/bench',
    ),
    '',
    `${opts.robots} bare robots (3 no-op activities) per variant and round at concurrency ${opts.concurrency},`,
    `${opts.rounds} rounds in alternating order, each on a fresh SQLite file and dev server. p50 / p99:`,
    '`workflow.start` latency; robots/s: one figure per round, first start to last result.',
    '',
    ...bench.markdownTable(['SQLite pragmas', ...header], tableRows),
  ]);
}

bench.runBench(() => main());
