import { createKeyRevocations } from '../core/adapters/redis/key-revocations.redis';
import { redisConnector } from '../core/adapters/redis/redis.client';
import type { Config } from '../core/config';
import { type KeyRevocations, noKeyRevocations } from '../core/domain/key-revocations';
import type { Logger } from '../core/observability/logger';
import { ApiKeysRepository } from '../db/api-keys.repository';
import { AuditRepository } from '../db/audit.repository';
import type { DatabaseHandle } from '../db/client';
import { createSecretStore, type SecretStore } from '../db/secret-store';
import { ApiKeyVerifier } from './auth/key-verifier';
import { FallbackWindowStore } from './rate-limit/window-store.fallback';
import { RedisWindowStore } from './rate-limit/window-store.redis';

/** The API's security pieces that outlive one request; built once per process (or test system). */
export interface Security {
  keys: ApiKeysRepository;
  verifier: ApiKeyVerifier;
  /** Revocations told to every replica; the verifier listens (ADR 0053). */
  revocations: KeyRevocations;
  audit: AuditRepository;
  limiter: FallbackWindowStore;
  secrets: SecretStore;
  /** Counters for logs and metrics. */
  stats: { auditFailures: number };
  close(): Promise<void>;
}

/**
 * `redis: false` limits in memory only (per process) and hears no revocations of other replicas:
 * for an app built without its own Redis connections, e.g. a second app in a test. The API process
 * and test systems use REDIS_URL.
 */
export function createSecurity(
  config: Config,
  database: DatabaseHandle,
  logger: Logger,
  options: { redis?: boolean } = {},
): Security {
  const keys = new ApiKeysRepository(database.db);
  const verifier = new ApiKeyVerifier(keys, {
    cacheMs: config.API_KEY_CACHE_SECONDS * 1000,
    touchIntervalMs: config.API_KEY_LAST_USED_INTERVAL_SECONDS * 1000,
    logger,
  });
  const connect = options.redis !== false ? redisConnector(config) : null;
  const redis = connect ? new RedisWindowStore(connect('rateLimit')) : null;
  const revocations = connect ? createKeyRevocations(config) : noKeyRevocations;
  revocations.listen({
    revoked: (prefix) => verifier.evict(prefix),
    resync: () => verifier.expireAll(),
  });
  return {
    keys,
    verifier,
    revocations,
    audit: new AuditRepository(database.db, database.readDb),
    limiter: new FallbackWindowStore(redis, logger),
    secrets: createSecretStore(config, database),
    stats: { auditFailures: 0 },
    async close() {
      await redis?.close();
      await revocations.close();
    },
  };
}
