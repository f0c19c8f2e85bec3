import type { Command } from 'commander';
import { loadConfigOrExit } from '../../core/config';
import type { SecretStore } from '../../db/secret-store';
import { toSecretView } from '../../db/views/secret.view';
import { EXIT, print } from '../command-helpers';
import { withRunningLauncher } from '../launcher-state';

// Like `rpa keys`, these work on the database directly with this process's SECRETS_KEYS (or those
// of a running `rpa start`): rotation needs no API key and no running API. As there, the database
// code is required only when a secrets command runs.

async function withStore(action: (store: SecretStore) => Promise<number>): Promise<void> {
  const { createDatabase } = require('../../db/client') as typeof import('../../db/client');
  const { createSecretStore } = require('../../db/secret-store') as typeof import('../../db/secret-store');
  const config = withRunningLauncher(loadConfigOrExit());
  try {
    const database = await createDatabase({ ...config, DATABASE_POOL_SIZE: 1 });
    try {
      process.exitCode = await action(createSecretStore(config, database));
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
      withStore(async (store) => {
        print((await store.repository.list()).map(toSecretView));
        return EXIT.ok;
      }),
    );

  secrets
    .command('rotate')
    .description('re-encrypt every secret under the first SECRETS_KEYS key')
    .action(async () =>
      withStore(async (store) => {
        if (!store.configured) {
          process.stderr.write('SECRETS_KEYS is not set\n');
          return EXIT.usage;
        }
        print({ reEncrypted: await store.rotate() });
        return EXIT.ok;
      }),
    );
}
