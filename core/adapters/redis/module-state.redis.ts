import type Redis from 'ioredis';
import {
  emptyLiveState,
  type ModuleLiveState,
  type ModuleStateStore,
  type ReplicaInfo,
} from '../../domain/module-state';
import { ParseMemo } from './parse-memo';

// The module state store on Redis; its Postgres twin is db/module-state.postgres.ts.

const REPLICAS = 'module-replicas';
const IN_FLIGHT = 'module-inflight';
const field = (moduleName: string, replicaId: string) => `${moduleName}|${replicaId}`;

/**
 * Two hashes for all modules (names relative to the connection's REDIS_KEY_PREFIX), so a snapshot
 * is two round trips whatever the module count. Hash fields have no TTL before Redis 7.4, so each
 * replica carries its own `expiresAt`.
 */
export class RedisModuleStateStore implements ModuleStateStore {
  private readonly memo = new ParseMemo<ReplicaInfo & { expiresAt: number }>();

  constructor(private readonly redis: Redis) {}

  async heartbeat(replica: ReplicaInfo, ttlSeconds: number, now: number, inFlight?: number): Promise<void> {
    const key = field(replica.moduleName, replica.replicaId);
    const value = JSON.stringify({ ...replica, expiresAt: now + ttlSeconds * 1000 });
    if (inFlight === undefined) {
      await this.redis.hset(REPLICAS, key, value);
      return;
    }
    await this.redis.multi().hset(REPLICAS, key, value).hset(IN_FLIGHT, key, inFlight).exec();
  }

  async removeReplica(moduleName: string, replicaId: string): Promise<void> {
    await this.redis
      .multi()
      .hdel(REPLICAS, field(moduleName, replicaId))
      .hdel(IN_FLIGHT, field(moduleName, replicaId))
      .exec();
  }

  async setInFlight(moduleName: string, replicaId: string, count: number): Promise<void> {
    await this.redis.hset(IN_FLIGHT, field(moduleName, replicaId), count);
  }

  async snapshot(now: number): Promise<Map<string, ModuleLiveState>> {
    const [replicas, inFlight] = await Promise.all([
      this.redis.hgetall(REPLICAS),
      this.redis.hgetall(IN_FLIGHT),
    ]);
    const modules = new Map<string, ModuleLiveState>();
    this.memo.retain(Object.keys(replicas));
    for (const [key, raw] of Object.entries(replicas)) {
      const replica = this.memo.parse(key, raw);
      if (replica.expiresAt <= now) continue;
      const running = Math.max(0, Number(inFlight[key] ?? 0));
      const state = modules.get(replica.moduleName) ?? emptyLiveState();
      state.liveReplicas += 1;
      state.capacity += replica.capacity;
      state.inFlight += running;
      state.replicas.push({ ...replica, inFlight: running });
      modules.set(replica.moduleName, state);
    }
    return modules;
  }

  async pruneExpired(now: number): Promise<{ moduleName: string; replicaId: string }[]> {
    const replicas = await this.redis.hgetall(REPLICAS);
    const removed: { moduleName: string; replicaId: string }[] = [];
    for (const raw of Object.values(replicas)) {
      const replica = JSON.parse(raw) as ReplicaInfo & { expiresAt: number };
      if (replica.expiresAt > now) continue;
      await this.removeReplica(replica.moduleName, replica.replicaId);
      removed.push({ moduleName: replica.moduleName, replicaId: replica.replicaId });
    }
    // Counters whose replica is gone entirely (its heartbeat entry already pruned elsewhere).
    const counters = await this.redis.hkeys(IN_FLIGHT);
    const orphans = counters.filter((key) => !(key in replicas));
    if (orphans.length > 0) await this.redis.hdel(IN_FLIGHT, ...orphans);
    return removed;
  }
}
