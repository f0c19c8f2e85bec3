import { setTimeout as sleep } from 'node:timers/promises';
import { eventually } from '../support/test-system';
import { internalErrors } from './support/api-errors';
import { type ChaosCluster, startChaosCluster } from './support/cluster';
import { checkInvariants, openCount, recoveryTimes, settle } from './support/invariants';
import { bySize, recordScenario } from './support/report';
import { createRobotsInWaves } from './support/waves';
import { applyChaosType } from './support/workload';

// Redis killed (SIGKILL) for 30 s while robots run and clients keep arriving, then started again
// empty, as a Redis without persistence comes back. Redis holds only a cache and live routing state
// (ADR 0006, 0008): the API must keep creating and answering robots from Postgres meanwhile, robots
// keep running (routing falls back to the registry), and once Redis is back every replica registers
// itself again by its heartbeats and /health turns healthy, with no process restarted.

const OUTAGE_MS = 30_000;
const size = bySize({
  short: { waves: 28, perWave: 1, everyMs: 1500, holdMs: 2000, outages: 1 },
  full: { waves: 64, perWave: 3, everyMs: 1500, holdMs: 2000, outages: 2 },
});
const MODULES = [
  { name: 'chaos-a', replicas: 2, capacity: 4 },
  { name: 'chaos-mail', replicas: 1, capacity: 8, mailer: true },
];
const startedAt = Date.now();
let cluster: ChaosCluster;

beforeAll(async () => {
  cluster = await startChaosCluster({ label: 'redis-outage', modules: MODULES });
  await applyChaosType(cluster, { email: true });
}, 180_000);

afterAll(async () => {
  await cluster?.close();
}, 60_000);

const systemProcesses = () => [
  ...cluster.apis,
  cluster.control,
  cluster.callModule,
  ...[...cluster.modules.values()].flat(),
];

it(
  `Redis killed for ${OUTAGE_MS / 1000} s ${size.outages}× and started empty: robots are still created, every robot completes once`,
  async () => {
    const answeredAt: number[] = [];
    const waves = createRobotsInWaves(cluster, {
      waves: size.waves,
      perWave: size.perWave,
      everyMs: size.everyMs,
      keyPrefix: 'redis-outage',
      holdMs: size.holdMs,
      onCreated: (_robot, at) => answeredAt.push(at),
    });
    const firstRobots = new Promise<string>((resolve) => {
      const poll = setInterval(() => {
        if (waves.created() === 0) return;
        clearInterval(poll);
        void cluster.sql
          .query<{ robot_id: string }>('select robot_id from robots order by created_at limit 1')
          .then(({ rows }) => resolve(rows[0]?.robot_id ?? ''));
      }, 100);
    });

    const outages: { from: number; to: number; open: number }[] = [];
    for (let index = 0; index < size.outages; index++) {
      const due = Math.ceil((size.waves * size.perWave * (index + 0.3)) / (size.outages + 1));
      while (waves.created() < due) await sleep(100);
      const open = await openCount(cluster);
      const from = Date.now();
      await cluster.redis.kill();

      // Degraded, not down: /health says the cache is down, reads come from Postgres.
      const health = await eventually(async () => {
        const res = await cluster.api('/health');
        return res.status === 503
          ? ((await res.json()) as { components: { cache: { status: string } } })
          : undefined;
      }, 15_000);
      expect(health.components.cache.status).toBe('down');
      const read = await cluster.api(`/v1/robots/${await firstRobots}`);
      expect(read.status).toBe(200);
      expect(read.headers.get('x-robot-source')).toBe('database');

      await sleep(Math.max(0, from + OUTAGE_MS - Date.now()));
      await cluster.redis.start();
      outages.push({ from, to: Date.now(), open });

      // The fresh Redis knows no replica: each must register again by its own heartbeats.
      for (const spec of MODULES) await cluster.awaitReplicas(spec.name, spec.replicas, 30_000);
      await cluster.awaitReplicas('chaos-calls', 1, 30_000);
      await eventually(
        async () => ((await cluster.api('/health')).status === 200 ? true : undefined),
        30_000,
      );
    }

    const robots = await waves.robots;
    await settle(cluster, robots, bySize({ short: 150_000, full: 900_000 }));
    const verdict = await checkInvariants(cluster, robots, { email: true });

    expect(verdict.lost).toEqual([]);
    expect(verdict.duplicated).toEqual([]);
    // The outage was answered as one (503, reads from elsewhere), never as an API fault.
    expect(await internalErrors(cluster)).toEqual({});
    for (const outage of outages) {
      // The outage met running robots, the API created robots while Redis was away, and after.
      expect(outage.open).toBeGreaterThan(0);
      expect(answeredAt.filter((at) => at > outage.from && at < outage.to).length).toBeGreaterThan(0);
      expect(answeredAt.filter((at) => at > outage.to).length).toBeGreaterThan(0);
    }
    expect(
      systemProcesses()
        .filter((child) => child.starts !== 1 || !child.running)
        .map((c) => c.label),
    ).toEqual([]);
    const during = outages.map(
      (outage) => answeredAt.filter((at) => at > outage.from && at < outage.to).length,
    );
    recordScenario(
      {
        scenario: 'Redis stopped for 30 s',
        robots: robots.length,
        faults: outages.length,
        lost: verdict.lost.length,
        duplicated: verdict.duplicated.length,
        recoveryMs: await recoveryTimes(
          cluster,
          outages.map((outage) => outage.to),
        ),
        sinks: verdict.sinks,
        note: `redis-server SIGKILLed ${outages.length}× for 30 s, back empty; ${during.join('/')} robots created during each outage, ${outages.map((o) => o.open).join('/')} open at each kill; replicas re-registered, no process restarted`,
      },
      startedAt,
    );
  },
  bySize({ short: 300_000, full: 3_600_000 }),
);
