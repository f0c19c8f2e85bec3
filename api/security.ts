import type { Config } from '../core/config';
import type { Logger } from '../core/logger';
import { ApiKeysRepository } from '../db/api-keys.repository';
import { AuditRepository } from '../db/audit.repository';
import type { DatabaseHandle } from '../db/client';
import { ApiKeyVerifier } from './auth/key-verifier';

/** The API's security pieces that outlive one request; built once per process (or test system). */
export interface Security {
  keys: ApiKeysRepository;
  verifier: ApiKeyVerifier;
  audit: AuditRepository;
  /** Counters for logs and metrics: audit writes that failed. */
  stats: { auditFailures: number };
  close(): Promise<void>;
}

export function createSecurity(config: Config, database: DatabaseHandle, logger: Logger): Security {
  const keys = new ApiKeysRepository(database.db);
  const verifier = new ApiKeyVerifier(keys, {
    cacheMs: config.API_KEY_CACHE_SECONDS * 1000,
    touchIntervalMs: config.API_KEY_LAST_USED_INTERVAL_SECONDS * 1000,
    logger,
  });
  return {
    keys,
    verifier,
    audit: new AuditRepository(database.db, database.readDb),
    stats: { auditFailures: 0 },
    async close() {},
  };
}
