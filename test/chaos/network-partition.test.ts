import { setTimeout as sleep } from 'node:timers/promises';
import type { temporal } from '@temporalio/proto';
import Redis from 'ioredis';
import { TcpProxy } from '../support/tcp-proxy';
import { type ChaosCluster, type ModuleSpec, startChaosCluster } from './support/cluster';
import { checkInvariants, recoveryTimes, settle } from './support/invariants';
import { createIsolatedHost, type IsolatedHost } from './support/isolated-host';
import { bySize, recordScenario } from './support/report';
import type { RpaProcess } from './support/rpa-process';
import { applyChaosType, type CreatedRobot, createRobots } from './support/workload';

// One replica of a module runs on a host of its own (a network namespace); mid-step the network
// between it and everything else drops every packet for ~25 s, then heals. Its steps must finish on
// the other replicas (heartbeat timeout), and whatever it finishes after healing must not add a
// second effect at a sink. It reaches Temporal, Postgres, Redis and the webhook receiver through
// forwarders listening on this machine's side of the veth, as it would reach another machine.
// The mail module stays on the host: a cut inside an SMTP exchange fails that robot
// EmailOutcomeUnknown by design (ADR 0027).

const size = bySize({
  short: { robots: 30, partitions: 1, partitionMs: 25_000, holdMs: 4000, concurrency: 6 },
  full: { robots: 300, partitions: 4, partitionMs: 25_000, holdMs: 4000, concurrency: 12 },
});
const startedAt = Date.now();
const moduleA: ModuleSpec = { name: 'chaos-a', replicas: 2, capacity: 4 };
let cluster: ChaosCluster | undefined;
let isolated: IsolatedHost | undefined;
let cutOff: RpaProcess | undefined;
const proxies: TcpProxy[] = [];

async function forward(host: IsolatedHost, target: string): Promise<string> {
  const url = new URL(target.includes('://') ? target : `tcp://${target}`);
  const port = Number(url.port || (url.protocol.startsWith('postgres') ? 5432 : Number.NaN));
  const proxy = new TcpProxy(port, url.hostname, host.hostAddress);
  proxies.push(proxy);
  return `${host.hostAddress}:${await proxy.start(0)}`;
}

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
    forward(host, database.toString()),
    forward(host, cluster.temporalServer.address),
    forward(host, cluster.redis.url),
    forward(host, cluster.hooks.url),
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
  await cutOff.printed('module worker started');
  await cluster.awaitReplicas(moduleA.name, moduleA.replicas + 1);
}, 180_000);

afterAll(async () => {
  await cutOff?.close();
  await cluster?.close();
  for (const proxy of proxies) await proxy.cut();
  await isolated?.close();
}, 60_000);

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
    const cutAt = new Map<Caught, number>();
    const faultEnds: number[] = [];
    for (let partitions = 0; partitions < size.partitions; partitions++) {
      waves.push(wave(`partition-${partitions}-before`, perWave));
      // Cut only when the isolated replica is mid-step, so the partition lands on work in flight.
      let inFlight: Caught[] = [];
      const deadline = Date.now() + 60_000;
      while (inFlight.length === 0 && Date.now() < deadline) {
        inFlight = await stepsOn(system, [...created], pid);
        if (inFlight.length === 0) await sleep(100);
      }
      if (inFlight.length === 0) throw new Error('the isolated replica never ran a step to cut off');
      await host.partition();
      const at = Date.now();
      for (const step of inFlight) cutAt.set(step, at);
      caught.push(...inFlight);
      await sleep(size.partitionMs);
      await host.heal();
      faultEnds.push(Date.now());
      waves.push(wave(`partition-${partitions}-after`, perWave));
      await Promise.all(waves);
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
        note: `a replica on its own network namespace cut off mid-step for ${size.partitionMs / 1000} s (packets dropped) and healed; ${cut.length} steps in flight on it were retried, ${elsewhere} finished on other replicas`,
      },
      startedAt,
    );
  },
  bySize({ short: 240_000, full: 3_600_000 }),
);
