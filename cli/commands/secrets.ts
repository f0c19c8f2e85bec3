import type { Command } from 'commander';
import { loadConfigOrExit } from '../../core/config';
import type { SecretStore } from '../../db/secret-store';
import { toSecretView } from '../../db/views/secret.view';
import { cliActor } from '../cli-actor';
import { EXIT, print } from '../command-helpers';
import { withRunningLauncher } from '../launcher-state';

// Like `rpa keys`, these work on the database directly with this process's SECRETS_KEYS (or those
// of a running `rpa start`): rotation needs no API key and no running API. As there, the database
// code is required only when a secrets command runs.

interface SecretsCommand {
  store: SecretStore;
  /** The rotation and its audit row (actor `cli:<user>@<host>`) in one transaction (ADR 0033). */
  auditedRotate(): Promise<number>;
}

async function withStore(action: (command: SecretsCommand) => Promise<number>): Promise<void> {
  const { createDatabase } = require('../../db/client') as typeof import('../../db/client');
  const { SecretStore } = require('../../db/secret-store') as typeof import('../../db/secret-store');
  const { SecretsRepository } =
    require('../../db/secrets.repository') as typeof import('../../db/secrets.repository');
  const { auditedTransaction } =
    require('../../db/audited-transaction') as typeof import('../../db/audited-transaction');
  const config = withRunningLauncher(loadConfigOrExit());
  try {
    const database = await createDatabase({ ...config, DATABASE_POOL_SIZE: 1 });
    const { TriggersRepository } =
      require('../../db/triggers.repository') as typeof import('../../db/triggers.repository');
    // Trigger signing secrets are sealed under the same keys: a rotation moves them too.
    const storeOn = (db: typeof database.db) =>
      new SecretStore(new SecretsRepository(db), config.SECRETS_KEYS, [
        new TriggersRepository(db, config.SECRETS_KEYS),
      ]);
    try {
      process.exitCode = await action({
        store: storeOn(database.db),
        // As POST /v1/secrets/rotate is recorded: `secrets.rotate`, no target.
        auditedRotate: () =>
          auditedTransaction(database.db, { actor: cliActor(), action: 'secrets.rotate' }, async (tx) => ({
            value: await storeOn(tx).rotate(),
            target: null,
          })),
      });
    } finally {
      await database.close();
    }
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = EXIT.api;
  }
}

export function registerSecretCommands(program: Command): void {
  const secrets = program
    .command('secrets')
    .description('list and rotate robot secrets (works on the database)');

  secrets
    .command('list')
    .description('secret names and the key each is encrypted with; never a value')
    .action(async () =>
      withStore(async ({ store }) => {
        print((await store.repository.list()).map(toSecretView));
        return EXIT.ok;
      }),
    );

  secrets
    .command('rotate')
    .description('re-encrypt every secret under the first SECRETS_KEYS key')
    .action(async () =>
      withStore(async ({ store, auditedRotate }) => {
        if (!store.configured) {
          process.stderr.write('SECRETS_KEYS is not set\n');
          return EXIT.usage;
        }
        print({ reEncrypted: await auditedRotate() });
        return EXIT.ok;
      }),
    );
}
