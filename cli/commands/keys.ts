import type { Command } from 'commander';
import { parseDuration } from '../../core/adapters/crypto/api-keys';
import { type Config, loadConfigOrExit } from '../../core/config';
import { parseScopes } from '../../core/domain/api-key-scopes';
import type { ApiKeysRepository } from '../../db/api-keys.repository';
import { toApiKeyView } from '../../db/views/api-key.view';
import { cliActor } from '../cli-actor';
import { EXIT, print, UsageError } from '../command-helpers';
import { withRunningLauncher } from '../launcher-state';

// `rpa keys` works on the database directly (DATABASE_URL, a running `rpa start`, or the embedded
// PGlite), not through the API: the first key has to be made before any key exists.
// The database code is required when a keys command runs: every other command (`rpa start`, and the
// API and workers it launches) loads this file, and the ORM is a large part of a process's start-up.

function apiKeysRepository(): typeof import('../../db/api-keys.repository') {
  return require('../../db/api-keys.repository') as typeof import('../../db/api-keys.repository');
}

interface KeysCommand {
  config: Config;
  keys: ApiKeysRepository;
  /**
   * A change and its audit row (actor `cli:<user>@<host>`, the API's action names) in one
   * transaction: keys made or revoked here are on record as the API's are (ADR 0033).
   */
  audited<T>(
    action: string,
    change: (keys: ApiKeysRepository) => Promise<{ value: T; target: string | null; outcome?: 'failure' }>,
  ): Promise<T>;
}

async function withKeys(action: (command: KeysCommand) => Promise<number>): Promise<void> {
  const { createDatabase } = require('../../db/client') as typeof import('../../db/client');
  const { auditedTransaction } =
    require('../../db/audited-transaction') as typeof import('../../db/audited-transaction');
  const { ApiKeysRepository } = apiKeysRepository();
  const config = withRunningLauncher(loadConfigOrExit());
  try {
    const database = await createDatabase({ ...config, DATABASE_POOL_SIZE: 1 });
    const actor = cliActor();
    try {
      process.exitCode = await action({
        config,
        keys: new ApiKeysRepository(database.db),
        audited: (name, change) =>
          auditedTransaction(database.db, { actor, action: name }, (tx) => change(new ApiKeysRepository(tx))),
      });
    } finally {
      await database.close();
    }
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = err instanceof UsageError ? EXIT.usage : EXIT.api;
  }
}

function usage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/**
 * Tells the running API replicas to forget the revoked key's cached row (ADR 0053). The revoke is
 * done already; if Redis cannot be reached, the replicas refuse the key within API_KEY_CACHE_SECONDS.
 */
async function tellApiReplicas(config: Config, keyPrefix: string): Promise<void> {
  if (!config.REDIS_URL) return;
  const { createKeyRevocations } =
    require('../../core/adapters/redis/key-revocations.redis') as typeof import('../../core/adapters/redis/key-revocations.redis');
  const revocations = createKeyRevocations(config);
  try {
    if (!(await revocations.publish(keyPrefix))) {
      process.stderr.write(
        `revoked; Redis unreachable, so API replicas refuse the key within API_KEY_CACHE_SECONDS (${config.API_KEY_CACHE_SECONDS} s)\n`,
      );
    }
  } finally {
    await revocations.close();
  }
}

export function registerKeyCommands(program: Command): void {
  const keys = program.command('keys').description('make, list and revoke API keys (works on the database)');

  keys
    .command('create')
    .description('make an API key; prints it once')
    .requiredOption('-n, --name <name>', 'what the key is for')
    .requiredOption('-s, --scopes <list>', 'robots:read,robots:write,modules:read,modules:write,admin')
    .option('-e, --expires <duration>', 'lifetime such as 90d, 12h or 30m (default: never)')
    .action(async (options: { name: string; scopes: string; expires?: string }) =>
      withKeys(async ({ audited }) => {
        const scopes = usage(() => parseScopes(options.scopes));
        const lifetime = options.expires ? usage(() => parseDuration(options.expires ?? '')) : null;
        if (!/^[\p{L}\p{N}][\p{L}\p{N} ._:@-]{0,99}$/u.test(options.name)) {
          throw new UsageError('--name: letters, digits, space and . _ : @ - only, at most 100');
        }
        const { key, row } = await audited('keys.create', async (repository) => {
          const made = await repository.create({
            name: options.name,
            scopes,
            expiresAt: lifetime === null ? null : new Date(Date.now() + lifetime),
          });
          return { value: made, target: made.row.id };
        });
        print({ ...toApiKeyView(row), key });
        process.stderr.write('Store the key now: it is not shown again.\n');
        return EXIT.ok;
      }),
    );

  keys
    .command('list')
    .description('every key, newest first (never the key itself)')
    .option('--json', 'print JSON instead of a table')
    .action(async (options: { json?: boolean }) =>
      withKeys(async ({ keys: repository }) => {
        const items = (await repository.list()).map(toApiKeyView);
        if (options.json) {
          print(items);
          return EXIT.ok;
        }
        for (const key of items) {
          const state = key.revokedAt
            ? 'revoked'
            : key.expiresAt && Date.parse(key.expiresAt) <= Date.now()
              ? 'expired'
              : 'active';
          process.stdout.write(
            `${key.id}  rpa_${key.prefix}_…  ${state.padEnd(8)} ${key.name.padEnd(20)} ${key.scopes.join(',')}  last used ${key.lastUsedAt ?? 'never'}\n`,
          );
        }
        return EXIT.ok;
      }),
    );

  keys
    .command('revoke <id>')
    .description(
      'revoke a key; every API replica refuses it at once (with REDIS_URL), else within API_KEY_CACHE_SECONDS',
    )
    .action(async (id: string) =>
      withKeys(async ({ config, audited }) => {
        if (!/^[0-9a-f-]{36}$/i.test(id))
          throw new UsageError('give the key id (a UUID) from `rpa keys list`');
        // `keys.delete`, as DELETE /v1/keys/:id (the API's revoke) is recorded; no such key: a failure.
        const row = await audited('keys.delete', async (repository) => {
          const revoked = await repository.revoke(id, new Date());
          return { value: revoked, target: id, ...(revoked ? {} : { outcome: 'failure' as const }) };
        });
        if (!row) {
          process.stderr.write(`no api key ${id}\n`);
          return EXIT.usage;
        }
        await tellApiReplicas(config, row.prefix);
        print(toApiKeyView(row));
        return EXIT.ok;
      }),
    );
}
