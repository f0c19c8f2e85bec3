import { hostname } from 'node:os';
import { type CacheManager, cacheKey } from '../core/adapters/redis/cache-manager';
import { NotFoundError, UnavailableError, ValidationError } from '../core/domain/errors';
import { type CandidateScore, scoreModule } from '../core/domain/load-balancer';
import type { LoadBalancerWeights } from '../core/domain/load-balancer-weights';
import type { RobotTypeDefinition } from '../core/domain/robot-types';
import type { StepDeclaration } from '../core/domain/step-declarations';
import { moduleStepKinds } from '../core/domain/step-kinds';
import { moduleTaskQueue } from '../core/domain/task-queues';
import { moduleSnapshots } from '../db/module-snapshots';
import type { ModuleStores } from '../db/module-stores';
import type { ModuleRow } from '../db/schema';
import type { ModuleRegistry } from './module-registry';

/**
 * Replica liveness lives in the module state store (Redis, or Postgres without it). When that store
 * is away (a Redis outage) the replica is not at fault and must simply beat again: a 503 with
 * Retry-After says so, where an unhandled error answered 500 and counted as an API fault.
 */
async function liveStateWrite(what: string, write: () => Promise<void>): Promise<void> {
  try {
    await write();
  } catch {
    // The store's own error stays out of the answer (it names internals), as for any 500.
    throw new UnavailableError(`the module state store is unavailable; ${what} was not recorded: retry`, 1);
  }
}

export interface ModuleView {
  name: string;
  version: string;
  isActive: boolean;
  draining: boolean;
  healthStatus: string;
  performanceScore: number;
  performanceTier: string;
  supportedRobotTypes: string[];
  supportedSteps: string[];
  taskQueue: string;
  live: { replicas: number; capacity: number; inFlight: number; utilisation: number | null };
  circuit: string;
  robots: Record<string, number>;
  /** With ?robotType=: how the load balancer scores this module for that type right now. */
  routing?: CandidateScore;
  registeredAt: string;
  updatedAt: string;
}

export const moduleListKey = (robotType?: string) =>
  cacheKey<ModuleView[]>('moduleHealth', `list:${robotType ?? '*'}`);

export class ModulesService {
  constructor(
    private readonly moduleStores: ModuleStores,
    private readonly options: {
      weights: LoadBalancerWeights;
      targetLatencyMs: number;
      /** Built-in and registered robot types (?robotType= scores modules for one). */
      robotTypes: { current(name: string): Promise<RobotTypeDefinition | undefined> };
    },
    private readonly cache: CacheManager,
    private readonly registry: ModuleRegistry,
  ) {}

  /** Registry changes show at once; liveness and robot counts may lag by the family's TTL. */
  private async registryChanged(): Promise<void> {
    await this.moduleStores.routingTable.invalidate();
    await this.cache.invalidate('moduleHealth');
  }

  /**
   * Registers an external module (or updates one) from its registration document (docs/api.md, Modules),
   * the same way this project's module workers register.
   */
  async register(
    document: unknown,
  ): Promise<{ module: ModuleView & { steps: StepDeclaration[] }; created: boolean }> {
    const { row, created, steps } = await this.registry.register(document, {
      registeredBy: 'api',
      apiHost: hostname(),
    });
    return { module: { ...(await this.get(row.moduleName)), steps }, created };
  }

  /** Liveness of an external module's replica (module workers of this project heartbeat directly). */
  async heartbeat(
    name: string,
    replica: { replicaId: string; capacity: number },
    ttlSeconds: number,
  ): Promise<ModuleView> {
    await this.requireRow(name);
    await liveStateWrite('the heartbeat', () =>
      this.moduleStores.state.heartbeat(
        {
          moduleName: name,
          replicaId: replica.replicaId,
          capacity: replica.capacity,
          host: 'external',
          pid: 0,
          startedAt: '',
        },
        ttlSeconds,
        Date.now(),
      ),
    );
    return this.get(name);
  }

  /**
   * Deregisters one replica at once (a module shutting down): routing stops counting it now rather
   * than when its heartbeat expires. An unknown replica is already gone: not an error.
   */
  async removeReplica(name: string, replicaId: string): Promise<void> {
    await this.requireRow(name);
    await liveStateWrite('the deregistration', () => this.moduleStores.state.removeReplica(name, replicaId));
    await this.cache.invalidate('moduleHealth');
  }

  /** The list counts robots per module and status (a GROUP BY): cached briefly for dashboards. */
  async list(robotType?: string): Promise<ModuleView[]> {
    return this.cache.getOrLoad(moduleListKey(robotType), async () =>
      this.views(await this.moduleStores.modules.list(), robotType),
    );
  }

  async get(name: string, robotType?: string): Promise<ModuleView> {
    const [view] = await this.views([await this.requireRow(name)], robotType);
    if (!view) throw new NotFoundError(`module ${name} not found`);
    return view;
  }

  async setDraining(name: string, draining: boolean): Promise<ModuleView> {
    await this.requireRow(name);
    await this.moduleStores.modules.update(name, { draining });
    await this.registryChanged();
    return this.get(name);
  }

  async deactivate(name: string): Promise<ModuleView> {
    await this.requireRow(name);
    await this.moduleStores.modules.update(name, { isActive: false });
    await this.registryChanged();
    return this.get(name);
  }

  private async requireRow(name: string): Promise<ModuleRow> {
    const row = await this.moduleStores.modules.get(name);
    if (!row) throw new NotFoundError(`module ${name} not found`);
    return row;
  }

  private async views(rows: ModuleRow[], robotType?: string): Promise<ModuleView[]> {
    const now = Date.now();
    const definition = robotType ? await this.options.robotTypes.current(robotType) : undefined;
    if (robotType && !definition) {
      throw new ValidationError(`unknown robot type "${robotType}"`, {
        errors: [{ field: 'query.robotType', message: `unknown robot type "${robotType}"` }],
      });
    }
    const [snapshots, counts] = await Promise.all([
      moduleSnapshots(this.moduleStores, this.options.targetLatencyMs, now),
      this.moduleStores.modules.robotCounts(),
    ]);
    const byName = new Map(snapshots.map((snapshot) => [snapshot.name, snapshot]));
    return rows.map((row) => {
      const snapshot = byName.get(row.moduleName);
      const capacity = snapshot?.capacity ?? 0;
      return {
        name: row.moduleName,
        version: row.moduleVersion,
        isActive: row.isActive,
        draining: row.draining,
        healthStatus: row.healthStatus,
        performanceScore: snapshot?.performanceScore ?? row.performanceScore,
        performanceTier: row.performanceTier,
        supportedRobotTypes: row.supportedRobotTypes,
        supportedSteps: row.supportedSteps,
        taskQueue: moduleTaskQueue(row.moduleName),
        live: {
          replicas: snapshot?.liveReplicas ?? 0,
          capacity,
          inFlight: snapshot?.inFlight ?? 0,
          utilisation: capacity > 0 ? Number(((snapshot?.inFlight ?? 0) / capacity).toFixed(3)) : null,
        },
        circuit: snapshot?.circuit ?? 'closed',
        robots: counts.get(row.moduleName) ?? {},
        ...(definition && snapshot
          ? {
              routing: scoreModule(
                snapshot,
                { robotType: definition.name, steps: moduleStepKinds(definition.steps) },
                this.options.weights,
              ),
            }
          : {}),
        registeredAt: row.registeredAt.toISOString(),
        updatedAt: row.updatedAt.toISOString(),
      };
    });
  }
}
