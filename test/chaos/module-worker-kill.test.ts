import { setTimeout as sleep } from 'node:timers/promises';
import { type ChaosCluster, startChaosCluster } from './support/cluster';
import { checkInvariants, recoveryTimes, settle } from './support/invariants';
import { bySize, recordScenario } from './support/report';
import { applyChaosType, createRobots } from './support/workload';

// kill -9 of module workers mid-step, over and over, while robots run; each killed replica is
// started again (as a supervisor would). The mail module is spared: a kill inside an SMTP exchange
// fails that robot EmailOutcomeUnknown by design (ADR 0027), test/e2e/send-email-once shows it.

const size = bySize({
  short: { robots: 24, kills: 6, holdMs: 1500, concurrency: 6 },
  full: { robots: 400, kills: 100, holdMs: 1500, concurrency: 12 },
});
const startedAt = Date.now();
let cluster: ChaosCluster;

beforeAll(async () => {
  cluster = await startChaosCluster({
    label: 'module-kill',
    modules: [
      { name: 'chaos-a', replicas: 3, capacity: 4 },
      { name: 'chaos-mail', replicas: 1, capacity: 8, mailer: true },
    ],
  });
  await applyChaosType(cluster, { email: true });
}, 180_000);

afterAll(async () => {
  await cluster?.close();
}, 60_000);

it(
  `kill -9 of a module worker mid-step, ${size.kills} times: every robot completes once, every effect once`,
  async () => {
    const replicas = cluster.modules.get('chaos-a') ?? [];
    let done = false;
    const creating = createRobots(cluster, {
      count: size.robots,
      concurrency: size.concurrency,
      keyPrefix: 'module-kill',
      holdMs: size.holdMs,
    }).finally(() => {
      done = true;
    });

    const faultEnds: number[] = [];
    let kills = 0;
    const spacing = Math.max(
      300,
      Math.floor((size.robots * size.holdMs) / size.concurrency / size.kills / 2),
    );
    while (kills < size.kills) {
      await sleep(spacing);
      const victim = replicas[kills % replicas.length];
      if (!victim?.running) continue;
      await victim.kill9();
      kills += 1;
      await sleep(200);
      victim.start();
      faultEnds.push(Date.now());
      if (done && kills >= size.kills) break;
    }
    const robots = await creating;
    await settle(cluster, robots, bySize({ short: 120_000, full: 900_000 }));
    const verdict = await checkInvariants(cluster, robots, { email: true });

    expect(verdict.lost).toEqual([]);
    expect(verdict.duplicated).toEqual([]);
    expect(kills).toBe(size.kills);
    // A kill that reached no step proves nothing: some robots must have had a step retried.
    expect(verdict.hit).toBeGreaterThan(0);
    recordScenario(
      {
        scenario: 'module worker kill -9',
        robots: robots.length,
        faults: kills,
        lost: verdict.lost.length,
        duplicated: verdict.duplicated.length,
        recoveryMs: await recoveryTimes(cluster, faultEnds),
        sinks: verdict.sinks,
        note: 'replicas of the hold/webhook module killed mid-step and restarted',
      },
      startedAt,
    );
  },
  bySize({ short: 240_000, full: 3_600_000 }),
);
