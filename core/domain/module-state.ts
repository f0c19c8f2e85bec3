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

/** A replica as the store keeps it: with the time its heartbeat runs out. */
export type StoredReplica = ReplicaInfo & { expiresAt: number };

/**
 * Groups the live replicas (expiry after `now`) by module, each with its in-flight count (never
 * below 0: a decrement may land after a prune). Shared by the store's snapshot and the routing
 * snapshot, so both count a module the same way.
 */
export function liveStates(
  replicas: Iterable<[field: string, replica: StoredReplica]>,
  inFlightOf: (field: string) => number,
  now: number,
): Map<string, ModuleLiveState> {
  const modules = new Map<string, ModuleLiveState>();
  for (const [field, replica] of replicas) {
    if (replica.expiresAt <= now) continue;
    const running = Math.max(0, inFlightOf(field) || 0);
    const state = modules.get(replica.moduleName) ?? emptyLiveState();
    state.liveReplicas += 1;
    state.capacity += replica.capacity;
    state.inFlight += running;
    state.replicas.push({ ...replica, inFlight: running });
    modules.set(replica.moduleName, state);
  }
  return modules;
}
