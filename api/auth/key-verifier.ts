import { keyMatches, keyPrefix } from '../../core/adapters/crypto/api-keys';
import { UnavailableError } from '../../core/domain/errors';
import type { Logger } from '../../core/observability/logger';
import type { ApiKeysRepository } from '../../db/api-keys.repository';
import type { ApiKeyRow } from '../../db/schema';

export interface AuthenticatedKey {
  id: string;
  name: string;
  scopes: string[];
}

export type KeyFailure = 'missing' | 'malformed' | 'unknown' | 'expired' | 'revoked';
export type Verification = { ok: true; key: AuthenticatedKey } | { ok: false; reason: KeyFailure };

interface CacheEntry {
  row: ApiKeyRow | null;
  until: number;
}

const MAX_CACHED = 10_000;

/**
 * Checks presented keys against `api_keys`. Rows (and misses) are cached per prefix for `cacheMs`,
 * so a key is not looked up per request; a revoke is told to every replica at once (`evict`, from
 * the revocation feed, ADR 0053), and without that feed takes effect within `cacheMs`. While
 * Postgres is unreachable, cached rows are used past that time. `last_used_at` is written at most
 * once per `touchIntervalMs` per key.
 */
export class ApiKeyVerifier {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly touched = new Map<string, number>();

  constructor(
    private readonly keys: ApiKeysRepository,
    private readonly options: {
      cacheMs: number;
      touchIntervalMs: number;
      logger: Logger;
      now?: () => number;
    },
  ) {}

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  async verify(presented: string | undefined): Promise<Verification> {
    if (!presented) return { ok: false, reason: 'missing' };
    const prefix = keyPrefix(presented);
    if (!prefix) return { ok: false, reason: 'malformed' };
    const row = await this.lookup(prefix);
    if (!row || !keyMatches(presented, row.hash)) return { ok: false, reason: 'unknown' };
    const now = this.now();
    if (row.revokedAt && row.revokedAt.getTime() <= now) return { ok: false, reason: 'revoked' };
    if (row.expiresAt && row.expiresAt.getTime() <= now) return { ok: false, reason: 'expired' };
    this.touch(row.id, now);
    return { ok: true, key: { id: row.id, name: row.name, scopes: row.scopes } };
  }

  /** Forgets cached rows. */
  forget(): void {
    this.cache.clear();
  }

  /**
   * Forgets one key's cached row (it was revoked here or on another replica): its next use reads
   * `api_keys`. Not even an outage of Postgres brings the old row back.
   */
  evict(keyPrefix: string): void {
    this.cache.delete(keyPrefix);
  }

  /**
   * Revocations may have been missed (the feed was away): every cached row is read again at its next
   * use, and is still used if Postgres cannot answer then (as an expired entry is).
   */
  expireAll(): void {
    for (const entry of this.cache.values()) entry.until = 0;
  }

  private async lookup(prefix: string): Promise<ApiKeyRow | null> {
    const now = this.now();
    const cached = this.cache.get(prefix);
    if (cached && cached.until > now) return cached.row;
    let row: ApiKeyRow | null;
    try {
      row = await this.keys.findByPrefix(prefix);
    } catch (err) {
      // Postgres is away: a key seen before keeps working (robots can still be read from the cache
      // and Temporal, ADR 0006); a key never seen cannot be checked.
      if (cached) return cached.row;
      this.options.logger.warn({ err }, 'api key lookup failed');
      throw new UnavailableError('cannot check the API key now; retry later');
    }
    // Bounded: a flood of made-up prefixes must not grow memory without limit.
    if (this.cache.size >= MAX_CACHED) this.cache.clear();
    this.cache.set(prefix, { row, until: now + this.options.cacheMs });
    return row;
  }

  private touch(id: string, now: number): void {
    const last = this.touched.get(id) ?? 0;
    if (now - last < this.options.touchIntervalMs) return;
    if (this.touched.size >= MAX_CACHED) this.touched.clear();
    this.touched.set(id, now);
    this.keys.touch(id, new Date(now)).catch((err: unknown) => {
      this.options.logger.warn({ err, keyId: id }, 'could not record api key last use');
    });
  }
}
