import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { ModuleResponse } from '../api-client';
import { type ApiOptions, apiClient, EXIT, guarded, print, UsageError } from '../command-helpers';
import { defaultKind, scaffoldModule, WouldOverwriteError } from '../module-scaffold';

function row(module: ModuleResponse): string {
  const score = module.routing
    ? module.routing.eligible
      ? module.routing.score.toFixed(3)
      : 'ineligible'
    : '';
  const robots = Object.entries(module.robots)
    .map(([status, count]) => `${status}:${count}`)
    .join(' ');
  const state = !module.isActive ? 'inactive' : module.draining ? 'draining' : module.healthStatus;
  return [
    module.name.padEnd(20),
    state.padEnd(10),
    `${module.live.replicas} replica(s)`.padEnd(13),
    `${module.live.inFlight}/${module.live.capacity}`.padEnd(8),
    `perf ${module.performanceScore.toFixed(2)}`.padEnd(10),
    `circuit ${module.circuit}`.padEnd(18),
    score.padEnd(11),
    robots,
  ].join(' ');
}

export function registerModuleCommands(program: Command): void {
  const modules = program
    .command('modules')
    .description('inspect and control modules through the API; scaffold and run modules made with the SDK');
  modules.option('--api <url>', 'API base URL (default RPA_API_URL or http://127.0.0.1:$PORT)');
  modules.option('--api-key <key>', 'API key (default RPA_API_KEY, else the key `rpa start` made)');
  const api = () => apiClient(modules.opts<ApiOptions>());

  modules
    .command('list')
    .description('modules with live replicas, in-flight/capacity, performance, circuit and robots routed')
    .option('-t, --type <robotType>', 'also show each module’s current score for this robot type')
    .option('--json', 'print JSON instead of a table')
    .action(async (options: { type?: string; json?: boolean }) =>
      guarded(async () => {
        const { items } = await api().listModules(options.type);
        if (options.json) print(items);
        else for (const module of items) process.stdout.write(`${row(module)}\n`);
        return EXIT.ok;
      }),
    );

  for (const action of ['drain', 'resume'] as const) {
    modules
      .command(`${action} <name>`)
      .description(
        action === 'drain'
          ? 'route no new steps to the module; steps running there finish'
          : 'route robots to it again',
      )
      .action(async (name: string) =>
        guarded(async () => {
          print(await api().moduleAction(name, action));
          return EXIT.ok;
        }),
      );
  }

  modules
    .command('deactivate <name>')
    .description('take the module out of routing for good (DELETE /v1/modules/:name)')
    .action(async (name: string) =>
      guarded(async () => {
        print(await api().deactivateModule(name));
        return EXIT.ok;
      }),
    );

  modules
    .command('init <name>')
    .description('scaffold a module made with the SDK: module.ts, one step, its test, a README')
    .option('--dir <path>', 'where to write it (default modules/<name>)')
    .option('--kind <kind>', 'the step kind of its first step (default <name>.greet)')
    .action(async (name: string, options: { dir?: string; kind?: string }) =>
      guarded(async () => {
        try {
          const written = scaffoldModule({
            name,
            dir: options.dir ?? path.join('modules', name),
            kind: options.kind ?? defaultKind(name),
          });
          for (const file of written) process.stdout.write(`${path.relative(process.cwd(), file)}\n`);
          return EXIT.ok;
        } catch (err) {
          if (!(err instanceof WouldOverwriteError)) throw err;
          process.stderr.write(`${err.message}\n`);
          return 1;
        }
      }),
    );

  modules
    .command('start <file>')
    .description(
      'run a module file made with the SDK; its startModule reads RPA_API_URL, RPA_API_KEY and TEMPORAL_* (not --api, --api-key)',
    )
    .action(async (file: string) =>
      guarded(async () => {
        const resolved = path.resolve(file);
        if (!existsSync(resolved)) throw new UsageError(`no such file: ${file}`);
        // The file is TypeScript like the CLI itself (bin/register-ts.js compiles it on load); its
        // startModule keeps the process running until SIGTERM or SIGINT.
        require(resolved);
        return EXIT.ok;
      }),
    );
}
