import type { Config } from '../core/config';
import { createDatabase } from '../db/client';
import { createSecretStore } from '../db/secret-store';
import type { RevealSecret } from '../workers/secret-params';

// `{"$secret": name}` in a step's declared secret params is resolved here at the module, never in
// the workflow: the values are read from the project's secret store, which needs the database and
// the keyring. A module without them can still run every step that takes no secret.

export interface ModuleSecrets {
  reveal: RevealSecret;
  close(): Promise<void>;
}

/** Set DATABASE_URL and SECRETS_KEYS for a module whose steps take secrets. */
export const NO_SECRET_STORE =
  'this module has no secret store (start it with DATABASE_URL and SECRETS_KEYS set)';

export async function moduleSecrets(config: Config): Promise<ModuleSecrets> {
  if (!config.DATABASE_URL || !config.SECRETS_KEYS) {
    return {
      // The message follows `secret "name" is unavailable: ` in the step's failure (non-retryable).
      reveal: async () => {
        throw new Error(NO_SECRET_STORE);
      },
      close: async () => undefined,
    };
  }
  const database = await createDatabase({
    ...config,
    DATABASE_POOL_SIZE: Math.min(config.DATABASE_POOL_SIZE, 2),
  });
  const store = createSecretStore(config, database);
  return { reveal: (name) => store.reveal(name), close: () => database.close() };
}
