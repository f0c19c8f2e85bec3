import Redis from 'ioredis';
import { TEST_REDIS_URL } from '../support/test-env';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';

// A module replica's in-flight count reaches routing written behind, not as two awaited Redis round
// trips per step (issue 17): counted here with MONITOR on the one key only module replicas write.

const WRITE_MS = 500;
const WRITES = new Set(['hset', 'hincrby', 'hdel']);

let system: TestSystem;

beforeAll(async () => {
  system = await startTestSystem({
    module: false,
    // Heartbeats rarely, so every in-flight write seen (or count seen) between them is the reporter's.
    env: {
      MODULE_IN_FLIGHT_WRITE_MS: String(WRITE_MS),
      MODULE_HEARTBEAT_SECONDS: '30',
      MODULE_REPLICA_TTL_SECONDS: '120',
    },
  });
  await system.startModule({ name: 'counted', capacity: 20 });
});

afterAll(async () => {
  await system?.close();
});

/** Records every write to the run's `module-inflight` hash until `stop`. */
async function watchInFlightWrites() {
  const key = `${system.config.REDIS_KEY_PREFIX}module-inflight`;
  const client = new Redis(TEST_REDIS_URL);
  const monitor = await client.monitor();
  const writes: string[][] = [];
  monitor.on('monitor', (_time: string, args: string[]) => {
    if (args[1] === key && WRITES.has(String(args[0]).toLowerCase())) writes.push(args);
  });
  return {
    writes,
    stop: async () => {
      await new Promise((resolve) => setTimeout(resolve, 100)); // the last lines reach the monitor
      monitor.disconnect();
      client.disconnect();
    },
  };
}

async function liveInFlight(): Promise<number> {
  const live = (await system.moduleStores.state.snapshot(Date.now())).get('counted');
  return live?.inFlight ?? -1;
}

describe('in-flight counts of a module replica', () => {
  it('cost at most one Redis write per interval under a burst, not two round trips per step', async () => {
    const watch = await watchInFlightWrites();
    const started = Date.now();
    const robots = 20; // three noop steps each
    const ids = await Promise.all(
      Array.from({ length: robots }, async () => {
        const res = await system.api.post('/v1/robots').send({ type: 'noop-pipeline', input: {} });
        expect(res.status).toBe(201);
        return res.body.robotId as string;
      }),
    );
    await Promise.all(ids.map((id) => system.temporal.workflow.getHandle(id).result()));
    // The last count (0) is written at the latest one interval after the last step ended.
    await eventually(async () => ((await liveInFlight()) === 0 ? true : undefined), 5000, 50);
    await new Promise((resolve) => setTimeout(resolve, WRITE_MS));
    const elapsed = Date.now() - started;
    await watch.stop();

    // One write when the first step starts, then at most one per interval (no heartbeat in 30 s).
    const bound = 1 + Math.ceil(elapsed / WRITE_MS);
    expect(watch.writes.length).toBeLessThanOrEqual(bound);
    // Before: an HINCRBY when each step started and another when it ended, 2 × 60 here.
    expect(watch.writes.length).toBeLessThan(robots * 3);
    expect(watch.writes.every(([command]) => command?.toLowerCase() === 'hset')).toBe(true);
  });

  it('still shows a running step to routing within the interval, and 0 once it ended', async () => {
    const res = await system.api.post('/v1/robots').send({ type: 'noop-pipeline', input: { holdMs: 2000 } });
    expect(res.status).toBe(201);
    const seen = await eventually(
      async () => ((await liveInFlight()) === 1 ? Date.now() : undefined),
      10_000,
      50,
    );
    await system.temporal.workflow.getHandle(res.body.robotId as string).result();
    const ended = Date.now();
    await eventually(async () => ((await liveInFlight()) === 0 ? true : undefined), 5000, 50);
    // Written by the reporter, not the heartbeat (every 30 s here): within the interval and a poll.
    expect(Date.now() - ended).toBeLessThan(WRITE_MS + 1000);
    expect(seen).toBeLessThan(ended);
  });
});
