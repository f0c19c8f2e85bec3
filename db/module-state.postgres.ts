import { and, eq, gt, lte } from 'drizzle-orm';
import {
  emptyLiveState,
  type ModuleLiveState,
  type ModuleStateStore,
  type ReplicaInfo,
} from '../core/domain/module-state';
import type { Database } from './client';
import { moduleReplicas } from './schema';

/** The module state store on Postgres, for the embedded mode without Redis (twin of module-state.redis.ts). */
export class PostgresModuleStateStore implements ModuleStateStore {
  constructor(private readonly db: Database) {}

  async heartbeat(replica: ReplicaInfo, ttlSeconds: number, now: number, inFlight?: number): Promise<void> {
    const expiresAt = new Date(now + ttlSeconds * 1000);
    const info = { host: replica.host, pid: replica.pid, startedAt: replica.startedAt };
    await this.db
      .insert(moduleReplicas)
      .values({
        moduleName: replica.moduleName,
        replicaId: replica.replicaId,
        capacity: replica.capacity,
        info,
        expiresAt,
        ...(inFlight === undefined ? {} : { inFlight }),
      })
      .onConflictDoUpdate({
        target: [moduleReplicas.moduleName, moduleReplicas.replicaId],
        set: { capacity: replica.capacity, info, expiresAt, ...(inFlight === undefined ? {} : { inFlight }) },
      });
  }

  async removeReplica(moduleName: string, replicaId: string): Promise<void> {
    await this.db
      .delete(moduleReplicas)
      .where(and(eq(moduleReplicas.moduleName, moduleName), eq(moduleReplicas.replicaId, replicaId)));
  }

  async setInFlight(moduleName: string, replicaId: string, count: number): Promise<void> {
    await this.db
      .update(moduleReplicas)
      .set({ inFlight: count })
      .where(and(eq(moduleReplicas.moduleName, moduleName), eq(moduleReplicas.replicaId, replicaId)));
  }

  async snapshot(now: number): Promise<Map<string, ModuleLiveState>> {
    const rows = await this.db
      .select()
      .from(moduleReplicas)
      .where(gt(moduleReplicas.expiresAt, new Date(now)));
    const modules = new Map<string, ModuleLiveState>();
    for (const row of rows) {
      const info = row.info as { host?: string; pid?: number; startedAt?: string };
      const state = modules.get(row.moduleName) ?? emptyLiveState();
      state.liveReplicas += 1;
      state.capacity += row.capacity;
      state.inFlight += row.inFlight;
      state.replicas.push({
        moduleName: row.moduleName,
        replicaId: row.replicaId,
        capacity: row.capacity,
        host: info.host ?? '',
        pid: info.pid ?? 0,
        startedAt: info.startedAt ?? '',
        inFlight: row.inFlight,
        expiresAt: row.expiresAt.getTime(),
      });
      modules.set(row.moduleName, state);
    }
    return modules;
  }

  async pruneExpired(now: number): Promise<{ moduleName: string; replicaId: string }[]> {
    return this.db
      .delete(moduleReplicas)
      .where(lte(moduleReplicas.expiresAt, new Date(now)))
      .returning({ moduleName: moduleReplicas.moduleName, replicaId: moduleReplicas.replicaId });
  }
}
