import Redis from 'ioredis';
import type { ChaosCluster } from './cluster';
import type { RpaProcess } from './rpa-process';

/**
 * A replica process of `moduleName` that is running a step right now, by the module state the
 * replicas keep in Redis (their pid and in-flight count): a kill of it lands mid-step.
 */
export async function busyReplica(
  cluster: ChaosCluster,
  moduleName: string,
  timeoutMs = 15_000,
): Promise<RpaProcess | undefined> {
  const redis = new Redis(cluster.redis.url, {
    keyPrefix: String(cluster.env.REDIS_KEY_PREFIX),
    maxRetriesPerRequest: 1,
  });
  try {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const [replicas, inFlight] = await Promise.all([
        redis.hgetall('module-replicas'),
        redis.hgetall('module-inflight'),
      ]);
      const busyPids = Object.entries(replicas)
        .filter(([key]) => key.startsWith(`${moduleName}|`) && Number(inFlight[key] ?? 0) > 0)
        .map(([, raw]) => (JSON.parse(raw) as { pid: number }).pid);
      const busy = (cluster.modules.get(moduleName) ?? []).find(
        (child) => child.running && child.pid !== undefined && busyPids.includes(child.pid),
      );
      if (busy) return busy;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return undefined;
  } finally {
    redis.disconnect();
  }
}
