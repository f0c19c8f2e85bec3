import { setTimeout as sleep } from 'node:timers/promises';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import type { ApiClient, BulkOperationResponse } from '../api-client';
import { type ApiOptions, apiClient, EXIT, guarded, print, UsageError } from '../command-helpers';

// `rpa robots bulk-cancel|bulk-retry|bulk-resume|bulk-reprioritize`: one bulk action on the robots a
// filter matches (POST /v1/robots/bulk/{action}, docs/bulk-actions.md). Without --yes a dry run:
// it prints how many robots match and acts on none.

interface BulkOptions {
  status?: string;
  type?: string;
  module?: string;
  createdFrom?: string;
  createdTo?: string;
  query?: string;
  yes?: boolean;
  idempotencyKey?: string;
  wait: boolean;
  timeout: string;
}

const ACTIONS = [
  ['cancel', 'cancel every open robot the filter matches'],
  ['retry', 'run every failed robot the filter matches again from its failed step'],
  ['resume', 'resume every paused or parked robot the filter matches'],
  ['reprioritize', 'give every open robot the filter matches a new priority'],
] as const;

const isFinal = (operation: BulkOperationResponse) =>
  operation.state === 'completed' || operation.state === 'cancelled';

function line(operation: BulkOperationResponse): string {
  const { operationId, state, matched, done, skipped, failed } = operation;
  return `bulk ${operation.action} ${operationId}: ${state}, ${done} done, ${skipped} skipped, ${failed} failed of ${matched}`;
}

/** Polls until the operation finishes: a bar on a terminal, a line per change elsewhere. */
async function follow(
  api: ApiClient,
  operationId: string,
  timeoutMs: number,
): Promise<BulkOperationResponse> {
  const bar = process.stderr.isTTY
    ? new SingleBar({ format: ' {bar} {value}/{total} | {state}', hideCursor: true, clearOnComplete: false })
    : null;
  const deadline = Date.now() + timeoutMs;
  let last = '';
  try {
    for (;;) {
      const operation = await api.getBulkOperation(operationId);
      const handled = operation.done + operation.skipped + operation.failed;
      if (bar) {
        if (last === '') bar.start(Math.max(operation.matched, 1), handled, { state: operation.state });
        bar.setTotal(Math.max(operation.matched, 1));
        bar.update(handled, { state: operation.state });
        last = 'started';
      } else if (line(operation) !== last) {
        last = line(operation);
        process.stderr.write(`${last}\n`);
      }
      if (isFinal(operation)) return operation;
      if (Date.now() > deadline) {
        throw new Error(
          `bulk operation ${operationId} still ${operation.state} after ${timeoutMs} ms; it goes on`,
        );
      }
      await sleep(500);
    }
  } finally {
    bar?.stop();
  }
}

export function registerBulkRobotCommands(robots: Command): void {
  for (const [action, description] of ACTIONS) {
    const command = robots
      .command(action === 'reprioritize' ? 'bulk-reprioritize <priority>' : `bulk-${action}`)
      .description(`${description}; without --yes only count them (a dry run)`)
      .option('-s, --status <status>', 'only robots in this status')
      .option('-t, --type <type>', 'only robots of this type')
      .option('-m, --module <module>', 'only robots on this module')
      .option('--created-from <instant>', 'only robots created at or after this (ISO 8601)')
      .option('--created-to <instant>', 'only robots created at or before this (ISO 8601)')
      .option('-q, --query <query>', 'a Temporal visibility query, e.g. "RobotPriority = \'low\'"')
      .option('-y, --yes', 'act; without it the command only counts')
      .option('-k, --idempotency-key <key>', 'repeat-safe key: the same key returns the same operation')
      .option('--no-wait', 'print the started operation and return')
      .option('--timeout <seconds>', 'how long to follow the progress', '600');
    command.action(async (...args: unknown[]) =>
      guarded(async () => {
        const priority = action === 'reprioritize' ? (args[0] as string) : undefined;
        const options = (action === 'reprioritize' ? args[1] : args[0]) as BulkOptions;
        const filter = {
          ...(options.status ? { status: options.status } : {}),
          ...(options.type ? { type: options.type } : {}),
          ...(options.module ? { module: options.module } : {}),
          ...(options.createdFrom ? { createdFrom: options.createdFrom } : {}),
          ...(options.createdTo ? { createdTo: options.createdTo } : {}),
          ...(options.query ? { query: options.query } : {}),
        };
        if (Object.keys(filter).length === 0) {
          throw new UsageError(
            'give at least one of --status, --type, --module, --created-from, --created-to, --query',
          );
        }
        const api = apiClient(robots.opts<ApiOptions>());
        const body = { filter, dryRun: !options.yes, ...(priority ? { priority } : {}) };
        const answer = await api.bulkAction(action, body, options.idempotencyKey);
        if ('dryRun' in answer) {
          print(answer);
          process.stderr.write(
            `${answer.matched} robots match (limit ${answer.limit}); run again with --yes to ${action} them\n`,
          );
          return EXIT.ok;
        }
        process.stderr.write(`started ${line(answer)}\n`);
        if (!options.wait) {
          print(answer);
          return EXIT.ok;
        }
        const operation = await follow(api, answer.operationId, Number(options.timeout) * 1000);
        print(operation);
        process.stderr.write(`${line(operation)}\n`);
        return operation.failed > 0 ? EXIT.robotFailed : EXIT.ok;
      }),
    );
  }

  robots
    .command('bulk-status <operationId>')
    .description('show a bulk operation and its counts')
    .action(async (operationId: string) =>
      guarded(async () => {
        print(await apiClient(robots.opts<ApiOptions>()).getBulkOperation(operationId));
        return EXIT.ok;
      }),
    );

  robots
    .command('bulk-stop <operationId>')
    .description('stop a bulk operation after the batch it is acting on')
    .action(async (operationId: string) =>
      guarded(async () => {
        const api = apiClient(robots.opts<ApiOptions>());
        await api.cancelBulkOperation(operationId);
        const operation = await follow(api, operationId, 60_000);
        print(operation);
        process.stderr.write(`${line(operation)}\n`);
        return EXIT.ok;
      }),
    );
}
