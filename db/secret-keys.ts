import { type Keyring, parseKeyring } from '../core/config-fields';

/** SECRETS_KEYS as the stores that seal with them hold it: absent, `ring()` refuses clearly. */
export class SecretKeys {
  private readonly keyring: Keyring | null;

  constructor(keys: string | undefined) {
    this.keyring = keys ? parseKeyring(keys) : null;
  }

  /** False without SECRETS_KEYS: nothing can be sealed or opened. */
  get configured(): boolean {
    return this.keyring !== null;
  }

  ring(): Keyring {
    if (!this.keyring) throw new Error('secrets are not configured (SECRETS_KEYS)');
    return this.keyring;
  }
}
