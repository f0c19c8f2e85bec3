import { ModuleCircuitBreakers } from '../core/circuit-breakers';
import type { Config } from '../core/config';
import { type JsonHash, RedisJsonHash } from '../core/json-hash';
import { type ModuleStateStore, RedisModuleStateStore } from '../core/module-state';
import type { PerformanceStats } from '../core/performance';
import { redisConnector } from '../core/redis';
import type { DatabaseHandle } from './client';
import { PostgresModuleStateStore } from './module-replicas.repository';
import { ModulesRepository } from './modules.repository';
import { RoutingTable } from './routing-table';
import { PostgresJsonHash } from './shared-hash.repository';

/** Everything module routing shares between processes: in Redis when REDIS_URL is set, else in Postgres. */
export interface ModuleStores {
  modules: ModulesRepository;
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
