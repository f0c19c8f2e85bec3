import { RedisJsonHash } from '../core/adapters/redis/json-hash.redis';
import { RedisModuleStateStore } from '../core/adapters/redis/module-state.redis';
import { redisConnector } from '../core/adapters/redis/redis.client';
import type { Config } from '../core/config';
import { ModuleCircuitBreakers } from '../core/domain/circuit-breakers';
import type { JsonHash } from '../core/domain/json-hash';
import type { ModuleStateStore } from '../core/domain/module-state';
import type { PerformanceStats } from '../core/domain/performance';
import type { DatabaseHandle } from './client';
import { PostgresJsonHash } from './json-hash.postgres';
import { PostgresModuleStateStore } from './module-state.postgres';
import { ModulesRepository } from './modules.repository';
import { RoutingTable } from './routing-table';
import { StepKindsRepository } from './step-kinds.repository';

/** Everything module routing shares between processes: in Redis when REDIS_URL is set, else in Postgres. */
export interface ModuleStores {
  modules: ModulesRepository;
  /** The step kinds modules declared (the step catalog). */
  stepKinds: StepKindsRepository;
  state: ModuleStateStore;
  circuits: ModuleCircuitBreakers;
  performance: JsonHash<PerformanceStats>;
  routingTable: RoutingTable;
  close(): Promise<void>;
}

export function createModuleStores(config: Config, database: DatabaseHandle): ModuleStores {
  const modules = new ModulesRepository(database.db);
  const redis = redisConnector(config)?.('routing') ?? null;
  const hash = <T>(key: string): JsonHash<T> =>
    redis ? new RedisJsonHash<T>(redis, key) : new PostgresJsonHash<T>(database.db, key);
  return {
    modules,
    stepKinds: new StepKindsRepository(database.db),
    state: redis ? new RedisModuleStateStore(redis) : new PostgresModuleStateStore(database.db),
    circuits: new ModuleCircuitBreakers(hash('module-circuits'), {
      threshold: config.CIRCUIT_FAILURE_THRESHOLD,
      halfOpenAfterMs: config.CIRCUIT_HALF_OPEN_AFTER_SECONDS * 1000,
    }),
    performance: hash('module-performance'),
    routingTable: new RoutingTable(hash('routing'), modules, config.ROUTING_TABLE_TTL_SECONDS),
    async close() {
      redis?.disconnect();
    },
  };
}
