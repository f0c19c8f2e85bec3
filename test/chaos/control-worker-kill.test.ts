import { setTimeout as sleep } from 'node:timers/promises';
import { type ChaosCluster, startChaosCluster } from './support/cluster';
import { checkInvariants, openCount, recoveryTimes, settle, untilCompleted } from './support/invariants';
import { bySize, recordScenario } from './support/report';
import { applyChaosType, createRobots } from './support/workload';

// kill -9 of the control worker (robot workflows and their progress writes) twice while robots run,
// each time started again after a moment, as a supervisor would. Workflow tasks and control
// activities it held are lost with it; Temporal hands them out again once a worker polls.

const size = bySize({
  short: { robots: 24, holdMs: 1500, concurrency: 6, downMs: 2000 },
  full: { robots: 200, holdMs: 1500, concurrency: 12, downMs: 3000 },
});
const KILLS = 2;
const startedAt = Date.now();
let cluster: ChaosCluster;

beforeAll(async () => {
  cluster = await startChaosCluster({
    label: 'control-kill',
    modules: [
      { name: 'chaos-a', replicas: 2, capacity: 6 },
      { name: 'chaos-mail', replicas: 1, capacity: 8, mailer: true },
    ],
  });
  await applyChaosType(cluster, { email: true });
}, 180_000);

afterAll(async () => {
  await cluster?.close();
}, 60_000);

it(
  `kill -9 of the control worker mid-run, ${KILLS} times: every robot completes once, every effect once`,
  async () => {
    const creating = createRobots(cluster, {
      count: size.robots,
      concurrency: size.concurrency,
      keyPrefix: 'control-kill',
      holdMs: size.holdMs,
    });

    const faultEnds: number[] = [];
    const openAtKill: number[] = [];
    // Each kill waits for work to be flowing (more robots completed since the last restart), so it
    // lands among robots mid-run rather than before the first started or after the last finished.
    const spacing = Math.max(2, Math.floor(size.robots / (KILLS + 2)));
    for (let kill = 1; kill <= KILLS; kill++) {
      await untilCompleted(cluster, kill * spacing);
      openAtKill.push(await openCount(cluster));
      await cluster.control.kill9();
      await sleep(size.downMs);
      cluster.control.start();
      faultEnds.push(Date.now());
      await cluster.control.printed('control worker started');
    }
    const robots = await creating;
    await settle(cluster, robots, bySize({ short: 150_000, full: 900_000 }));
    const verdict = await checkInvariants(cluster, robots, { email: true });

    expect(verdict.lost).toEqual([]);
    expect(verdict.duplicated).toEqual([]);
    expect(cluster.control.starts).toBe(KILLS + 1);
    // Each kill hit robots in flight: rows still queued or running when the worker died.
    expect(openAtKill.length).toBe(KILLS);
    for (const open of openAtKill) expect(open).toBeGreaterThan(0);
    recordScenario(
      {
        scenario: 'control worker kill -9',
        robots: robots.length,
        faults: KILLS,
        lost: verdict.lost.length,
        duplicated: verdict.duplicated.length,
        recoveryMs: await recoveryTimes(cluster, faultEnds),
        sinks: { ...verdict.sinks, 'open robots at kills': openAtKill.reduce((a, b) => a + b, 0) },
        note: `control worker killed twice mid-run (${openAtKill.join(' and ')} robots open), restarted after ${size.downMs / 1000}s`,
      },
      startedAt,
    );
  },
  bySize({ short: 240_000, full: 1_800_000 }),
);
