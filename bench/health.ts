// Latency of `GET /health` and `GET /health/ready` of the real API (composeApi: helmet, request ids,
// logging, metrics, the cached HealthProbe) at a fixed request rate (autocannon, `overallRate`),
// against a bare `node:http` server answering a constant JSON, in the same run, in alternating order.
// A module worker runs in-process so that the report is `ok` (every dependency up, a live module)
// and both endpoints answer 200; it runs no robots.
// Usage: npm run bench:health -- [--seconds S] [--rate R] [--connections C] [--rounds R] [--warmup W]
//   [--smoke] [--out FILE]
import http from 'node:http';
import { NativeConnection } from '@temporalio/worker';
import { composeApi } from '../api/server';
import { temporalConnectionOptions } from '../core/adapters/temporal/connection.options';
import { createModuleWorker } from '../workers/module.worker';
import { installWorkerRuntime } from '../workers/runtime';
import { runCannon } from './autocannon';
import * as bench from './bench-support';

const NAME = 'health';
const BENCH_DATABASE = 'rpa_bench_health';
const GOAL_P99_MS = 2;
const SIDES = ['health', 'ready', 'bare'] as const;
type Side = (typeof SIDES)[number];
const LABELS: Record<Side, string> = {
  health: '`GET /health` (ours)',
  ready: '`GET /health/ready` (ours)',
  bare: '`node:http` constant JSON (baseline)',
};
const PATHS: Record<Side, string> = { health: '/health', ready: '/health/ready', bare: '/health' };

interface Load {
  rate: number;
  connections: number;
}

/** One autocannon run; latencies (ms, sub-ms resolution) from its `response` events. */
async function hammer(url: string, load: Load, seconds: number) {
  return runCannon({ url, connections: load.connections, overallRate: load.rate, duration: seconds });
}

/** The baseline: what a health endpoint cannot avoid, a constant JSON over node:http. */
function bareServer(): http.Server {
  const body = JSON.stringify({ status: 'ok' });
  return http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(body);
  });
}

const fmt = (value: number) => value.toFixed(3);

async function main(defer: bench.Defer): Promise<number> {
  const { opts, mode } = bench.benchOptions(
    { seconds: 30, rate: 1000, connections: 10, rounds: 2, warmup: 3 },
    { seconds: 1, rate: 50, connections: 2, rounds: 1, warmup: 1 },
  );
  const { config, suffix, temporal } = await bench.benchEnvironment(BENCH_DATABASE, mode, defer, true);
  const { logger, database, cache, moduleStores, events, connection, client, security } =
    await bench.apiDependencies(config, defer);
  installWorkerRuntime(logger);
  const native = await NativeConnection.connect(temporalConnectionOptions(config));
  defer(() => native.close());
  const machine = await bench.describeMachine(connection, temporal);

  const moduleWorker = await createModuleWorker({
    config,
    connection: native,
    moduleStores,
    logger,
    database,
    module: { name: `bench-health-${suffix}`, capacity: 1, robotTypes: ['demo'] },
  });
  const running = moduleWorker.run();
  defer(async () => {
    if (moduleWorker.worker.getState() === 'RUNNING') moduleWorker.worker.shutdown();
    await running;
  });

  const app = composeApi({
    config,
    logger,
    database,
    cache,
    temporal: client,
    moduleStores,
    events,
    security,
  });
  const ourUrl = await bench.listen(http.createServer(app), defer);
  const bareUrl = await bench.listen(bareServer(), defer);
  const urls: Record<Side, string> = {
    health: `${ourUrl}${PATHS.health}`,
    ready: `${ourUrl}${PATHS.ready}`,
    bare: `${bareUrl}${PATHS.bare}`,
  };
  // The report must be `ok` before timing: the module's first heartbeat can take a moment.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const res = await fetch(urls.health);
    const report = (await res.json()) as { status: string };
    if (res.status === 200 && report.status === 'ok') break;
    if (Date.now() > deadline) throw new Error(`/health stayed ${res.status} ${JSON.stringify(report)}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }

  const load: Load = { rate: opts.rate, connections: opts.connections };
  const warm: bench.Sample[] = [];
  for (const side of SIDES) warm.push((await hammer(urls[side], load, opts.warmup)).sample);
  const samples: Record<Side, bench.Sample[]> = { health: [], ready: [], bare: [] };
  const runs: object[] = [];
  const seconds = Math.max(1, Math.round(opts.seconds / opts.rounds));
  for (let round = 1; round <= opts.rounds && !bench.interruption.aborted; round += 1) {
    for (const side of round % 2 === 1 ? SIDES : [...SIDES].reverse()) {
      const { sample, result } = await hammer(urls[side], load, seconds);
      samples[side].push(sample);
      runs.push({
        side,
        round,
        seconds: result.duration,
        requests: result.requests.total,
        non2xx: result.non2xx,
      });
    }
  }
  bench.throwIfInterrupted();

  const stats = Object.fromEntries(
    SIDES.map((side) => [side, bench.summarize(bench.merge(samples[side]), 3)]),
  ) as Record<Side, bench.Stats>;
  const ratio = (side: Side) => bench.STAT_KEYS.map((key) => (stats[side][key] / stats.bare[key]).toFixed(2));
  const errors = [...warm, ...SIDES.flatMap((side) => samples[side])].flatMap((s) => s.errors);
  const met = stats.health.p99 <= GOAL_P99_MS && stats.ready.p99 <= GOAL_P99_MS;
  const date = new Date().toISOString();

  const header = [...bench.STAT_KEYS.map((key) => `${key} ms`), 'req/s'];
  const cells = (s: bench.Stats) => [...bench.STAT_KEYS.map((key) => fmt(s[key])), String(s.opsPerSecond)];
  const rows: [string, string[]][] = [
    [LABELS.health, cells(stats.health)],
    [LABELS.ready, cells(stats.ready)],
    [LABELS.bare, cells(stats.bare)],
    ['ratio `/health` / baseline', [...ratio('health'), '']],
    ['ratio `/health/ready` / baseline', [...ratio('ready'), '']],
  ];
  const servers = `Redis, PostgreSQL, Temporal server ${machine.temporalServer} (${temporal}; probed by the health check)`;
  console.log(
    `\nhealth: ${opts.rate} req/s over ${opts.connections} connections, ${seconds} s × ${opts.rounds} rounds per side`,
  );
  console.log(`${bench.machineSummary(machine)}\n`);
  console.log(bench.table(rows, header));
  console.log(`\ngoal: p99 ≤ ${GOAL_P99_MS} ms for both (not yet a gate): ${met ? 'met' : 'not met'}`);

  return bench.publish(
    NAME,
    mode,
    errors,
    { date, machine, options: opts, secondsPerRun: seconds, stats, runs, goal: { p99Ms: GOAL_P99_MS, met } },
    [
      ...bench.measuredOn(date, machine, servers),
      '',
      `${opts.rate} req/s (autocannon \`overallRate\`) over ${opts.connections} connections, ${opts.rounds} rounds of ${seconds} s`,
      `per side in alternating order after ${opts.warmup} s warm-up each; health report \`ok\` (one live module, no robots).`,
      '',
      ...bench.markdownTable(['path', ...header], rows),
      '',
      `Goal: p99 ≤ ${GOAL_P99_MS} ms (issue 8; goal, not yet a gate). This run: \`/health\` p99 ${fmt(stats.health.p99)} ms,`,
      `\`/health/ready\` p99 ${fmt(stats.ready.p99)} ms: ${met ? 'met' : 'not met'}.`,
    ],
  );
}

bench.runBench(main, 240_000);
