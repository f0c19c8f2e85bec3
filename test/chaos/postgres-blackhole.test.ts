import { setTimeout as sleep } from 'node:timers/promises';
import { TcpProxy } from '../support/tcp-proxy';
import { type ChaosCluster, startChaosCluster } from './support/cluster';
import { checkInvariants, recoveryTimes, settle } from './support/invariants';
import { bySize, recordScenario } from './support/report';
import { applyChaosType, type CreatedRobot, createRobots } from './support/workload';

// Postgres blackholed: every process of the system reaches it through a proxy that, for the
// outage, drops everything without telling anyone (live connections hang mid-query, new ones are
// accepted and never answered), then heals. Nothing may hang for good after the heal, and every
// robot must complete once with each side effect once — the email step included, whose `sent`
// mark can meet the outage right after the relay's 250.

const size = bySize({
  short: { robots: 24, concurrency: 6, holdMs: 1500, outageMs: 30_000 },
  full: { robots: 240, concurrency: 12, holdMs: 1500, outageMs: 30_000 },
});
const startedAt = Date.now();
let cluster: ChaosCluster;
let proxy: TcpProxy | undefined;

beforeAll(async () => {
  cluster = await startChaosCluster({
    label: 'pg-blackhole',
    modules: [
      { name: 'chaos-a', replicas: 2, capacity: 4 },
      { name: 'chaos-mail', replicas: 1, capacity: 8, mailer: true },
    ],
    databaseUrlFor: async (direct) => {
      const url = new URL(direct);
      proxy = new TcpProxy(Number(url.port || 5432), url.hostname);
      url.port = String(await proxy.start(0));
      return url.toString();
    },
  });
  await applyChaosType(cluster, { email: true });
}, 180_000);

afterAll(async () => {
  proxy?.heal();
  await cluster?.close();
  await proxy?.cut();
}, 60_000);

it(
  `Postgres blackholed for ${size.outageMs / 1000} s mid-run: every robot completes once, every effect once`,
  async () => {
    // Half the robots before the outage, so that it lands on work in flight; the other half asked
    // for while Postgres is blackholed (the clients retry refusals and timeouts until it heals).
    const half = Math.ceil(size.robots / 2);
    const batch = (name: string) =>
      createRobots(cluster, {
        count: half,
        concurrency: size.concurrency,
        keyPrefix: `pg-blackhole-${name}`,
        holdMs: size.holdMs,
      });
    const before = await batch('before');
    await sleep(1000); // they reach their steps
    const inFlight = await robotsInFlight(before);
    const blackholed = required(proxy);
    blackholed.blackhole();
    await sleep(2000);
    const during = batch('during');
    await sleep(size.outageMs - 2000);
    const held = { ...blackholed.blackholeStats };
    blackholed.heal();
    const faultEnds = [Date.now()];

    const robots = [...before, ...(await during)];
    await settle(cluster, robots, bySize({ short: 150_000, full: 900_000 }));
    const verdict = await checkInvariants(cluster, robots, { email: true });

    expect(verdict.lost).toEqual([]);
    expect(verdict.duplicated).toEqual([]);
    // The outage met robots mid-run, and the system was talking to Postgres when it began.
    expect(inFlight).toBeGreaterThan(0);
    expect(held.toServer).toBeGreaterThan(0);
    recordScenario(
      {
        scenario: 'postgres blackhole',
        robots: robots.length,
        faults: 1,
        lost: verdict.lost.length,
        duplicated: verdict.duplicated.length,
        recoveryMs: await recoveryTimes(cluster, faultEnds),
        sinks: { ...verdict.sinks, 'in flight at outage': inFlight },
        note: `every process's Postgres traffic dropped (half the robots asked for during it) for ${size.outageMs / 1000} s (${held.connections} connections left unanswered, ${held.toServer} writes held), then healed`,
      },
      startedAt,
    );
  },
  bySize({ short: 300_000, full: 3_600_000 }),
);

function required<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('the proxy was not started');
  return value;
}

/** Robots created and not yet finished (read directly, not through the proxy). */
async function robotsInFlight(robots: CreatedRobot[]): Promise<number> {
  const { rows } = await cluster.sql.query<{ open: string }>(
    "select count(*) as open from robots where robot_id = any($1) and status not in ('completed', 'failed', 'cancelled')",
    [robots.map((robot) => robot.robotId)],
  );
  return Number(rows[0]?.open);
}
