import { RedisJsonHash } from '../core/adapters/redis/json-hash.redis';
import { RedisModuleStateStore } from '../core/adapters/redis/module-state.redis';
import { redisConnector } from '../core/adapters/redis/redis.client';
import {
  encodeRoutingChange,
  ROUTING_HASHES,
  routingChangeFeed,
  routingChangesChannel,
} from '../core/adapters/redis/routing-changes.redis';
import type { Config } from '../core/config';
import { ModuleCircuitBreakers } from '../core/domain/circuit-breakers';
import type { JsonHash } from '../core/domain/json-hash';
import type { ModuleStateStore } from '../core/domain/module-state';
import type { PerformanceStats } from '../core/domain/performance';
import type { DatabaseHandle } from './client';
import { PostgresJsonHash } from './json-hash.postgres';
import { PostgresModuleStateStore } from './module-state.postgres';
import { ModulesRepository } from './modules.repository';
import { RoutingSnapshot } from './routing-snapshot';
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
  /**
   * The in-process routing state selection decides from (ADR 0041): with Redis only, and unless
   * ROUTING_SNAPSHOT_REFRESH_SECONDS is 0. It connects on its first use (control workers).
   */
  routingSnapshot: RoutingSnapshot | null;
  close(): Promise<void>;
}

export function createModuleStores(config: Config, database: DatabaseHandle): ModuleStores {
  const modules = new ModulesRepository(database.db);
  const connect = redisConnector(config);
  const redis = connect?.('routing') ?? null;
  const channel = routingChangesChannel(config.REDIS_KEY_PREFIX);
  const feed = routingChangeFeed(channel);
  const hash = <T>(key: string, published = false): JsonHash<T> =>
    redis
      ? new RedisJsonHash<T>(redis, key, published ? feed : undefined)
      : new PostgresJsonHash<T>(database.db, key);
  const state = redis ? new RedisModuleStateStore(redis, feed) : new PostgresModuleStateStore(database.db);
  const circuits = new ModuleCircuitBreakers(hash(ROUTING_HASHES.circuits, true), {
    threshold: config.CIRCUIT_FAILURE_THRESHOLD,
    halfOpenAfterMs: config.CIRCUIT_HALF_OPEN_AFTER_SECONDS * 1000,
  });
  const performance = hash<PerformanceStats>(ROUTING_HASHES.performance, true);
  // Only the routing table's invalidation is published: a snapshot reads the table again itself.
  const announce = redis
    ? () => redis.publish(channel, encodeRoutingChange(ROUTING_HASHES.routing, 'table', null))
    : undefined;
  const routingTable = new RoutingTable(
    hash(ROUTING_HASHES.routing),
    modules,
    config.ROUTING_TABLE_TTL_SECONDS,
    announce,
  );
  const routingSnapshot =
    connect && redis && state instanceof RedisModuleStateStore && config.ROUTING_SNAPSHOT_REFRESH_SECONDS > 0
      ? new RoutingSnapshot(
          {
            routes: (now) => routingTable.routes(now),
            replicas: () => state.stored(),
            circuits: () => circuits.stored(),
            circuitState: (stored, now) => circuits.stateAt(stored, now),
            circuitChangesAt: (stored) => circuits.changesAt(stored),
            performance: () => performance.all(),
            subscriber: () => connect('routingChanges'),
            channel,
          },
          { refreshMs: config.ROUTING_SNAPSHOT_REFRESH_SECONDS * 1000 },
        )
      : null;
  return {
    modules,
    stepKinds: new StepKindsRepository(database.db),
    state,
    circuits,
    performance,
    routingTable,
    routingSnapshot,
    async close() {
      await routingSnapshot?.close();
      redis?.disconnect();
    },
  };
}
