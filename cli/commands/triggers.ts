import { readFileSync } from 'node:fs';
import { type Command, InvalidArgumentError } from 'commander';
import type { TriggerResponse } from '../api-client';
import { type ApiOptions, apiClient, EXIT, guarded, print, UsageError } from '../command-helpers';

// `rpa triggers`: inbound webhook triggers through the API (admin key), like any client would.

function row(trigger: TriggerResponse): string {
  const mapping = trigger.inputMapping ? (trigger.inputMapping.pointers ? 'pointers' : 'template') : 'body';
  return [
    trigger.name.padEnd(24),
    trigger.robotType.padEnd(20),
    trigger.priority.padEnd(9),
    mapping.padEnd(9),
    trigger.hookPath,
  ].join(' ');
}

/** `field=/json/pointer`, repeatable. */
function collectPointer(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const at = value.indexOf('=');
  if (at < 1) throw new InvalidArgumentError(`use field=/json/pointer, not ${value}`);
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
}

function readTemplate(file: string): unknown {
  let text: string;
  try {
    text = file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
}

interface CreateOptions {
  robotType: string;
  priority?: string;
  pointer?: Record<string, string>;
  template?: string;
  secret?: string;
}

export function registerTriggerCommands(program: Command): void {
  const triggers = program
    .command('triggers')
    .description('inbound webhook triggers: POST /hooks/<name> starts a robot (docs/webhooks.md)');
  triggers.option('--api <url>', 'API base URL (default RPA_API_URL or http://127.0.0.1:$PORT)');
  triggers.option(
    '--api-key <key>',
    'API key with the admin scope (default RPA_API_KEY, else the key `rpa start` made)',
  );
  const api = () => apiClient(triggers.opts<ApiOptions>());

  triggers
    .command('list')
    .description('every trigger: name, robot type, priority, mapping, hook path')
    .option('--json', 'print JSON instead of a table')
    .action(async (options: { json?: boolean }) =>
      guarded(async () => {
        const { items } = await api().listTriggers();
        if (options.json) print(items);
        else for (const trigger of items) process.stdout.write(`${row(trigger)}\n`);
        return EXIT.ok;
      }),
    );

  triggers
    .command('show <name>')
    .description('one trigger as JSON (never its secret)')
    .action(async (name: string) =>
      guarded(async () => {
        print(await api().getTrigger(name));
        return EXIT.ok;
      }),
    );

  triggers
    .command('create <name>')
    .description('make a trigger and print it with its signing secret, which is shown only this once')
    .requiredOption('-t, --robot-type <type>', 'the robot type each hook starts')
    .option('-p, --priority <priority>', 'low, normal, high or critical (default normal)')
    .option(
      '--pointer <field=/pointer>',
      'an input field from the body by JSON Pointer (repeatable)',
      collectPointer,
    )
    .option('--template <file>', 'a JSON template file ({{ body.path }} placeholders; - for stdin)')
    .option('--secret <whsec>', 'the signing secret to use (whsec_<base64>); generated when absent')
    .action(async (name: string, options: CreateOptions) =>
      guarded(async () => {
        if (options.pointer && options.template)
          throw new UsageError('give --pointer or --template, not both');
        const inputMapping = options.pointer
          ? { pointers: options.pointer }
          : options.template
            ? { template: readTemplate(options.template) }
            : null;
        const created = await api().createTrigger({
          name,
          robotType: options.robotType,
          inputMapping,
          ...(options.priority ? { priority: options.priority } : {}),
          ...(options.secret ? { secret: options.secret } : {}),
        });
        print(created);
        process.stderr.write(
          `Give the secret to the sender now: it is not shown again. Hook: POST ${created.hookPath}\n`,
        );
        return EXIT.ok;
      }),
    );

  triggers
    .command('delete <name>')
    .description('delete a trigger: its hook answers 404 from then on')
    .action(async (name: string) =>
      guarded(async () => {
        await api().deleteTrigger(name);
        process.stderr.write(`deleted trigger ${name}\n`);
        return EXIT.ok;
      }),
    );
}
