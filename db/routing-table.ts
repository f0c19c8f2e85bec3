import type { JsonHash } from '../core/domain/json-hash';
import type { ModuleRoute, ModulesRepository } from './modules.repository';

interface CachedTable {
  expiresAt: number;
  routes: ModuleRoute[];
}

const FIELD = 'table';

/**
 * The module table as routing sees it, cached (shared hash) so a selection costs no SQL. Registry
 * changes invalidate it at once (and `announce` tells the routing snapshots to read it again); the
 * TTL bounds staleness from writers that cannot reach the cache.
 */
export class RoutingTable {
  constructor(
    private readonly cache: JsonHash<CachedTable>,
    private readonly modules: ModulesRepository,
    private readonly ttlSeconds: number,
    private readonly announce: () => Promise<unknown> = async () => undefined,
  ) {}

  async routes(now: number): Promise<ModuleRoute[]> {
    const cached = await this.cache.get(FIELD).catch(() => undefined);
    if (cached && cached.expiresAt > now) return cached.routes;
    const routes = await this.modules.routes();
    await this.cache.set(FIELD, { expiresAt: now + this.ttlSeconds * 1000, routes }).catch(() => undefined);
    return routes;
  }

  async invalidate(): Promise<void> {
    await this.cache.delete(FIELD).catch(() => undefined);
    await this.announce().catch(() => undefined);
  }
}
