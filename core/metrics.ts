import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * One Prometheus registry per process. API, control worker and module workers each expose it
 * (`/metrics` on the API, a metrics port on workers); series are created here once so that every
 * family has a single definition and name.
 */
export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry, prefix: 'rpa_' });

const registers = [metricsRegistry];

export const cacheRequests = new Counter({
  name: 'rpa_cache_requests_total',
  help: 'Cache lookups by data family and result (hit, miss, error, bypass while the Redis circuit is open).',
  labelNames: ['family', 'result'] as const,
  registers,
});

export const cacheWrites = new Counter({
  name: 'rpa_cache_writes_total',
  help: 'Cache writes and invalidations by data family and result (ok, error, bypass).',
  labelNames: ['family', 'op', 'result'] as const,
  registers,
});

export const cacheCircuitOpen = new Gauge({
  name: 'rpa_cache_circuit_open',
  help: '1 while the circuit breaker around Redis is open (requests skip the cache).',
  registers,
});

export const dbQueryDuration = new Histogram({
  name: 'rpa_db_query_duration_seconds',
  help: 'Database query time by pool, statement verb and table.',
  labelNames: ['pool', 'operation', 'table', 'outcome'] as const,
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15],
  registers,
});

export const httpRequestDuration = new Histogram({
  name: 'rpa_http_request_duration_seconds',
  help: 'API request time by method, route pattern and status code.',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers,
});

/** Pools report their counts when scraped; several pools of one name (tests) are summed. */
export interface PoolCounts {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}
const pools = new Map<PoolCounts, string>();

export function watchPool(name: string, pool: PoolCounts): () => void {
  pools.set(pool, name);
  return () => pools.delete(pool);
}

new Gauge({
  name: 'rpa_db_pool_connections',
  help: 'Database pool connections by pool and state (in_use, idle, waiting for a connection).',
  labelNames: ['pool', 'state'] as const,
  registers,
  collect() {
    this.reset();
    for (const [pool, name] of pools) {
      this.inc({ pool: name, state: 'in_use' }, pool.totalCount - pool.idleCount);
      this.inc({ pool: name, state: 'idle' }, pool.idleCount);
      this.inc({ pool: name, state: 'waiting' }, pool.waitingCount);
    }
  },
});
