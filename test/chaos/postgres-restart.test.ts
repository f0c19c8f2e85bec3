import { setTimeout as sleep } from 'node:timers/promises';
import { type ChaosCluster, startChaosCluster } from './support/cluster';
import { checkInvariants, recoveryTimes, settle } from './support/invariants';
import { type StopMode, TestPostgresServer } from './support/postgres-server';
import { bySize, recordScenario } from './support/report';
import { applyChaosType, type CreatedRobot, createRobots } from './support/workload';

// The system's Postgres server restarted for real mid-run: a server of the scenario's own (initdb
// into a temp dir, own port), stopped with pg_ctl — `fast` (sessions ended cleanly) and `immediate`
// (a crash, recovered on start) in turn — kept down a few seconds, and started again. Every pooled
// connection of every process dies with it; robots must carry on, each once, each effect once.

const size = bySize({
  short: { robots: 24, concurrency: 6, holdMs: 1500, restarts: 2, downMs: 4000 },
  full: { robots: 240, concurrency: 12, holdMs: 1500, restarts: 8, downMs: 4000 },
});
const startedAt = Date.now();
const server = new TestPostgresServer('restart');
let cluster: ChaosCluster;

beforeAll(async () => {
  const databaseUrl = await server.init('rpa_chaos_restart');
  cluster = await startChaosCluster({
    label: 'pg-restart',
    modules: [
      { name: 'chaos-a', replicas: 2, capacity: 4 },
      { name: 'chaos-mail', replicas: 1, capacity: 8, mailer: true },
    ],
    databaseUrl,
  });
  await applyChaosType(cluster, { email: true });
}, 180_000);

afterAll(async () => {
  if (!server.running) server.start();
  await cluster?.close();
  server.close();
}, 60_000);

it(
  `Postgres restarted ${size.restarts} times mid-run (pg_ctl stop fast / immediate, then start): every robot completes once, every effect once`,
  async () => {
    // One batch of robots before each restart (so that it lands on work in flight), the next one
    // asked for while the server is down (the clients retry until it is back).
    const per = Math.ceil(size.robots / (size.restarts + 1));
    const batch = (index: number) =>
      createRobots(cluster, {
        count: per,
        concurrency: size.concurrency,
        keyPrefix: `pg-restart-${index}`,
        holdMs: size.holdMs,
      });
    const robots = await batch(0);
    const faultEnds: number[] = [];
    const inFlight: number[] = [];
    for (let restart = 0; restart < size.restarts; restart++) {
      await sleep(1000); // the robots just created reach their steps
      inFlight.push(await robotsInFlight(robots));
      const mode: StopMode = restart % 2 === 0 ? 'fast' : 'immediate';
      server.stop(mode);
      const next = batch(restart + 1);
      await sleep(size.downMs);
      server.start();
      faultEnds.push(Date.now());
      await cluster.reconnectSql();
      robots.push(...(await next));
    }

    await settle(cluster, robots, bySize({ short: 150_000, full: 900_000 }));
    const verdict = await checkInvariants(cluster, robots, { email: true });

    expect(verdict.lost).toEqual([]);
    expect(verdict.duplicated).toEqual([]);
    expect(faultEnds).toHaveLength(size.restarts);
    // Every restart met robots mid-run.
    expect(inFlight.every((count) => count > 0)).toBe(true);
    recordScenario(
      {
        scenario: 'postgres restart',
        robots: robots.length,
        faults: faultEnds.length,
        lost: verdict.lost.length,
        duplicated: verdict.duplicated.length,
        recoveryMs: await recoveryTimes(cluster, faultEnds),
        sinks: { ...verdict.sinks, 'in flight at restarts': inFlight.reduce((a, b) => a + b, 0) },
        note: `the test-owned Postgres server stopped (fast, immediate in turn), down ${size.downMs / 1000} s, started again`,
      },
      startedAt,
    );
  },
  bySize({ short: 300_000, full: 3_600_000 }),
);

/** Robots created and not yet finished, read on the server directly. */
async function robotsInFlight(robots: CreatedRobot[]): Promise<number> {
  const { rows } = await cluster.sql.query<{ open: string }>(
    "select count(*) as open from robots where robot_id = any($1) and status not in ('completed', 'failed', 'cancelled')",
    [robots.map((robot) => robot.robotId)],
  );
  return Number(rows[0]?.open);
}
