import type { Command } from 'commander';
import { robotTypeRegistrationSchema } from '../../core/domain/robot-types';
import { stableStringify } from '../../core/domain/stable-json';
import { type ApiClient, ApiError, type RobotTypeResponse } from '../api-client';
import {
  type ApiOptions,
  apiClient,
  EXIT,
  guarded,
  print,
  readObjectFile,
  UsageError,
} from '../command-helpers';
import { canonicalLines, lineDiff } from '../json-diff';

/** The fields that make a definition; version, builtIn and createdAt are the registry's. */
const DEFINITION_FIELDS = [
  'name',
  'description',
  'steps',
  'inputSchema',
  'sla',
  'maxPendingSeconds',
] as const;

function definitionOf(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(DEFINITION_FIELDS.map((field) => [field, value[field]]));
}

function readDefinitionFile(file: string): Record<string, unknown> {
  const parsed = readObjectFile(file, 'a robot type definition (an object with name and steps)');
  if (typeof parsed.name !== 'string') {
    throw new UsageError(`${file}: the definition needs a "name"`);
  }
  return parsed;
}

type Plan = {
  body: Record<string, unknown>;
  name: string;
  latest: RobotTypeResponse | null;
  /** Empty when the file says what the latest version says. */
  diff: string[];
};

/**
 * The file is normalised with the registration schema the API uses, so defaults the file leaves out
 * (timeoutSeconds, description) do not count as changes. A file the schema refuses is sent as is:
 * the API's 400 then names the fields.
 */
async function plan(api: ApiClient, file: string): Promise<Plan> {
  const body = readDefinitionFile(file);
  const name = body.name as string;
  const normalised = robotTypeRegistrationSchema.safeParse(body);
  const wanted = definitionOf(normalised.success ? normalised.data : body);
  let latest: RobotTypeResponse | null = null;
  try {
    latest = await api.getRobotType(name);
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404)) throw err;
  }
  const current = latest ? definitionOf(latest) : undefined;
  const changed = !current || stableStringify(current) !== stableStringify(wanted);
  return {
    body,
    name,
    latest,
    diff: changed ? lineDiff(canonicalLines(current), canonicalLines(wanted)) : [],
  };
}

function printDiff(planned: Plan): void {
  const { latest, name, diff } = planned;
  if (diff.length === 0) {
    process.stdout.write(`unchanged (${name} version ${latest?.version})\n`);
    return;
  }
  const next = latest ? latest.version + 1 : 1;
  process.stdout.write(
    `${latest ? `--- ${name} version ${latest.version}` : `--- ${name} (not registered)`}\n+++ ${name} version ${next} (from the file)\n`,
  );
  process.stdout.write(`${diff.join('\n')}\n`);
  process.stdout.write(`would create version ${next}\n`);
}

function row(type: RobotTypeResponse): string {
  return [
    type.name.padEnd(24),
    `v${type.version}`.padEnd(5),
    (type.builtIn ? 'built-in' : 'registered').padEnd(11),
    `${type.steps.length} step(s)`.padEnd(11),
    type.createdAt ?? '',
  ].join(' ');
}

export function registerRobotTypeCommands(program: Command): void {
  const types = program
    .command('robot-types')
    .description('robot types as code: apply definition files, read the versions the API has');
  types.option('--api <url>', 'API base URL (default RPA_API_URL or http://127.0.0.1:$PORT)');
  types.option('--api-key <key>', 'API key (default RPA_API_KEY, else the key `rpa start` made)');
  const api = () => apiClient(types.opts<ApiOptions>());

  types
    .command('apply')
    .description('register the definition in a JSON or YAML file, as a new version only when it changed')
    .requiredOption('-f, --file <file>', 'definition file: .json, .yaml or .yml (- for JSON on stdin)')
    .option('--dry-run', 'print what would change and register nothing')
    .action(async (options: { file: string; dryRun?: boolean }) =>
      guarded(async () => {
        const client = api();
        const planned = await plan(client, options.file);
        if (options.dryRun) {
          printDiff(planned);
          return EXIT.ok;
        }
        if (planned.diff.length === 0) {
          process.stdout.write(`unchanged (${planned.name} version ${planned.latest?.version})\n`);
          return EXIT.ok;
        }
        const created = await client.registerRobotType(planned.body);
        process.stdout.write(`created version ${created.version} of ${created.name}\n`);
        return EXIT.ok;
      }),
    );

  types
    .command('diff')
    .description('what `apply -f` would change (same as apply --dry-run)')
    .requiredOption('-f, --file <file>', 'definition file: .json, .yaml or .yml (- for JSON on stdin)')
    .action(async (options: { file: string }) =>
      guarded(async () => {
        printDiff(await plan(api(), options.file));
        return EXIT.ok;
      }),
    );

  types
    .command('list')
    .description('built-in types, then the newest version of each registered one')
    .option('--json', 'print JSON instead of a table')
    .action(async (options: { json?: boolean }) =>
      guarded(async () => {
        const { items } = await api().listRobotTypes();
        if (options.json) print(items);
        else for (const type of items) process.stdout.write(`${row(type)}\n`);
        return EXIT.ok;
      }),
    );

  types
    // The version is an argument, not --version: the program's own --version catches that flag anywhere.
    .command('show <name> [version]')
    .description('one robot type as JSON: its newest version, or the version given')
    .action(async (name: string, wanted: string | undefined) =>
      guarded(async () => {
        if (wanted === undefined) {
          print(await api().getRobotType(name));
          return EXIT.ok;
        }
        const version = Number(wanted);
        if (!Number.isInteger(version) || version < 1) {
          throw new UsageError(`the version must be a whole number from 1, not ${wanted}`);
        }
        const { items } = await api().robotTypeVersions(name);
        const found = items.find((type) => type.version === version);
        if (!found) {
          throw new UsageError(
            `robot type ${name} has no version ${version} (versions: ${items.map((type) => type.version).join(', ')})`,
          );
        }
        print(found);
        return EXIT.ok;
      }),
    );

  types
    .command('versions <name>')
    .description('every version of a robot type, newest first')
    .option('--json', 'print JSON instead of a table')
    .action(async (name: string, options: { json?: boolean }) =>
      guarded(async () => {
        const { items } = await api().robotTypeVersions(name);
        if (options.json) print(items);
        else for (const type of items) process.stdout.write(`${row(type)}\n`);
        return EXIT.ok;
      }),
    );
}
