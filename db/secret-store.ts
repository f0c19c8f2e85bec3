import { open, seal } from '../core/adapters/crypto/secret-box';
import type { Config } from '../core/config';
import type { Keyring } from '../core/config-fields';
import type { DatabaseHandle } from './client';
import { SecretKeys } from './secret-keys';
import { SecretsRepository } from './secrets.repository';
import { TriggersRepository } from './triggers.repository';

/** Seals, opens and rotates secrets; `null` keyring: secrets are not configured here. */
export class SecretStore {
  private readonly keys: SecretKeys;

  constructor(
    readonly repository: SecretsRepository,
    keys: string | undefined,
    /** Other secrets sealed under the same keys (trigger signing secrets): rotated with these. */
    private readonly alsoSealed: { rotate(): Promise<number> }[] = [],
  ) {
    this.keys = new SecretKeys(keys);
  }

  get configured(): boolean {
    return this.keys.configured;
  }

  private ring(): Keyring {
    return this.keys.ring();
  }

  put(name: string, value: string) {
    return this.repository.put(name, seal(this.ring(), name, value));
  }

  /** The plain value, or null when there is no such secret. Only the module worker calls this. */
  async reveal(name: string): Promise<string | null> {
    const row = await this.repository.get(name);
    return row ? open(this.ring(), name, row) : null;
  }

  /** Re-encrypts every secret not under the current key, trigger secrets too; returns how many. */
  async rotate(): Promise<number> {
    const ring = this.ring();
    const stale = await this.repository.notUnder(ring.current.id);
    for (const row of stale) {
      await this.repository.replaceSealed(row.name, seal(ring, row.name, open(ring, row.name, row)));
    }
    let others = 0;
    for (const store of this.alsoSealed) others += await store.rotate();
    return stale.length + others;
  }
}

/** The process's secret store: the API's secrets routes, email intake's passwords, step params. */
export function createSecretStore(
  config: Pick<Config, 'SECRETS_KEYS'>,
  database: DatabaseHandle,
): SecretStore {
  return new SecretStore(new SecretsRepository(database.db), config.SECRETS_KEYS, [
    new TriggersRepository(database.db, config.SECRETS_KEYS),
  ]);
}
