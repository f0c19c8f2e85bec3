import type Redis from 'ioredis';
import {
  liveStates,
  type ModuleLiveState,
  type ModuleStateStore,
  type ReplicaInfo,
  type StoredReplica,
} from '../../domain/module-state';
import { ParseMemo } from './parse-memo';
import { ROUTING_HASHES, type RoutingChangeFeed } from './routing-changes.redis';

// The module state store on Redis; its Postgres twin is db/module-state.postgres.ts.

const REPLICAS = ROUTING_HASHES.replicas;
const IN_FLIGHT = ROUTING_HASHES.inFlight;
const field = (moduleName: string, replicaId: string) => `${moduleName}|${replicaId}`;

/**
 * Two hashes for all modules (names relative to the connection's REDIS_KEY_PREFIX), so a snapshot
 * is two round trips whatever the module count. Hash fields have no TTL before Redis 7.4, so each
 * replica carries its own `expiresAt`. Every write is also published on the routing change feed
 * (routing-changes.redis.ts) in the same round trip.
 */
export class RedisModuleStateStore implements ModuleStateStore {
  private readonly memo = new ParseMemo<StoredReplica>();

  constructor(
    private readonly redis: Redis,
    private readonly feed: RoutingChangeFeed,
  ) {}

  async heartbeat(replica: ReplicaInfo, ttlSeconds: number, now: number, inFlight?: number): Promise<void> {
    const key = field(replica.moduleName, replica.replicaId);
    const value = JSON.stringify({ ...replica, expiresAt: now + ttlSeconds * 1000 });
    const multi = this.feed.add(this.redis.multi().hset(REPLICAS, key, value), REPLICAS, key, value);
    if (inFlight !== undefined)
      this.feed.add(multi.hset(IN_FLIGHT, key, inFlight), IN_FLIGHT, key, String(inFlight));
    await multi.exec();
  }

  async removeReplica(moduleName: string, replicaId: string): Promise<void> {
    const key = field(moduleName, replicaId);
    const multi = this.feed.add(this.redis.multi().hdel(REPLICAS, key), REPLICAS, key, null);
    await this.feed.add(multi.hdel(IN_FLIGHT, key), IN_FLIGHT, key, null).exec();
  }

  async setInFlight(moduleName: string, replicaId: string, count: number): Promise<void> {
    const key = field(moduleName, replicaId);
    const value = String(count);
    await this.feed.add(this.redis.multi().hset(IN_FLIGHT, key, value), IN_FLIGHT, key, value).exec();
  }

  /** Both hashes as stored (expired replicas included), for a routing snapshot's full read. */
  async stored(): Promise<{ replicas: Map<string, StoredReplica>; inFlight: Map<string, number> }> {
    const [replicas, inFlight] = await Promise.all([
      this.redis.hgetall(REPLICAS),
      this.redis.hgetall(IN_FLIGHT),
    ]);
    this.memo.retain(Object.keys(replicas));
    return {
      replicas: new Map(Object.entries(replicas).map(([key, raw]) => [key, this.memo.parse(key, raw)])),
      inFlight: new Map(Object.entries(inFlight).map(([key, raw]) => [key, Number(raw)])),
    };
  }

  async snapshot(now: number): Promise<Map<string, ModuleLiveState>> {
    const [replicas, inFlight] = await Promise.all([
      this.redis.hgetall(REPLICAS),
      this.redis.hgetall(IN_FLIGHT),
    ]);
    this.memo.retain(Object.keys(replicas));
    const parsed = Object.entries(replicas).map(([key, raw]): [string, StoredReplica] => [
      key,
      this.memo.parse(key, raw),
    ]);
    return liveStates(parsed, (key) => Number(inFlight[key] ?? 0), now);
  }

  async pruneExpired(now: number): Promise<{ moduleName: string; replicaId: string }[]> {
    const replicas = await this.redis.hgetall(REPLICAS);
    const removed: { moduleName: string; replicaId: string }[] = [];
    for (const raw of Object.values(replicas)) {
      const replica = JSON.parse(raw) as StoredReplica;
      if (replica.expiresAt > now) continue;
      await this.removeReplica(replica.moduleName, replica.replicaId);
      removed.push({ moduleName: replica.moduleName, replicaId: replica.replicaId });
    }
    // Counters whose replica is gone entirely (its heartbeat entry already pruned elsewhere).
    const counters = await this.redis.hkeys(IN_FLIGHT);
    const orphans = counters.filter((key) => !(key in replicas));
    if (orphans.length > 0) {
      const multi = this.redis.multi().hdel(IN_FLIGHT, ...orphans);
      for (const orphan of orphans) this.feed.add(multi, IN_FLIGHT, orphan, null);
      await multi.exec();
    }
    return removed;
  }
}
