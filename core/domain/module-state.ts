// Live state of module replicas: who is alive (heartbeats with an expiry) and how many step
// activities each runs now. Redis in production (core/adapters/redis/module-state.redis.ts); a Postgres
// table when no Redis is configured (db/module-state.postgres.ts).

export interface ReplicaInfo {
  moduleName: string;
  replicaId: string;
  capacity: number;
  host: string;
  pid: number;
  startedAt: string;
}

export interface ModuleLiveState {
  liveReplicas: number;
  capacity: number;
  inFlight: number;
  replicas: (ReplicaInfo & { inFlight: number; expiresAt: number })[];
}

export interface ModuleStateStore {
  /**
   * `inFlight`, when given, is the replica's own count of running steps, written as is: it restores
   * a counter that a prune dropped while the replica was alive but unheard (a network partition, a
   * pause longer than the TTL) or that missed deltas while the store was unreachable.
   */
  heartbeat(replica: ReplicaInfo, ttlSeconds: number, now: number, inFlight?: number): Promise<void>;
  removeReplica(moduleName: string, replicaId: string): Promise<void>;
  /**
   * The replica's own count of running steps, written as is (only that replica writes its count,
   * so an absolute value needs no atomic increment, and a later write repairs a lost one).
   */
  setInFlight(moduleName: string, replicaId: string, count: number): Promise<void>;
  /** Live replicas only (expiry in the future), grouped by module. */
  snapshot(now: number): Promise<Map<string, ModuleLiveState>>;
  /** Drops expired replicas and their in-flight counts (a replica killed mid-step never decrements). */
  pruneExpired(now: number): Promise<{ moduleName: string; replicaId: string }[]>;
}

export const emptyLiveState = (): ModuleLiveState => ({
  liveReplicas: 0,
  capacity: 0,
  inFlight: 0,
  replicas: [],
});
