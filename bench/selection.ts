// Latency of the `selectModule` activity (activities/selection.ts) with 10, 100 and 1000 registered
// modules, built from the real module stores: registry in Postgres, routing table cache, replicas, in-flight
// counts, circuits and performance in Redis. The activity two ways: reading the stores per call (as
// without Redis, or with ROUTING_SNAPSHOT_REFRESH_SECONDS=0) and from the routing snapshot (ADR 0041,
// what a control worker does), the latter also with a published in-flight change applied before each
// call (as when steps start and end between selections: every call re-places a changed module). Two baselines in the same run and loop:
// the bare Redis round trip the per-call path needs (HGETALL of the replicas hash) and the pure
// scoring function (core/domain/load-balancer.ts) on snapshots built once. The activity is called as
// the plain async function it is (it uses no Temporal context), so no Temporal server is involved.
// Usage: npm run bench:selection -- [--calls N] [--warmup W] [--blocks B] [--concurrency C] [--sizes 10,100,1000]
//   [--smoke] [--out FILE]
import Redis from 'ioredis';
import { createSelectionActivities } from '../activities/selection';
import { type ModuleHealth, selectModule } from '../core/domain/load-balancer';
import { DEFAULT_WEIGHTS } from '../core/domain/load-balancer-weights';
import type { ReplicaInfo } from '../core/domain/module-state';
import { createDatabase } from '../db/client';
import { moduleSnapshots } from '../db/module-snapshots';
import { createModuleStores, type ModuleStores } from '../db/module-stores';
import { TEST_REDIS_URL } from '../test/support/test-env';
import * as bench from './bench-support';

const NAME = 'selection';
const BENCH_DATABASE = 'rpa_bench_selection';
const GOAL = { p99Ms: 1, modules: 100, seedP99Ms: 15, large: { p99Ms: 5, modules: 1000 } };
const REQUEST = { robotType: 'demo', steps: ['validate', 'classify', 'transform'] };
const TARGET_LATENCY_MS = 1000;
const REPLICA_TTL_SECONDS = 60;
// core/adapters/redis/module-state.redis.ts, under the REDIS_KEY_PREFIX
const REPLICAS_HASH = 'module-replicas';
const SIDES = ['activity', 'snapshot', 'churn', 'hgetall', 'pure'] as const;
type Side = (typeof SIDES)[number];
const LABELS: Record<Side, string> = {
  activity: '`selectModule` activity, stores read per call',
  snapshot: '`selectModule` activity, routing snapshot',
  churn: 'routing snapshot, a change applied before each call',
  hgetall: '`HGETALL module-replicas` (baseline)',
  pure: 'pure `selectModule` (baseline)',
};
// The path the goal is judged on: what a control worker runs.
const GOAL_SIDE: Side = 'snapshot';

/**
 * Registers modules [from, to) with a spread of what routing looks at: types (specific, `*`, other),
 * missing steps, inactive, draining, degraded/unhealthy, 1-3 replicas with in-flight work, performance
 * samples for two thirds, an open circuit for a few. Returns the replicas, for heartbeat refreshes.
 */

/** Each replica's in-flight count as last written: a churn call moves it by one and writes it whole. */
const inFlightOf = new Map<string, number>();
async function populate(moduleStores: ModuleStores, from: number, to: number): Promise<ReplicaInfo[]> {
  const replicas: ReplicaInfo[] = [];
  const one = async (i: number) => {
    const name = `bench-mod-${String(i).padStart(4, '0')}`;
    const types = [['*'], ['demo'], ['demo', 'invoice-intake'], ['invoice-intake']][i % 4] ?? ['*'];
    const steps = i % 6 === 5 ? ['validate', 'classify'] : ['validate', 'classify', 'transform', 'noop'];
    const capacity = 10 + (i % 3) * 10;
    await moduleStores.modules.register({
      moduleName: name,
      moduleVersion: '0.1.0',
      supportedRobotTypes: types,
      supportedSteps: steps,
      capacity,
      registrationData: { bench: true },
    });
    const health: ModuleHealth = i % 29 === 11 ? 'unhealthy' : i % 13 === 6 ? 'degraded' : 'healthy';
    if (i % 10 === 7 || i % 10 === 8 || health !== 'healthy') {
      await moduleStores.modules.update(name, {
        isActive: i % 10 !== 7,
        draining: i % 10 === 8,
        healthStatus: health,
      });
    }
    for (let r = 0; r < 1 + (i % 3); r += 1) {
      const replica: ReplicaInfo = {
        moduleName: name,
        replicaId: `bench-host-${i}-${r}`,
        capacity,
        host: 'bench-host',
        pid: 10_000 + i,
        startedAt: new Date().toISOString(),
      };
      await moduleStores.state.heartbeat(replica, REPLICA_TTL_SECONDS, Date.now());
      const inFlight = (i * 7 + r) % capacity;
      await moduleStores.state.setInFlight(name, replica.replicaId, inFlight);
      inFlightOf.set(replica.replicaId, inFlight);
      replicas.push(replica);
    }
    if (i % 3 !== 2) {
      const stats = {
        successEwma: 0.8 + (i % 20) / 100,
        latencyEwmaMs: 50 + ((i * 37) % 900),
        samples: 5 + (i % 40),
      };
      await moduleStores.performance.set(name, stats);
    }
    if (i % 17 === 3) {
      for (let n = 0; n < 5; n += 1) await moduleStores.circuits.record(name, false); // opens (threshold 5)
    }
  };
  for (let i = from; i < to; i += 25) {
    await Promise.all(Array.from({ length: Math.min(25, to - i) }, (_, k) => one(i + k)));
  }
  return replicas;
}

async function refreshHeartbeats(moduleStores: ModuleStores, replicas: ReplicaInfo[]): Promise<void> {
  const now = Date.now();
  await Promise.all(
    replicas.map((replica) => moduleStores.state.heartbeat(replica, REPLICA_TTL_SECONDS, now)),
  );
}

const fmt = (value: number) => value.toFixed(3);

async function main(defer: bench.Defer): Promise<number> {
  const { opts, mode } = bench.benchOptions(
    { calls: 2000, warmup: 100, blocks: 4, concurrency: 1, sizes: [10, 100, 1000] },
    // Two sizes: the second registers modules on top of the first, as the full run does.
    { calls: 40, warmup: 10, blocks: 2, concurrency: 1, sizes: [5, 10] },
  );
  const sizes = [...new Set(opts.sizes)].sort((a, b) => a - b);
  const { config } = await bench.benchEnvironment(BENCH_DATABASE, mode, defer, false);
  const database = await createDatabase(config);
  defer(() => database.close());
  const moduleStores = createModuleStores(config, database);
  defer(() => moduleStores.close());
  const redis = new Redis(TEST_REDIS_URL, { keyPrefix: config.REDIS_KEY_PREFIX, maxRetriesPerRequest: 2 });
  defer(async () => redis.disconnect());
  const redisVersion = await bench.redisServerVersion(redis);

  // Every refresh of the cached routing table reads the registry from Postgres: count them.
  let registryReads = 0;
  const readRoutes = moduleStores.modules.routes.bind(moduleStores.modules);
  moduleStores.modules.routes = () => {
    registryReads += 1;
    return readRoutes();
  };
  const snapshot = moduleStores.routingSnapshot;
  if (!snapshot)
    throw new Error('no routing snapshot: REDIS_URL unset or ROUTING_SNAPSHOT_REFRESH_SECONDS=0');
  const perCall = createSelectionActivities({
    moduleStores: { ...moduleStores, routingSnapshot: null },
    weights: DEFAULT_WEIGHTS,
    targetLatencyMs: TARGET_LATENCY_MS,
  });
  const activities = createSelectionActivities({
    moduleStores,
    weights: DEFAULT_WEIGHTS,
    targetLatencyMs: TARGET_LATENCY_MS,
  });
  await snapshot.start();

  const replicas: ReplicaInfo[] = [];
  let registered = 0;
  const results: {
    modules: number;
    eligible: number;
    registryReads: number;
    measuredSeconds: number;
    stats: Record<Side, bench.Stats>;
  }[] = [];
  const errors: string[] = [];
  for (const size of sizes) {
    replicas.push(...(await populate(moduleStores, registered, size)));
    registered = size;
    await moduleStores.routingTable.invalidate();
    await refreshHeartbeats(moduleStores, replicas);
    const snapshots = await moduleSnapshots(moduleStores, TARGET_LATENCY_MS, Date.now());
    const eligible = selectModule(snapshots, REQUEST, DEFAULT_WEIGHTS).candidates.filter(
      (c) => c.eligible,
    ).length;
    const choose = (selection: typeof activities) => async () => {
      const choice = await selection.selectModule(REQUEST);
      if (!choice.moduleName) throw new Error(`no module chosen: ${choice.decision.reason}`);
    };
    let churned = 0;
    // Untimed before each churn call: one in-flight change of a replica, published, and applied by
    // the snapshot (the timed call then re-scores that module and moves it in the prepared selection).
    const change = async () => {
      // +1 then -1 on the same replica: the state the other paths see does not drift.
      const replica = replicas[Math.floor(churned / 2) % replicas.length] as ReplicaInfo;
      const delta = churned % 2 === 0 ? 1 : -1;
      churned += 1;
      const before = snapshot.applied;
      const count = (inFlightOf.get(replica.replicaId) ?? 0) + delta;
      inFlightOf.set(replica.replicaId, count);
      await moduleStores.state.setInFlight(replica.moduleName, replica.replicaId, count);
      const deadline = Date.now() + 1000;
      while (snapshot.applied === before) {
        if (Date.now() > deadline) throw new Error('a published change did not reach the snapshot in 1 s');
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    const ops: Record<Side, () => Promise<void>> = {
      activity: choose(perCall),
      snapshot: choose(activities),
      churn: choose(activities),

      hgetall: async () => {
        await redis.hgetall(REPLICAS_HASH);
      },
      pure: async () => {
        if (!selectModule(snapshots, { ...REQUEST, exclude: [] }, DEFAULT_WEIGHTS).winner)
          throw new Error('no winner');
      },
    };
    // Warm-up fills the routing table cache (and JIT-compiles the code paths) before anything is timed.
    const run = (side: Side, count: number) =>
      side === 'churn'
        ? measureAfter(count, change, ops[side])
        : bench.measure(count, opts.concurrency, ops[side]);
    for (const side of SIDES) errors.push(...(await run(side, opts.warmup)).errors);
    const samples: Record<Side, bench.Sample[]> = {
      activity: [],
      snapshot: [],
      churn: [],
      hgetall: [],
      pure: [],
    };
    registryReads = 0;
    const started = Date.now();
    for (let block = 0; block < opts.blocks && !bench.interruption.aborted; block += 1) {
      await refreshHeartbeats(moduleStores, replicas); // untimed: keeps every replica alive (TTL 60 s)
      const count = Math.floor(opts.calls / opts.blocks) + (block < opts.calls % opts.blocks ? 1 : 0);
      // Rotating order: no side always runs first (or last) in a block.
      const order = block % 2 === 0 ? SIDES : [...SIDES].reverse();
      for (const side of order) samples[side].push(await run(side, count));
    }
    bench.throwIfInterrupted();
    for (const side of SIDES) errors.push(...samples[side].flatMap((s) => s.errors));
    results.push({
      modules: size,
      eligible,
      registryReads,
      measuredSeconds: Math.round((Date.now() - started) / 100) / 10,
      stats: Object.fromEntries(
        SIDES.map((side) => [side, bench.summarize(bench.merge(samples[side]), 3)]),
      ) as Record<Side, bench.Stats>,
    });
  }

  const machine = await bench.describeMachine(null, 'not used');
  const date = new Date().toISOString();
  const header = [...bench.STAT_KEYS.map((key) => `${key} ms`), 'calls/s'];
  const cells = (s: bench.Stats) => [...bench.STAT_KEYS.map((key) => fmt(s[key])), String(s.opsPerSecond)];
  const ratioCells = (a: bench.Stats, b: bench.Stats) => [
    ...bench.STAT_KEYS.map((key) => (a[key] / b[key]).toFixed(2)),
    '',
  ];
  const rows = results.flatMap((r): [string, string[]][] => [
    ...SIDES.map((side): [string, string[]] => [
      `${r.modules} modules: ${LABELS[side]}`,
      cells(r.stats[side]),
    ]),
    [`${r.modules} modules: ratio activity / HGETALL`, ratioCells(r.stats.activity, r.stats.hgetall)],
    [`${r.modules} modules: ratio snapshot / HGETALL`, ratioCells(r.stats.snapshot, r.stats.hgetall)],
  ]);
  const judge = (goal: { p99Ms: number; modules: number }) => {
    const at = results.find((r) => r.modules === goal.modules)?.stats[GOAL_SIDE];
    const met = at ? at.p99 <= goal.p99Ms : null;
    const verdict =
      met === null
        ? `not measured (no run with ${goal.modules} modules)`
        : `p99 ${fmt(at?.p99 ?? Number.NaN)} ms at ${goal.modules} modules: ${met ? 'met' : 'not met'}`;
    return { met, verdict };
  };
  const { met: goalMet, verdict: smallVerdict } = judge(GOAL);
  const large = judge(GOAL.large);
  const verdict = `${smallVerdict}; ${large.verdict}`;
  const eligibleNote = results.map((r) => `${r.eligible} of ${r.modules}`).join(', ');
  const cacheNote = results
    .map((r) => `${r.registryReads} at ${r.modules} modules (in ${r.measuredSeconds} s)`)
    .join(', ');
  const ttl = config.ROUTING_TABLE_TTL_SECONDS;
  console.log(
    `\nselection: ${opts.calls} calls per path and size (after ${opts.warmup} warm-up), concurrency ${opts.concurrency}, ${opts.blocks} interleaved blocks`,
  );
  console.log(`${bench.machineSummary(machine, `Redis ${redisVersion}`)}\n`);
  console.log(bench.table(rows, header));
  console.log(
    `\neligible: ${eligibleNote}; routing table refreshes in the timed calls (TTL ${ttl} s): ${cacheNote}`,
  );
  console.log(
    `goal (${LABELS[GOAL_SIDE]}): p99 ≤ ${GOAL.p99Ms} ms at ${GOAL.modules} modules, ≤ ${GOAL.large.p99Ms} ms at ${GOAL.large.modules} (not yet a gate): ${verdict}`,
  );
  return bench.publish(
    NAME,
    mode,
    errors,
    {
      date,
      machine: { ...machine, redis: redisVersion },
      options: opts,
      request: REQUEST,
      routingTableTtlSeconds: ttl,
      results,
      goal: { ...GOAL, large: { ...GOAL.large, met: large.met }, side: GOAL_SIDE, met: goalMet },
    },
    [
      ...bench.measuredOn(
        date,
        machine,
        `Redis ${redisVersion} and PostgreSQL on loopback (no Temporal server involved)`,
      ),
      '',
      `${opts.calls} calls per path and size after ${opts.warmup} warm-up, concurrency ${opts.concurrency}, in ${opts.blocks} interleaved`,
      `blocks; request \`${JSON.stringify(REQUEST)}\`; eligible modules: ${eligibleNote}.`,
      '',
      ...bench.markdownTable(['modules: path', ...header], rows),
      '',
      `Steady state: the routing table cache (ROUTING_TABLE_TTL_SECONDS=${ttl}, the default) is warm, filled by`,
      `the warm-up; the refreshes from Postgres that fell within the timed calls are included above: ${cacheNote}.`,
      '',
      `The routing snapshot answers from memory: a control worker's full read every ROUTING_SNAPSHOT_REFRESH_SECONDS=${config.ROUTING_SNAPSHOT_REFRESH_SECONDS}`,
      `runs on the same event loop during the timed calls. "A change applied before each call": one published in-flight change (untimed) before each call.`,
      '',
      `Goal, on the ${LABELS[GOAL_SIDE]}: p99 ≤ ${GOAL.p99Ms} ms at ${GOAL.modules} modules and ≤ ${GOAL.large.p99Ms} ms at ${GOAL.large.modules} (the seed's target was ${GOAL.seedP99Ms} ms; goal, not yet a gate).`,
      `This run: ${verdict}.`,
    ],
  );
}

/** Like bench.measure at concurrency 1, with an untimed `prepare` before each timed `op`. */
async function measureAfter(
  count: number,
  prepare: () => Promise<void>,
  op: () => Promise<void>,
): Promise<bench.Sample> {
  const sample: bench.Sample = { latencies: [], errors: [], wallMs: 0 };
  const started = performance.now();
  for (let i = 0; i < count && !bench.interruption.aborted; i += 1) {
    try {
      await prepare();
      const at = performance.now();
      await op();
      sample.latencies.push(performance.now() - at);
    } catch (err) {
      sample.errors.push(err instanceof Error ? err.message : String(err));
    }
  }
  sample.wallMs = performance.now() - started;
  return sample;
}

bench.runBench(main);
