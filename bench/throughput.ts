// Robots per second for the built-in `noop-pipeline` (three no-op steps) through the whole system: an
// `rpa api` process, an `rpa worker --control` process and 1, then 2, `rpa worker --module` processes,
// robots created with POST /v1/robots and awaited to completion. Baseline in the same run, on the same
// Temporal server: a bare workflow (bench/baseline.workflow.ts) running the same `noop` activity three
// times on a plain activity worker, both workers in this process. Sides alternate per round (baseline,
// ours-1, ours-2, then the reverse), each after an untimed warm-up.
// Usage: npm run bench:throughput -- [--robots N] [--in-flight C] [--warmup W] [--rounds R] [--profile P]
//   [--smoke] [--out FILE]; BENCH_CPU_PROFILE_DIR=DIR also writes V8 CPU profiles of every Node process
//   over each timed run (bench/cpu-profiles.ts).
import { rmSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { Client as PgClient } from 'pg';
import { createBasicStepActivities } from '../activities/basic-steps';
import { ApiClient } from '../cli/api-client';
import { type ManagedChild, spawnRpa, stopChild, tailOf } from '../cli/child-processes';
import { temporalConnectionOptions } from '../core/adapters/temporal/connection.options';
import { type Config, childEnv } from '../core/config';
import { createBuiltInRobotTypes, type RobotTypeDefinition } from '../core/domain/robot-types';
import { createDatabase } from '../db/client';
import { createModuleStores } from '../db/module-stores';
import { buildWorkflowBundle } from '../scripts/build-workflow-bundle';
import { ADMIN_DATABASE_URL, TEST_REDIS_URL } from '../test/support/test-env';
import { stopMaintenanceWorkflows } from '../workers/maintenance-workflows';
import { BASELINE_WORKFLOW, type BaselineInput } from './baseline.workflow';
import { freePort } from './bench-processes';
import * as bench from './bench-support';
import { CPU_PROFILE_DIR, cpuProfileEnv, startCpuProfiles } from './cpu-profiles';
import { type CpuSpent, startCpuCount } from './process-cpu';

const NAME = 'throughput';
const BENCH_DATABASE = 'rpa_bench_throughput';
const GOAL = { ratio: 0.9 };
const CAPACITY = 20;
const ROBOT_TIMEOUT_MS = 60_000; // creation to completion of one robot
const SIDES = ['baseline', 'ours-1', 'ours-2'] as const;
type Side = (typeof SIDES)[number];
const LABELS: Record<Side, string> = {
  baseline: 'bare workflow + 3 `noop` (baseline)',
  'ours-1': 'ours, 1 module process',
  'ours-2': 'ours, 2 module processes',
};

/** Polls `check` until it holds; fails early, with its log, if a child that should run has exited. */
async function waitFor(what: string, check: () => Promise<boolean>, alive: Set<ManagedChild>): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    bench.throwIfInterrupted();
    for (const child of alive) {
      const { exitCode, signalCode } = child.process;
      if (exitCode !== null || signalCode !== null) {
        throw new Error(`${child.name} exited (${exitCode ?? signalCode}):\n${tailOf(child.logFile)}`);
      }
    }
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

type Timing = { count: number; waitMs: number; runMs: number };
const msOf = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) =>
  Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;

/**
 * Where a run's time goes, per robot (mean over `ids`): for workflow tasks and each activity type, how
 * many, how long they waited for a worker (scheduled to started) and ran (started to completed).
 */
async function historyProfile(client: Client, ids: string[]) {
  const timings: Record<string, Timing> = {};
  let events = 0;
  for (const workflowId of ids) {
    const history = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
    events += history.length;
    const seen = new Map<string, { type: string; at: number }>(); // event id -> task type, time
    for (const event of history) {
      const [id, at] = [String(event.eventId), msOf(event.eventTime)];
      const type =
        event.activityTaskScheduledEventAttributes?.activityType?.name ??
        (event.workflowTaskScheduledEventAttributes ? 'workflow task' : undefined);
      if (type) seen.set(id, { type, at });
      const started = event.activityTaskStartedEventAttributes ?? event.workflowTaskStartedEventAttributes;
      const done = event.activityTaskCompletedEventAttributes ?? event.workflowTaskCompletedEventAttributes;
      const from = seen.get(String(started ? started.scheduledEventId : done?.startedEventId));
      if (type || !from) continue;
      const timing = timings[from.type] ?? { count: 0, waitMs: 0, runMs: 0 };
      timings[from.type] = timing;
      if (started) seen.set(id, { type: from.type, at });
      timing[started ? 'waitMs' : 'runMs'] += (at - from.at) / ids.length;
      if (done) timing.count += 1 / ids.length;
    }
  }
  return { robots: ids.length, events: Math.round(events / Math.max(1, ids.length)), timings };
}

interface Context {
  config: Config;
  mode: bench.RunMode;
  suffix: string;
  client: Client;
  defer: bench.Defer;
  definition: RobotTypeDefinition;
}

/** Waits for a workflow's result, at most ROBOT_TIMEOUT_MS. */
const untilDone = <T>(client: Client, result: () => Promise<T>) =>
  client.withDeadline(Date.now() + ROBOT_TIMEOUT_MS, result);

/** The baseline's workflow worker and plain activity worker, in this process; `run` starts and awaits one. */
async function startBaseline({ config, suffix, client, defer, definition }: Context) {
  const [taskQueue, activityTaskQueue] = [`bench-baseline-${suffix}`, `bench-baseline-steps-${suffix}`];
  const ids: string[] = [];
  defer(() => bench.terminateAll(client, taskQueue, ids));
  const workflowBundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('./baseline.workflow'),
    logger: new DefaultLogger('WARN'),
  });
  const native = await NativeConnection.connect(temporalConnectionOptions(config));
  const base = { connection: native, namespace: config.TEMPORAL_NAMESPACE };
  const { noop } = createBasicStepActivities();
  const workers = [
    await Worker.create({ ...base, taskQueue, workflowBundle }),
    await Worker.create({ ...base, taskQueue: activityTaskQueue, activities: { noop } }),
  ];
  const running = Promise.all(workers.map((worker) => worker.run()));
  defer(async () => {
    for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
    await running;
    await native.close();
  });
  const run = async () => {
    const robotId = `bench-baseline-${suffix}-${ids.length + 1}`;
    const args: BaselineInput = { robotId, definition, input: {}, activityTaskQueue };
    ids.push(robotId);
    const handle = await client.workflow.start(BASELINE_WORKFLOW, {
      workflowId: robotId,
      taskQueue,
      args: [args],
    });
    await untilDone(client, () => handle.result());
  };
  return { run, ids };
}

/** `rpa api`, `rpa worker --control` and `scaleTo(n)` module processes; `run` creates and awaits one robot. */
async function startOurs({ config, mode, suffix, client, defer, definition }: Context) {
  const ids: string[] = [];
  defer(async () => {
    await bench.terminateAll(client, config.CONTROL_TASK_QUEUE, ids);
    await stopMaintenanceWorkflows(client, config).catch(() => undefined);
  });
  const bundlePath = path.join(bench.ROOT, '.data', 'bench', `workflow-bundle-${suffix}.js`);
  await buildWorkflowBundle(bundlePath);
  defer(async () => rmSync(bundlePath, { force: true }));
  const database = await createDatabase(config);
  defer(() => database.close());
  const moduleStores = createModuleStores(config, database); // to see module replicas come and go
  defer(() => moduleStores.close());

  // The last run's process logs; a smoke run keeps its own, so as not to wipe a full run's.
  const logDir = path.join(bench.ROOT, '.data', 'bench', mode.smoke ? 'throughput-smoke' : 'throughput');
  rmSync(logDir, { recursive: true, force: true });
  const env = childEnv({
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    DATABASE_URL: config.DATABASE_URL ?? '',
    DATABASE_READ_URL: '',
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: config.REDIS_KEY_PREFIX,
    TEMPORAL_ADDRESS: config.TEMPORAL_ADDRESS,
    SECRETS_KEYS: config.SECRETS_KEYS ?? '',
    CONTROL_TASK_QUEUE: config.CONTROL_TASK_QUEUE,
    WORKFLOW_BUNDLE_PATH: bundlePath,
    // The limits stay on the path but never refuse (as in benchEnvironment): 600 creates a minute
    // per key, the default, is fewer than a run makes.
    RATE_LIMIT_PER_KEY: String(config.RATE_LIMIT_PER_KEY),
    MAX_RUNNING_ROBOTS_PER_KEY: String(config.MAX_RUNNING_ROBOTS_PER_KEY),
    ...cpuProfileEnv(),
  });
  const alive = new Set<ManagedChild>();
  defer(() => Promise.all([...alive].map((child) => stopChild(child))));
  process.once('exit', () => {
    for (const child of alive) child.process.kill('SIGKILL'); // only if cleanup was cut short
  });
  const port = await freePort();
  alive.add(spawnRpa('api', ['api'], { ...env, HOST: '127.0.0.1', PORT: String(port) }, logDir));
  alive.add(spawnRpa('control', ['worker', '--control'], env, logDir));
  const base = `http://127.0.0.1:${port}`;
  const api = new ApiClient(base, await bench.benchApiKey(database));
  // Readiness (Postgres and Temporal reachable), not /health: that is `ok` only once a module is
  // live, and the modules start after this, in scaleTo.
  const ready = async () => (await fetch(`${base}/health/ready`, { signal: AbortSignal.timeout(2000) })).ok;
  await waitFor('the API to be ready', ready, alive);

  const modules: ManagedChild[] = [];
  const liveReplicas = async () =>
    [...(await moduleStores.state.snapshot(Date.now())).values()].reduce((sum, s) => sum + s.liveReplicas, 0);
  const scaleTo = async (count: number) => {
    while (modules.length < count) {
      const args = ['worker', '--module', 'bench-m1', '--capacity', String(CAPACITY)];
      const child = spawnRpa(`module-${modules.length + 1}`, args, env, logDir);
      modules.push(child);
      alive.add(child);
    }
    for (const child of modules.splice(count)) {
      alive.delete(child);
      await stopChild(child);
    }
    await waitFor(`${count} live module replica(s)`, async () => (await liveReplicas()) === count, alive);
  };
  const run = async () => {
    const { robotId } = await api.createRobot({ type: definition.name, input: {} });
    ids.push(robotId);
    await untilDone(client, () => client.workflow.getHandle(robotId).result());
  };
  /** The processes of ours running now, by name. */
  /**
   * The processes of ours running now, by name, and the Postgres server processes serving this run's
   * database (one per connection; the bench's own few included), summed later as `postgres`.
   */
  const databaseName = new URL(config.DATABASE_URL ?? '').pathname.slice(1);
  const pids = async () => {
    const admin = new PgClient({ connectionString: ADMIN_DATABASE_URL });
    await admin.connect();
    const backends = await admin
      .query<{ pid: number }>('select pid from pg_stat_activity where datname = $1', [databaseName])
      .finally(() => admin.end());
    return Object.fromEntries([
      ...[...alive].map((child) => [child.name, child.process.pid] as const),
      ...backends.rows.map(({ pid }, i) => [`postgres#${i}`, pid] as const),
    ]);
  };
  return { run, ids, scaleTo, pids };
}

/** The run's Postgres server processes as one `postgres` entry (connections come and go). */
function sumPostgres(spent: CpuSpent): CpuSpent {
  const processes: Record<string, number> = {};
  const threads: CpuSpent['threads'] = {};
  for (const [name, seconds] of Object.entries(spent.processes)) {
    const key = name.startsWith('postgres#') ? 'postgres' : name;
    processes[key] = roundSum(processes[key], seconds);
    if (key === name) threads[name] = spent.threads[name] ?? {};
  }
  return { ...spent, processes, threads };
}

const roundSum = (a: number | undefined, b: number) => Math.round(((a ?? 0) + b) * 100) / 100;

function addCpu(sum: CpuSpent | undefined, more: CpuSpent): CpuSpent {
  const processes = { ...sum?.processes };
  for (const [name, seconds] of Object.entries(more.processes))
    processes[name] = roundSum(processes[name], seconds);
  const threads: CpuSpent['threads'] = { ...sum?.threads };
  for (const [name, byThread] of Object.entries(more.threads)) {
    const merged = { ...threads[name] };
    for (const [thread, seconds] of Object.entries(byThread))
      merged[thread] = roundSum(merged[thread], seconds);
    threads[name] = merged;
  }
  const machine =
    sum?.machine === null || more.machine === null ? null : roundSum(sum?.machine, more.machine);
  return { processes, threads, machine };
}

const CPU_NOTE =
  'CPU ms per robot, by process, over the timed runs (/proc; "bench" holds the baseline\'s workers and every side\'s client; "postgres" is the server processes of the run\'s database connections; "rest of the machine" is everything else: Redis, other work):';

/** Rows: each process's CPU ms per robot under each side, then the machine's and the rest. */
function cpuTable(
  cpu: Record<Side, CpuSpent>,
  totals: Record<Side, { latency: bench.Stats }>,
): [string, string[]][] {
  const names = [...new Set(SIDES.flatMap((side) => Object.keys(cpu[side]?.processes ?? {})))];
  const perRobot = (side: Side, seconds: number | null | undefined) =>
    seconds === null || seconds === undefined
      ? ''
      : ((seconds * 1000) / Math.max(1, totals[side].latency.count)).toFixed(1);
  const listed = (side: Side) => Object.values(cpu[side]?.processes ?? {}).reduce((a, b) => a + b, 0);
  return [
    ...names.map((name): [string, string[]] => [
      name,
      SIDES.map((side) => perRobot(side, cpu[side]?.processes[name])),
    ]),
    ['whole machine', SIDES.map((side) => perRobot(side, cpu[side]?.machine))],
    [
      'rest of the machine',
      SIDES.map((side) => {
        const machine = cpu[side]?.machine;
        return perRobot(side, machine === null || machine === undefined ? null : machine - listed(side));
      }),
    ],
  ];
}

async function main(defer: bench.Defer): Promise<number> {
  // profile: completed robots per side whose histories are read to see where the time goes.
  const { opts, mode } = bench.benchOptions(
    { robots: 200, 'in-flight': 50, warmup: 20, rounds: 2, profile: 20 },
    { robots: 3, 'in-flight': 3, warmup: 1, rounds: 1, profile: 2 },
  );
  const { config, suffix, temporal, temporalPid } = await bench.benchEnvironment(
    BENCH_DATABASE,
    mode,
    defer,
    true,
  );
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const connection = await Connection.connect({
    ...temporalConnectionOptions(config),
    connectTimeout: '5 seconds',
  });
  defer(() => connection.close());
  const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
  const machine = await bench.describeMachine(connection, temporal);
  const definition = createBuiltInRobotTypes().find('noop-pipeline');
  if (!definition) throw new Error('built-in robot type "noop-pipeline" is missing');
  const context: Context = { config, mode, suffix, client, defer, definition };
  const baseline = await startBaseline(context);
  const ours = await startOurs(context);

  const runs: { side: Side; round: number; robots: number; seconds: number }[] = [];
  const samples: Record<Side, bench.Sample[]> = { baseline: [], 'ours-1': [], 'ours-2': [] };
  const errors: string[] = [];
  const cpu = {} as Record<Side, CpuSpent>;
  const profileFiles: string[] = [];
  for (let round = 1; round <= opts.rounds; round += 1) {
    for (const side of round % 2 === 1 ? SIDES : [...SIDES].reverse()) {
      if (side !== 'baseline') await ours.scaleTo(side === 'ours-1' ? 1 : 2);
      const op = side === 'baseline' ? baseline.run : ours.run;
      errors.push(...(await bench.measure(opts.warmup, opts['in-flight'], op)).errors);
      // The bench process holds the baseline's workers and every side's client.
      const processes = { ...(await ours.pids()), bench: process.pid, temporal: temporalPid ?? undefined };
      const cpuCount = startCpuCount(processes);
      const nodeProcesses = Object.fromEntries(
        Object.entries(processes).filter(([name]) => name !== 'temporal' && !name.startsWith('postgres#')),
      );
      const stopProfiles = startCpuProfiles(nodeProcesses, `round${round}-${side}`);
      const sample = await bench.measure(opts.robots, opts['in-flight'], op);
      cpu[side] = addCpu(cpu[side], sumPostgres(cpuCount()));
      profileFiles.push(...(await stopProfiles()));
      bench.throwIfInterrupted();
      errors.push(...sample.errors);
      samples[side].push(sample);
      runs.push({ side, round, robots: sample.latencies.length, seconds: sample.wallMs / 1000 });
      console.log(
        `round ${round}, ${side}: ${sample.latencies.length} robots in ${(sample.wallMs / 1000).toFixed(1)} s`,
      );
    }
  }
  const profiles = {
    ours: await historyProfile(client, ours.ids.slice(-opts.profile)),
    baseline: await historyProfile(client, baseline.ids.slice(-opts.profile)),
  };

  const totals = {} as Record<Side, { seconds: number; robotsPerSecond: number; latency: bench.Stats }>;
  for (const side of SIDES) {
    const all = bench.merge(samples[side]);
    const latency = bench.summarize({ ...all, latencies: all.latencies.map((ms) => ms / 1000) }); // seconds
    totals[side] = {
      seconds: all.wallMs / 1000,
      robotsPerSecond: (latency.count / all.wallMs) * 1000,
      latency,
    };
  }
  const ratio = (side: Side) => totals[side].robotsPerSecond / totals.baseline.robotsPerSecond;
  const goalMet = ratio('ours-1') >= GOAL.ratio;
  const header = ['robots', 'seconds', 'robots/s', 'p50 s', 'p99 s', 'ratio'];
  const rows = SIDES.map((side): [string, string[]] => {
    const { seconds, robotsPerSecond: rate, latency: l } = totals[side];
    return [
      LABELS[side],
      [
        `${l.count}`,
        seconds.toFixed(1),
        rate.toFixed(1),
        l.p50.toFixed(2),
        l.p99.toFixed(2),
        ratio(side).toFixed(2),
      ],
    ];
  });
  const cpuPerRobot = cpuTable(cpu, totals);
  const types = Object.keys({ ...profiles.ours.timings, ...profiles.baseline.timings });
  const timingCells = (t: Timing | undefined) =>
    t ? [t.count.toFixed(1), t.waitMs.toFixed(0), t.runMs.toFixed(0)] : ['', '', ''];
  const perRobotHeader = ['ours: n', 'wait ms', 'run ms', 'base: n', 'wait ms', 'run ms'];
  const perRobot = types.map((type): [string, string[]] => [
    type,
    [...timingCells(profiles.ours.timings[type]), ...timingCells(profiles.baseline.timings[type])],
  ]);
  const events = `history events per robot: ours ${profiles.ours.events}, baseline ${profiles.baseline.events}`;
  const verdict = `${ratio('ours-1').toFixed(2)}×, ${goalMet ? 'met' : 'not met'}`;
  const setup = `${opts.robots} robots per run after ${opts.warmup} warm-up, at most ${opts['in-flight']} in flight, ${opts.rounds} rounds of ${SIDES.length} runs`;

  console.log(`\nthroughput: ${setup}; module capacity ${CAPACITY}`);
  console.log(`${bench.machineSummary(machine)}\n`);
  console.log(bench.table(rows, header));
  console.log(`\nper robot, mean of the last ${opts.profile} of each side (${events}):`);
  console.log(bench.table(perRobot, perRobotHeader));
  console.log(`\n${CPU_NOTE}`);
  console.log(bench.table(cpuPerRobot, [...SIDES]));
  if (CPU_PROFILE_DIR)
    console.log(`CPU profiles (V8) of the timed runs: ${profileFiles.length} in ${CPU_PROFILE_DIR}`);
  console.log(`goal: ours (1 module process) ≥ ${GOAL.ratio}× baseline (not yet a gate): ${verdict}`);
  const date = new Date().toISOString();
  const goal = { ...GOAL, met: goalMet };
  const result = {
    date,
    machine,
    options: { ...opts, capacity: CAPACITY },
    totals,
    runs,
    profiles,
    cpu,
    goal,
  };
  return bench.publish(NAME, mode, errors, result, [
    ...bench.measuredOn(date, machine),
    '',
    `${setup};`,
    `loopback; module capacity ${CAPACITY}; the second module process is another replica of \`bench-m1\`.`,
    '',
    ...bench.markdownTable(['side', ...header], rows),
    '',
    `Where the time goes, per robot (mean of the last ${opts.profile} of each side, from their histories; ${events}):`,
    'tasks, time waiting for a worker (scheduled → started) and running (started → completed).',
    '',
    ...bench.markdownTable(['task', ...perRobotHeader], perRobot),
    '',
    `${CPU_NOTE}`,
    '',
    ...bench.markdownTable(['process', ...SIDES], cpuPerRobot),
    '',
    `Goal: ours with one module process ≥ ${GOAL.ratio}× the bare workflow (goal, not yet a gate). This run: ${verdict}.`,
  ]);
}

bench.runBench(main);
