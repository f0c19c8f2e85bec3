import type { Command } from 'commander';
import { ApiError, type StepKindResponse } from '../api-client';
import { type ApiOptions, apiClient, EXIT, guarded, print } from '../command-helpers';

/** Where a step of the kind would run now: the workflow itself, or the modules with a live replica. */
function liveModules(kind: StepKindResponse): string {
  if (kind.runsOn === 'workflow') return '(the workflow runs it)';
  const live = kind.modules.filter((module) => module.live);
  if (live.length === 0) return 'none live';
  return live.map((module) => `${module.name} (${module.replicas} replica(s))`).join(', ');
}

function row(kind: StepKindResponse): string {
  return [
    kind.name.padEnd(24),
    (kind.builtIn ? 'built-in' : 'custom').padEnd(9),
    kind.version.padEnd(9),
    liveModules(kind),
  ].join(' ');
}

export function registerStepKindCommands(program: Command): void {
  const kinds = program
    .command('step-kinds')
    .description('the step catalog: built-in kinds and the custom kinds modules declared');
  kinds.option('--api <url>', 'API base URL (default RPA_API_URL or http://127.0.0.1:$PORT)');
  kinds.option('--api-key <key>', 'API key (default RPA_API_KEY, else the key `rpa start` made)');
  const api = () => apiClient(kinds.opts<ApiOptions>());

  kinds
    .command('list')
    .description(
      'every kind: built-in or custom, its version, and the modules serving it with a live replica',
    )
    .option('--json', 'print JSON instead of a table')
    .action(async (options: { json?: boolean }) =>
      guarded(async () => {
        const { items } = await api().listStepKinds();
        if (options.json) print(items);
        else for (const kind of items) process.stdout.write(`${row(kind)}\n`);
        return EXIT.ok;
      }),
    );

  kinds
    .command('show <kind>')
    .description(
      'one kind as JSON (GET /v1/step-kinds/:kind): schemas, secret params, modules and their liveness',
    )
    .action(async (kind: string) =>
      guarded(async () => {
        try {
          print(await api().getStepKind(kind));
          return EXIT.ok;
        } catch (err) {
          // Not found is an answer, not a mistake: a script polling for a kind its module is about to
          // declare tells it apart from a bad key (2) or an unreachable API (3).
          if (!(err instanceof ApiError && err.status === 404)) throw err;
          process.stderr.write(
            `no step kind ${kind} in the catalog: it is neither built in nor declared by any module (rpa step-kinds list)\n`,
          );
          return 1;
        }
      }),
    );
}
