import { keyMatches, keyPrefix } from '../core/adapters/crypto/api-keys';
import { ApiKeysRepository } from '../db/api-keys.repository';
import { createDatabase } from '../db/client';
import { launcherApiKey, saveLauncherApiKey } from './launcher-state';

/**
 * The launcher's local admin key: the one kept in .data/launcher.json while it is still valid in
 * the database, else a new one (first start, or the database was reset). `created` says whether
 * to print it.
 */
export async function ensureLocalApiKey(
  databaseUrl: string,
  dataDir: string,
): Promise<{ key: string; created: boolean }> {
  const database = await createDatabase({
    DATABASE_URL: databaseUrl,
    DATABASE_POOL_SIZE: 1,
    DATABASE_READ_POOL_SIZE: 1,
    DATABASE_NAMED_STATEMENTS: false,
    PGLITE_DIR: '',
  });
  try {
    const keys = new ApiKeysRepository(database.db);
    const saved = launcherApiKey(dataDir);
    const prefix = saved ? keyPrefix(saved) : null;
    const row = prefix ? await keys.findByPrefix(prefix) : null;
    const usable =
      saved &&
      row &&
      keyMatches(saved, row.hash) &&
      !row.revokedAt &&
      (!row.expiresAt || row.expiresAt.getTime() > Date.now());
    if (usable) return { key: saved, created: false };
    const { key } = await keys.create({ name: 'local-admin', scopes: ['admin'], expiresAt: null });
    saveLauncherApiKey(dataDir, key);
    return { key, created: true };
  } finally {
    await database.close();
  }
}
