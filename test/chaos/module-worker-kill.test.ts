import { setTimeout as sleep } from 'node:timers/promises';
import { busyReplica } from './support/busy-replica';
import { type ChaosCluster, startChaosCluster } from './support/cluster';
import { checkInvariants, recoveryTimes, settle } from './support/invariants';
import { bySize, recordScenario } from './support/report';
import { applyChaosType, createRobots } from './support/workload';

// kill -9 of module workers mid-step, over and over, while a stream of robots runs; each killed
// replica is started again (as a supervisor would). Each kill picks a replica that is running a step
// at that moment. The mail module is spared: a kill inside an SMTP exchange fails that robot
// EmailOutcomeUnknown by design (ADR 0027), test/e2e/send-email-once shows it.

const size = bySize({
  short: { kills: 6, killEveryMs: 1500, maxRobots: 200, holdMs: 1500, concurrency: 3, paceMs: 300 },
  full: { kills: 100, killEveryMs: 1500, maxRobots: 5000, holdMs: 1500, concurrency: 6, paceMs: 300 },
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
    let kills = 0;
    const creating = createRobots(cluster, {
      count: size.maxRobots,
      concurrency: size.concurrency,
      keyPrefix: 'module-kill',
      holdMs: size.holdMs,
      paceMs: size.paceMs,
      stopWhen: () => kills >= size.kills,
    });

    const faultEnds: number[] = [];
    while (kills < size.kills) {
      await sleep(size.killEveryMs);
      const victim = await busyReplica(cluster, 'chaos-a', 60_000);
      if (!victim) throw new Error(`no replica of chaos-a ran a step for 60 s before kill ${kills + 1}`);
      await victim.kill9();
      kills += 1;
      await sleep(200);
      victim.start();
      faultEnds.push(Date.now());
    }
    const robots = await creating;
    await settle(cluster, robots, bySize({ short: 120_000, full: 900_000 }));
    const verdict = await checkInvariants(cluster, robots, { email: true });

    expect(verdict.lost).toEqual([]);
    expect(verdict.duplicated).toEqual([]);
    // A kill that reached no step proves nothing: robots must have had a step retried.
    expect(verdict.hit).toBeGreaterThan(0);
    recordScenario(
      {
        scenario: 'module worker kill -9',
        robots: robots.length,
        faults: kills,
        lost: verdict.lost.length,
        duplicated: verdict.duplicated.length,
        recoveryMs: await recoveryTimes(cluster, faultEnds),
        sinks: { ...verdict.sinks, 'robots hit': verdict.hit },
        note: 'a replica running a step killed, restarted 0.2 s later; 3 replicas; the mail module spared',
      },
      startedAt,
    );
  },
  bySize({ short: 240_000, full: 3_600_000 }),
);
