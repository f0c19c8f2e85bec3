import { setTimeout as sleep } from 'node:timers/promises';
import type { temporal } from '@temporalio/proto';
import Redis from 'ioredis';
import { type ChaosCluster, type ModuleSpec, startChaosCluster } from './support/cluster';
import { checkInvariants, recoveryTimes, settle } from './support/invariants';
import { createIsolatedHost, type IsolatedHost } from './support/isolated-host';
import { bySize, recordScenario } from './support/report';
import type { RpaProcess } from './support/rpa-process';
import { type TcpConnection, tcpConnectionsOf } from './support/tcp-sockets';
import { applyChaosType, type CreatedRobot, createRobots } from './support/workload';

// One replica of a module runs on a host of its own; mid-step the network between it and everything
// else goes silent for ~25 s, then heals. Its steps must finish on the other replicas (heartbeat
// timeout), and whatever it finishes after healing must not add a second effect at a sink. It
// reaches Temporal, Postgres, Redis and the webhook receiver only through forwarders, as it would
// reach another machine (checked: every TCP socket it holds leads to one of them).
// The mail module stays on the host: a cut inside an SMTP exchange fails that robot
// EmailOutcomeUnknown by design (ADR 0027).
//
// Two ways to cut it off (support/isolated-host.ts), the recorded note says which ran:
// - as root, "network namespace": the replica runs in a network namespace of its own, its forwarders
//   listen on this machine's side of a veth, and the partition makes the wire between drops every
//   packet. Both kernels see real loss: retransmissions, connects stuck in SYN_SENT.
// - anyone else (no CAP_NET_ADMIN), "user-space blackhole": the replica runs on this host and its
//   forwarders, on loopback and made for it alone, are all blackholed at once (nothing passes either
//   way, new connections are accepted and never answered, closes are not passed on) and released on
//   heal. The webhook forwarder every replica shares cuts only the replica's connections (told by the
//   socket's owner). The difference: the kernel still ACKs the replica's writes to its forwarders,
//   so it sees silence rather than retransmissions, and a connect succeeds and then hears nothing.
//   What the product relies on (heartbeats, deadlines, pool timeouts) meets the same silence.
//   (ADR 0039)

const size = bySize({
  short: { robots: 30, partitions: 1, partitionMs: 25_000, holdMs: 4000, concurrency: 6 },
  full: { robots: 300, partitions: 4, partitionMs: 25_000, holdMs: 4000, concurrency: 12 },
});
const startedAt = Date.now();
const moduleA: ModuleSpec = { name: 'chaos-a', replicas: 2, capacity: 4 };
let cluster: ChaosCluster | undefined;
let isolated: IsolatedHost | undefined;
let cutOff: RpaProcess | undefined;

beforeAll(async () => {
  isolated = await createIsolatedHost();
  const host = isolated;
  cluster = await startChaosCluster({
    label: 'partition',
    modules: [moduleA, { name: 'chaos-mail', replicas: 1, capacity: 8, mailer: true }],
    env: { HTTP_STEP_ALLOWED_HOSTS: `127.0.0.1,${host.hostAddress}` },
  });
  const database = new URL(cluster.env.DATABASE_URL ?? '');
  const [postgres, temporalAddress, redis, hooks] = await Promise.all([
    host.forward(database.toString()),
    host.forward(cluster.temporalServer.address),
    host.forward(cluster.redis.url),
    host.forwardShared(cluster.hooks.url),
  ]);
  database.host = postgres;
  // Every replica posts the webhook through the forwarder, so the isolated one can reach it too.
  await applyChaosType(cluster, { email: true, hookUrl: `http://${hooks}/hook` });
  cutOff = cluster.moduleProcess(moduleA, moduleA.replicas, host.prefix, {
    DATABASE_URL: database.toString(),
    TEMPORAL_ADDRESS: temporalAddress,
    REDIS_URL: `redis://${redis}`,
  });
  cutOff.start();
  host.adopt(cutOff.pid ?? 0);
  await cutOff.printed('module worker started');
  await cluster.awaitReplicas(moduleA.name, moduleA.replicas + 1);
}, 180_000);

afterAll(async () => {
  await cutOff?.close();
  await cluster?.close();
  await isolated?.close();
}, 60_000);

/**
 * The replica's TCP sockets, each checked to lead to one of the isolated host's forwarders (else
 * the partition would not cut that way, and the test fails naming it).
 */
async function throughForwarders(host: IsolatedHost, pid: number): Promise<TcpConnection[]> {
  const forwarders = host.forwarders();
  const connections = await tcpConnectionsOf(pid);
  const stray = connections.filter(
    ({ remote }) =>
      !forwarders.some(({ address, port }) => address === remote.address && port === remote.port),
  );
  expect(stray).toEqual([]);
  return connections;
}

interface Caught {
  robotId: string;
  activityId: string;
  step: string;
  /** The attempt the isolated replica was running. */
  attempt: number;
}

/** Steps the isolated replica is running now, read from the robots' pending activities. */
async function stepsOn(system: ChaosCluster, robots: CreatedRobot[], pid: number): Promise<Caught[]> {
  const caught: Caught[] = [];
  await Promise.all(
    robots.map(async ({ robotId }) => {
      const description = await system.temporal.workflow.getHandle(robotId).describe();
      for (const activity of description.raw.pendingActivities ?? []) {
        if (activity.lastWorkerIdentity?.startsWith(`${pid}@`) && activity.lastStartedTime) {
          caught.push({
            robotId,
            activityId: activity.activityId ?? '',
            step: activity.activityType?.name ?? '',
            attempt: activity.attempt ?? 1,
          });
        }
      }
    }),
  );
  return caught;
}

interface Completion {
  identity: string;
  attempt: number;
  at: number;
}

/** How the step ended: who completed which attempt when, or null (timed out, failed over). */
async function completion(system: ChaosCluster, caught: Caught): Promise<Completion | null> {
  const history = await system.temporal.workflow.getHandle(caught.robotId).fetchHistory();
  const events: temporal.api.history.v1.IHistoryEvent[] = history.events ?? [];
  const scheduled = events.find(
    (event) => event.activityTaskScheduledEventAttributes?.activityId === caught.activityId,
  )?.eventId;
  if (scheduled == null) return null;
  const same = (id: unknown) => String(id) === String(scheduled);
  const started = events.find((event) => same(event.activityTaskStartedEventAttributes?.scheduledEventId));
  const completed = events.find((event) =>
    same(event.activityTaskCompletedEventAttributes?.scheduledEventId),
  );
  if (!completed) return null;
  return {
    identity: completed.activityTaskCompletedEventAttributes?.identity ?? '',
    attempt: started?.activityTaskStartedEventAttributes?.attempt ?? 0,
    at:
      Number(completed.eventTime?.seconds ?? 0) * 1000 + Math.floor((completed.eventTime?.nanos ?? 0) / 1e6),
  };
}

/** Steps of `robots` the replica with `pid` completed after `since`. */
async function completedSince(
  system: ChaosCluster,
  robots: CreatedRobot[],
  pid: number,
  since: number,
): Promise<number> {
  let count = 0;
  for (const { robotId } of robots) {
    const history = await system.temporal.workflow.getHandle(robotId).fetchHistory();
    for (const event of history.events ?? []) {
      const identity = event.activityTaskCompletedEventAttributes?.identity;
      const at = Number(event.eventTime?.seconds ?? 0) * 1000;
      if (identity?.startsWith(`${pid}@`) && at >= since - 1000) count += 1;
    }
  }
  return count;
}

/** The module in-flight counters routing reads, by module and replica. */
async function inFlightCounts(system: ChaosCluster): Promise<Record<string, number>> {
  const redis = new Redis(system.env.REDIS_URL ?? '', { keyPrefix: system.env.REDIS_KEY_PREFIX });
  try {
    const raw = await redis.hgetall('module-inflight');
    return Object.fromEntries(Object.entries(raw).map(([key, value]) => [key, Number(value)]));
  } finally {
    redis.disconnect();
  }
}

it(
  `a module replica cut off by a network partition for ${size.partitionMs / 1000} s, ${size.partitions} time(s): its steps finish elsewhere, every effect once`,
  async () => {
    const system = cluster as ChaosCluster;
    const host = isolated as IsolatedHost;
    const replica = cutOff as RpaProcess;
    const pid = replica.pid ?? 0;
    const created: CreatedRobot[] = [];
    const wave = (keyPrefix: string, count: number) =>
      createRobots(system, {
        count,
        concurrency: size.concurrency,
        keyPrefix,
        holdMs: size.holdMs,
        onCreated: (robot) => created.push(robot),
      });
    // Half the robots before the first cut; the other half start at the heals, so the healed
    // replica has work to come back to.
    const perWave = Math.ceil(size.robots / (2 * size.partitions));
    const waves: Promise<CreatedRobot[]>[] = [];

    const caught: Caught[] = [];
    const connectionsChecked: TcpConnection[] = [];
    const cutAt = new Map<Caught, number>();
    const faultEnds: number[] = [];
    for (let partitions = 0; partitions < size.partitions; partitions++) {
      let current = wave(`partition-${partitions}-before`, perWave);
      waves.push(current);
      // Cut only when the isolated replica is mid-step, so the partition lands on work in flight.
      // Tasks go to whichever replica polls first: a wave may pass it by, so more come until one lands.
      let inFlight: Caught[] = [];
      let extra = 0;
      let waveDone = false;
      const markDone = () => {
        waveDone = true;
      };
      current.then(markDone, markDone);
      const deadline = Date.now() + 60_000;
      while (inFlight.length === 0 && Date.now() < deadline) {
        inFlight = await stepsOn(system, [...created], pid);
        if (inFlight.length > 0) break;
        if (waveDone) {
          waveDone = false;
          current = wave(`partition-${partitions}-extra-${extra++}`, size.concurrency);
          waves.push(current);
          current.then(markDone, markDone);
          await sleep(2000); // their holds begin: look again before asking for more
        }
        await sleep(100);
      }
      if (inFlight.length === 0) throw new Error('the isolated replica never ran a step to cut off');
      await host.partition();
      const at = Date.now();
      // After the cut, not before: the steps just seen must still be in flight when it lands.
      connectionsChecked.push(...(await throughForwarders(host, pid)));
      for (const step of inFlight) cutAt.set(step, at);
      caught.push(...inFlight);
      await sleep(size.partitionMs);
      await host.heal();
      faultEnds.push(Date.now());
      waves.push(wave(`partition-${partitions}-after`, perWave));
      await Promise.all(waves);
      // The healed replica must take work again; a wave can pass it by (tasks go to whichever
      // replica polls first), so a few more come until it has finished one.
      for (let extra = 0; partitions === size.partitions - 1 && extra < 5; extra++) {
        const afterSoFar = created.filter((robot) => robot.key.includes('-after'));
        await settle(system, afterSoFar, 60_000);
        if ((await completedSince(system, afterSoFar, pid, faultEnds.at(-1) ?? 0)) > 0) break;
        waves.push(wave(`partition-${partitions}-after-extra-${extra}`, size.concurrency));
        await Promise.all(waves);
      }
      await settle(system, [...created], bySize({ short: 120_000, full: 900_000 }));
    }
    const robots = (await Promise.all(waves)).flat();
    const healedAt = faultEnds[faultEnds.length - 1] ?? 0;
    // What the isolated replica still held when it healed ends within a heartbeat (cancelled) or
    // delivers late at once; the robots of the last wave took longer than that, so any late effect
    // is at the sinks before they are counted.
    await settle(system, robots, bySize({ short: 120_000, full: 900_000 }));
    const verdict = await checkInvariants(system, robots, { email: true });

    expect(verdict.lost).toEqual([]);
    expect(verdict.duplicated).toEqual([]);
    expect(faultEnds).toHaveLength(size.partitions);
    // The partition cut every way the replica had to the services (it held connections, all to forwarders).
    expect(connectionsChecked.length).toBeGreaterThan(0);
    // The partition hit steps in flight on the isolated replica, and none of them was completed by
    // it: each finished on another replica (or failed over to another module).
    // A step seen on it just before the cut may have completed before the cut: not cut off.
    const outcomes = await Promise.all(
      caught.map(async (step) => ({ step, done: await completion(system, step) })),
    );
    const cut = outcomes.filter(({ step, done }) => !done || done.at >= (cutAt.get(step) ?? 0));
    expect(cut.length).toBeGreaterThan(0);
    expect(
      cut
        .filter(({ step, done }) => done && done.attempt <= step.attempt)
        .map(({ step, done }) => ({ ...step, done })),
    ).toEqual([]);
    const elsewhere = cut.filter(({ done }) => done && !done.identity.startsWith(`${pid}@`)).length;
    expect(verdict.hit).toBeGreaterThan(0);
    // The isolated replica came back: it is live again and finished steps after the last heal.
    await system.awaitReplicas(moduleA.name, moduleA.replicas + 1);
    expect(replica.running).toBe(true);
    const after = robots.filter((robot) => robot.key.includes('-after'));
    expect(await completedSince(system, after, pid, healedAt)).toBeGreaterThan(0);
    // Idle again, so every replica's in-flight count (what routing weighs capacity by) is back to 0.
    const counts = await inFlightCounts(system);
    expect(counts).toEqual(Object.fromEntries(Object.keys(counts).map((key) => [key, 0])));

    recordScenario(
      {
        scenario: 'module worker network partition',
        robots: robots.length,
        faults: size.partitions,
        lost: verdict.lost.length,
        duplicated: verdict.duplicated.length,
        recoveryMs: await recoveryTimes(system, faultEnds),
        sinks: {
          ...verdict.sinks,
          'robots hit': verdict.hit,
          'steps cut off': cut.length,
          'finished on other replicas': elsewhere,
        },
        note: `${host.mode}: a replica reaching every service through forwarders cut off mid-step for ${size.partitionMs / 1000} s (${host.mode === 'network namespace' ? 'packets dropped on the wire' : 'its forwarders blackholed'}) and healed; ${cut.length} steps in flight on it were retried, ${elsewhere} finished on other replicas`,
      },
      startedAt,
    );
  },
  bySize({ short: 240_000, full: 3_600_000 }),
);
