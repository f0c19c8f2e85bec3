// Latency of `GET /v1/robots/:id` at a fixed request rate while 100 completed robots are polled,
// and the status cache's hit ratio (the `x-robot-source` header), against a bare `node:http` server
// answering the same Redis GET of the same cached JSON (`robotStatusKey`), in the same run, in
// alternating order. Three processes apart from the bench: the real `rpa api`, the baseline server
// (bench/baselines/status-server.ts) and the load generator (autocannon, bench/autocannon.ts), so
// that neither server shares an event loop with the load. The robots are created through the API and
// run to completion by a control worker and module worker in the bench process, which are then
// stopped: only the read path runs while the load does.
// Usage: npm run bench:status -- [--seconds S] [--rate R] [--connections C] [--robots N] [--rounds R] [--warmup W]
//   [--smoke] [--out FILE]
import { NativeConnection } from '@temporalio/worker';
import Redis from 'ioredis';
import { robotStatusKey } from '../core/adapters/redis/status-cache';
import { temporalConnectionOptions } from '../core/adapters/temporal/connection.options';
import type { RobotView } from '../core/domain/robot';
import { createControlWorker } from '../workers/control.worker';
import { stopMaintenanceWorkflows } from '../workers/maintenance-workflows';
import { createModuleWorker } from '../workers/module.worker';
import { installWorkerRuntime } from '../workers/runtime';
import { type GeneratorOutput, runCannon } from './autocannon';
import { spawnBaseline, startApiProcess } from './bench-processes';
import * as bench from './bench-support';

const NAME = 'status';
const BENCH_DATABASE = 'rpa_bench_status';
// Issue 17: mean ≤ 2× and p99 ≤ 1.5× the bare baseline; p99 ≤ 3 ms where the baseline's is under 2 ms.
const GOAL = { meanRatio: 2, p99Ratio: 1.5, p99Ms: 3, baselineP99UnderMs: 2, hitRatio: 0.95 };
const ROBOT_TIMEOUT_MS = 60_000;
const SIDES = ['api', 'bare'] as const;
type Side = (typeof SIDES)[number];
const LABELS: Record<Side, string> = {
  api: '`GET /v1/robots/:id` (ours)',
  bare: '`node:http` + Redis `GET` (baseline)',
};
const SOURCES = ['cache', 'database', 'temporal'] as const;
type Source = (typeof SOURCES)[number];

interface Load {
  rate: number;
  connections: number;
  ids: string[];
}

/** One generator run of `seconds` against `base`, the connections cycling over the ids. */
function poll(base: string, load: Load, seconds: number, authorization: string, countSources: boolean) {
  return runCannon({
    url: base,
    paths: load.ids.map((id) => `/v1/robots/${id}`),
    headers: { authorization },
    connections: load.connections,
    rate: load.rate,
    seconds,
    ...(countSources ? { countHeader: 'x-robot-source' } : {}),
  });
}

/** Adds the generator's `x-robot-source` counts to `sources`; an unknown or missing value is an error. */
function countSources(output: GeneratorOutput, sources: Record<Source, number>, errors: string[]): void {
  for (const [value, count] of Object.entries(output.headerCounts)) {
    const known = SOURCES.find((name) => name === value);
    if (known) sources[known] += count;
    else errors.push(`x-robot-source header missing or unknown: ${value} (${count} responses)`);
  }
}

const fmt = (value: number) => value.toFixed(3);
const pct = (value: number) => `${(value * 100).toFixed(2)}%`;

async function main(defer: bench.Defer): Promise<number> {
  const { opts, mode } = bench.benchOptions(
    { seconds: 20, rate: 500, connections: 10, robots: 100, rounds: 2, warmup: 3 },
    { seconds: 2, rate: 50, connections: 2, robots: 3, rounds: 1, warmup: 1 },
  );
  const { config, suffix, temporal } = await bench.benchEnvironment(BENCH_DATABASE, mode, defer, true);
  const { logger, database, cache, moduleStores, events, connection, client, authorization } =
    await bench.apiDependencies(config, defer);
  installWorkerRuntime(logger);
  const native = await NativeConnection.connect(temporalConnectionOptions(config));
  defer(() => native.close());
  const ids: string[] = [];
  defer(async () => {
    const left = await bench.terminateAll(client, config.CONTROL_TASK_QUEUE, ids);
    if (left > 0) console.error(`warning: ${left} workflows still running on ${config.CONTROL_TASK_QUEUE}`);
    await stopMaintenanceWorkflows(client, config).catch(() => undefined);
  });
  // Status keys live under the run's REDIS_KEY_PREFIX, which the environment's clean-up deletes.
  const redis = new Redis(config.REDIS_URL ?? '', { maxRetriesPerRequest: 2, connectTimeout: 2000 });
  defer(async () => redis.disconnect());
  const machine = await bench.describeMachine(connection, temporal);
  const redisVersion = await bench.redisServerVersion(redis);

  const deps = { config, connection: native, moduleStores, logger };
  const control = await createControlWorker({ ...deps, client, database, cache, events });
  const moduleWorker = await createModuleWorker({
    ...deps,
    database,
    module: { name: `bench-status-${suffix}`, capacity: 20, robotTypes: ['demo'] },
  });
  const running = Promise.all([control.run(), moduleWorker.run()]);
  const stopWorkers = async () => {
    for (const worker of [control, moduleWorker.worker])
      if (worker.getState() === 'RUNNING') worker.shutdown();
    await running;
  };
  defer(stopWorkers);

  const { url: ourUrl } = await startApiProcess(NAME, config, mode, defer);
  const bareUrl = await spawnBaseline(
    'status-server.ts',
    { REDIS_URL: config.REDIS_URL ?? '', BASELINE_KEY_PREFIX: cache.manager.storeKey(robotStatusKey('')) },
    defer,
  );

  // The robots, through the API, run to completion; then only the read path is left running.
  const created = await bench.measure(opts.robots, 10, async () => {
    const res = await fetch(`${ourUrl}/v1/robots`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization },
      body: JSON.stringify({ type: 'demo', input: { text: 'invoice total' } }),
    });
    if (!res.ok) throw new Error(`POST /v1/robots: HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`);
    ids.push(((await res.json()) as { robotId: string }).robotId);
  });
  if (created.errors.length > 0) throw new Error(`creating robots failed: ${created.errors[0]}`);
  const deadline = Date.now() + ROBOT_TIMEOUT_MS;
  await Promise.all(
    ids.map((id) => client.withDeadline(deadline, () => client.workflow.getHandle(id).result())),
  );
  await stopWorkers();
  bench.throwIfInterrupted();
  // One untimed read of each robot: it must be completed, and the source says whether the worker's
  // completion write left it in the cache.
  const firstRead: Record<Source, number> = { cache: 0, database: 0, temporal: 0 };
  for (const id of ids) {
    const res = await fetch(`${ourUrl}/v1/robots/${id}`, { headers: { authorization } });
    const robot = (await res.json()) as RobotView;
    if (!res.ok || robot.status !== 'completed')
      throw new Error(`robot ${id}: HTTP ${res.status}, ${robot.status}`);
    const source = SOURCES.find((known) => known === res.headers.get('x-robot-source'));
    if (!source) throw new Error(`robot ${id}: x-robot-source ${res.headers.get('x-robot-source')}`);
    firstRead[source] += 1;
  }

  const load: Load = { rate: opts.rate, connections: opts.connections, ids };
  const urls: Record<Side, string> = { api: ourUrl, bare: bareUrl };
  const warm: bench.Sample[] = [];
  for (const side of SIDES)
    warm.push((await poll(urls[side], load, opts.warmup, authorization, false)).sample);
  const samples: Record<Side, bench.Sample[]> = { api: [], bare: [] };
  const sources: Record<Source, number> = { cache: 0, database: 0, temporal: 0 };
  const sourceErrors: string[] = [];
  const runs: object[] = [];
  const seconds = Math.max(1, Math.round(opts.seconds / opts.rounds));
  for (let round = 1; round <= opts.rounds && !bench.interruption.aborted; round += 1) {
    for (const side of round % 2 === 1 ? SIDES : [...SIDES].reverse()) {
      const { sample, output } = await poll(urls[side], load, seconds, authorization, side === 'api');
      if (side === 'api') countSources(output, sources, sourceErrors);
      samples[side].push(sample);
      runs.push({
        side,
        round,
        seconds: output.wallMs / 1000,
        requests: output.autocannon?.requests,
        non2xx: output.autocannon?.non2xx,
        autocannon: output.autocannon?.latency,
      });
    }
  }
  bench.throwIfInterrupted();

  const stats = {
    api: bench.summarize(bench.merge(samples.api), 3),
    bare: bench.summarize(bench.merge(samples.bare), 3),
  };
  const ratio = Object.fromEntries(
    bench.STAT_KEYS.map((key) => [key, Math.round((stats.api[key] / stats.bare[key]) * 100) / 100]),
  ) as Record<bench.StatKey, number>;
  const reads = SOURCES.reduce((sum, source) => sum + sources[source], 0);
  const hitRatio = sources.cache / Math.max(1, reads);
  const errors = [...warm, ...samples.api, ...samples.bare].flatMap((s) => s.errors).concat(sourceErrors);
  const p99Bound = stats.bare.p99 < GOAL.baselineP99UnderMs ? GOAL.p99Ms : Number.POSITIVE_INFINITY;
  const goalMet =
    ratio.mean <= GOAL.meanRatio &&
    ratio.p99 <= GOAL.p99Ratio &&
    stats.api.p99 <= p99Bound &&
    hitRatio >= GOAL.hitRatio;
  const goalText = `mean ≤ ${GOAL.meanRatio}× and p99 ≤ ${GOAL.p99Ratio}× the baseline, p99 ≤ ${GOAL.p99Ms} ms where the baseline's is under ${GOAL.baselineP99UnderMs} ms, hit ratio ≥ ${pct(GOAL.hitRatio)}`;
  const thisRun = `mean ${ratio.mean.toFixed(2)}×, p99 ${ratio.p99.toFixed(2)}× (${fmt(stats.api.p99)} ms, baseline ${fmt(stats.bare.p99)} ms), hit ratio ${pct(hitRatio)}`;
  const date = new Date().toISOString();

  const header = [...bench.STAT_KEYS.map((key) => `${key} ms`), 'req/s'];
  const cells = (s: bench.Stats) => [...bench.STAT_KEYS.map((key) => fmt(s[key])), String(s.opsPerSecond)];
  const ratioCells = [...bench.STAT_KEYS.map((key) => ratio[key].toFixed(2)), ''];
  const hits = `${pct(hitRatio)} (${SOURCES.map((source) => `${source} ${sources[source]}`).join(', ')})`;
  const first = SOURCES.map((source) => `${source} ${firstRead[source]}`).join(', ');
  const servers = `Redis ${redisVersion}, PostgreSQL, Temporal server ${machine.temporalServer} (${temporal}; runs the robots only)`;
  console.log(
    `\nstatus: ${opts.robots} completed robots polled at ${opts.rate} req/s over ${opts.connections} connections, ${seconds} s × ${opts.rounds} rounds per side (after ${opts.warmup} s warm-up)`,
  );
  console.log(`${bench.machineSummary(machine, `Redis ${redisVersion}`)}\n`);
  console.log(
    bench.table(
      [
        ['GET /v1/robots/:id', cells(stats.api)],
        ['node:http + Redis GET', cells(stats.bare)],
        ['ratio (ours / baseline)', ratioCells],
      ],
      header,
    ),
  );
  console.log(`\ncache hit ratio (x-robot-source): ${hits}; first read after completion: ${first}`);
  console.log(`goal: ${goalText} (not yet a gate): ${thisRun}: ${goalMet ? 'met' : 'not met'}`);
  const shortfalls = SIDES.flatMap((side) => bench.rateShortfall(LABELS[side], stats[side], opts.rate) ?? []);
  for (const line of shortfalls) console.log(`warning: ${line}`);

  return bench.publish(
    NAME,
    mode,
    errors,
    {
      date,
      machine,
      redisVersion,
      options: opts,
      secondsPerRun: seconds,
      api: stats.api,
      baseline: stats.bare,
      ratio,
      sources,
      hitRatio,
      firstRead,
      runs,
      goal: { ...GOAL, met: goalMet },
    },
    [
      ...bench.measuredOn(date, machine, servers),
      '',
      `${opts.robots} completed \`demo\` robots polled at ${opts.rate} req/s (autocannon \`overallRate\`) over ${opts.connections} connections,`,
      `${opts.rounds} rounds of ${seconds} s per side in alternating order after ${opts.warmup} s warm-up each; workers stopped.`,
      'The API (`rpa api`, LOG_LEVEL warn), the baseline server and the load generator each run in a process of their own.',
      '',
      ...bench.markdownTable(
        ['path', ...header],
        [
          [LABELS.api, cells(stats.api)],
          [LABELS.bare, cells(stats.bare)],
          ['ratio (ours / baseline)', ratioCells],
        ],
      ),
      '',
      `Cache hit ratio while polling (\`x-robot-source\` of every timed response of ours): ${hits}.`,
      `First read of each robot after completion, before the warm-up: ${first}; finished-robot cache TTL ${config.CACHE_TERMINAL_STATUS_TTL_SECONDS} s.`,
      '',
      `Goal (issue 17; not yet a gate): ${goalText}.`,
      `This run: ${thisRun}: ${goalMet ? 'met' : 'not met'}.`,
      ...shortfalls.flatMap((line) => ['', line]),
    ],
  );
}

bench.runBench(main, 240_000);
