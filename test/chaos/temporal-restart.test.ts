import { setTimeout as sleep } from 'node:timers/promises';
import { internalErrors } from './support/api-errors';
import { type ChaosCluster, startChaosCluster } from './support/cluster';
import { checkInvariants, openCount, recoveryTimes, settle } from './support/invariants';
import { bySize, recordScenario } from './support/report';
import { createRobotsInWaves } from './support/waves';
import { applyChaosType, CHAOS_TYPE } from './support/workload';

// The cluster's own Temporal dev server stopped mid-run and started again on the same port and
// SQLite file, while robots run and clients keep arriving. Nothing of the system is restarted: the
// API, the control worker, the module workers and the SDK module must each reconnect by itself
// (their pollers retry an unavailable frontend without end; ADR 0038), and every robot in flight
// when Temporal went away must complete once. Clients refused meanwhile (503) retry.

const size = bySize({
  short: { waves: 12, perWave: 2, everyMs: 1500, holdMs: 2000, downMs: [20_000] },
  full: { waves: 60, perWave: 3, everyMs: 1500, holdMs: 2000, downMs: [20_000, 5_000, 30_000, 10_000] },
});
// Full mode makes one outage a crash (SIGKILL: no orderly shutdown, the SQLite WAL as it was).
const crashed = (index: number) => bySize({ short: false, full: index === 1 });
const robotsAskedFor = size.waves * size.perWave;
const startedAt = Date.now();
let cluster: ChaosCluster;

beforeAll(async () => {
  cluster = await startChaosCluster({
    label: 'temporal-restart',
    modules: [
      { name: 'chaos-a', replicas: 2, capacity: 4 },
      { name: 'chaos-mail', replicas: 1, capacity: 8, mailer: true },
    ],
  });
  await applyChaosType(cluster, { email: true });
}, 180_000);

afterAll(async () => {
  await cluster?.close();
}, 60_000);

async function stopTemporal(crash: boolean): Promise<void> {
  if (!crash) return cluster.stopTemporal();
  const server = cluster.temporalServer.process;
  const exited = new Promise((resolve) => server.once('exit', resolve));
  server.kill('SIGKILL');
  await exited;
}

const systemProcesses = () => [
  ...cluster.apis,
  cluster.control,
  cluster.callModule,
  ...[...cluster.modules.values()].flat(),
];

it(
  `Temporal dev server down ${size.downMs.map((ms) => `${ms / 1000} s`).join(', ')} mid-run: every robot completes once, every process reconnects`,
  async () => {
    const answeredAt: number[] = [];
    const waves = createRobotsInWaves(cluster, {
      waves: size.waves,
      perWave: size.perWave,
      everyMs: size.everyMs,
      keyPrefix: 'temporal-restart',
      holdMs: size.holdMs,
      giveUpMs: 240_000,
      onCreated: (_robot, at) => answeredAt.push(at),
    });

    const outages: { from: number; to: number; open: number }[] = [];
    for (const [index, downMs] of size.downMs.entries()) {
      // Each outage begins once a share of the robots exists, so robots are mid-run when it lands.
      const due = Math.ceil((robotsAskedFor * (index + 1)) / (size.downMs.length + 2));
      while (waves.created() < due) await sleep(100);
      const open = await openCount(cluster);
      const from = Date.now();
      await stopTemporal(crashed(index));
      await sleep(downMs);
      await cluster.startTemporal();
      outages.push({ from, to: Date.now(), open });
      // Every process lived through the outage: none exited for lack of Temporal.
      expect(
        systemProcesses()
          .filter((child) => !child.running)
          .map((child) => child.label),
      ).toEqual([]);
    }

    const robots = await waves.robots;
    await settle(cluster, robots, bySize({ short: 150_000, full: 900_000 }));
    const verdict = await checkInvariants(cluster, robots, { email: true });

    expect(verdict.lost).toEqual([]);
    expect(verdict.duplicated).toEqual([]);
    // Each outage landed on running robots, and robots were still being asked for after it.
    for (const outage of outages) {
      expect(outage.open).toBeGreaterThan(0);
      expect(answeredAt.filter((at) => at > outage.to).length).toBeGreaterThan(0);
    }
    // The restarted server kept its namespace, search attributes and visibility records.
    const counted = await cluster.temporal.workflow.count(`RobotType = '${CHAOS_TYPE}'`);
    expect(counted.count).toBe(robots.length);
    // The outage was answered as one (503, reads from elsewhere), never as an API fault.
    expect(await internalErrors(cluster)).toEqual({});
    // Nothing was restarted: the processes that began the run finished it.
    expect(
      systemProcesses()
        .filter((child) => child.starts !== 1 || !child.running)
        .map((c) => c.label),
    ).toEqual([]);
    recordScenario(
      {
        scenario: 'Temporal dev server restart',
        robots: robots.length,
        faults: outages.length,
        lost: verdict.lost.length,
        duplicated: verdict.duplicated.length,
        recoveryMs: await recoveryTimes(
          cluster,
          outages.map((outage) => outage.to),
        ),
        sinks: verdict.sinks,
        note: `dev server stopped ${outages.length}× for ${size.downMs.map((ms) => ms / 1000).join('/')} s${bySize({ short: '', full: ' (the 2nd by SIGKILL)' })}, same port and SQLite file; ${outages.map((o) => o.open).join('/')} robots open at each stop; no process restarted`,
      },
      startedAt,
    );
  },
  bySize({ short: 300_000, full: 3_600_000 }),
);
