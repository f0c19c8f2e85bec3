import type { Command } from 'commander';
import type { ScheduleResponse } from '../api-client';
import {
  type ApiOptions,
  apiClient,
  EXIT,
  guarded,
  print,
  readObjectFile,
  UsageError,
} from '../command-helpers';

// `rpa schedules`: robot schedules (docs/schedules.md) through the API, as any client uses them.

interface DefinitionOptions {
  file?: string;
  id?: string;
  description?: string;
  type?: string;
  input?: string;
  priority?: string;
  sla?: string;
  cron?: string;
  every?: string;
  offset?: string;
  timeZone?: string;
  overlap?: string;
  catchupWindow?: string;
  jitter?: string;
  paused?: boolean;
  note?: string;
}

/** The request body: the file's fields, then the options given (which win); the API checks it all. */
function bodyOf(options: DefinitionOptions): Record<string, unknown> {
  const body: Record<string, unknown> = options.file
    ? readObjectFile(options.file, 'a schedule (an object)')
    : {};
  const set = (key: string, value: unknown) => {
    if (value !== undefined) body[key] = value;
  };
  set('id', options.id);
  set('description', options.description);
  set('type', options.type);
  if (options.input !== undefined) {
    try {
      body.input = JSON.parse(options.input);
    } catch {
      throw new UsageError(`--input must be JSON, e.g. '{"text":"hello"}'`);
    }
  }
  set('priority', options.priority);
  set('sla', options.sla);
  set('cron', options.cron);
  if (options.every !== undefined) {
    body.interval = { every: options.every, ...(options.offset ? { offset: options.offset } : {}) };
  }
  set('timeZone', options.timeZone);
  set('overlap', options.overlap);
  set('catchupWindow', options.catchupWindow);
  set('jitter', options.jitter);
  set('paused', options.paused);
  set('note', options.note);
  return body;
}

function whenOf(schedule: ScheduleResponse): string {
  if (schedule.cron) return `cron ${schedule.cron}`;
  if (schedule.interval) return `every ${schedule.interval.every}`;
  return `calendar (${schedule.calendar?.length ?? 0} rule(s))`;
}

function row(schedule: ScheduleResponse): string {
  const state = schedule.lastError ? 'ERROR' : schedule.paused ? 'paused' : 'active';
  return [
    schedule.id.padEnd(24),
    schedule.type.padEnd(20),
    whenOf(schedule).padEnd(24),
    schedule.timeZone.padEnd(16),
    state.padEnd(7),
    schedule.nextRunTimes[0] ?? '-',
  ].join(' ');
}

function definitionOptions(command: Command): Command {
  return command
    .option('-f, --file <file>', 'the schedule as JSON or YAML (- for JSON on stdin); options override it')
    .option('--description <text>', 'what the schedule is for')
    .option('--type <robot-type>', 'robot type of the robots it makes')
    .option('--input <json>', "each robot's input, as JSON")
    .option('--priority <priority>', 'low, normal, high or critical')
    .option('--sla <duration>', 'time each robot is allowed, e.g. 4h')
    .option('--cron <expression>', 'five-field cron, e.g. "0 9 * * MON-FRI"')
    .option('--every <duration>', 'an interval instead, e.g. 15m')
    .option('--offset <duration>', 'shift of the interval, e.g. 5m')
    .option('--time-zone <zone>', 'IANA time zone of the cron or calendar (default UTC)')
    .option('--overlap <policy>', 'while the previous robot runs: skip, bufferOne or allowAll')
    .option('--catchup-window <duration>', 'firings missed while Temporal was away are made up within this')
    .option('--jitter <duration>', 'random delay of each firing, up to this');
}

export function registerScheduleCommands(program: Command): void {
  const schedules = program
    .command('schedules')
    .description('robot schedules: robots made on a cron, interval or calendar (Temporal Schedules)');
  schedules.option('--api <url>', 'API base URL (default RPA_API_URL or http://127.0.0.1:$PORT)');
  schedules.option('--api-key <key>', 'API key (default RPA_API_KEY, else the key `rpa start` made)');
  const api = () => apiClient(schedules.opts<ApiOptions>());
  const path = (id: string, action = '') => `/${encodeURIComponent(id)}${action}`;

  schedules
    .command('list')
    .description('the robot schedules of this deployment')
    .option('--json', 'print JSON instead of a table')
    .action(async (options: { json?: boolean }) =>
      guarded(async () => {
        const { items } = await api().listSchedules();
        if (options.json) print(items);
        else for (const schedule of items) process.stdout.write(`${row(schedule)}\n`);
        return EXIT.ok;
      }),
    );

  definitionOptions(schedules.command('create'))
    .description('create a schedule (admin key)')
    .option('--id <id>', 'schedule id (default: generated)')
    .option('--paused', 'create it paused')
    .option('--note <text>', 'note shown with the state (e.g. why it starts paused)')
    .action(async (options: DefinitionOptions) =>
      guarded(async () => {
        print(await api().schedule('POST', '', bodyOf(options)));
        return EXIT.ok;
      }),
    );

  schedules
    .command('show <id>')
    .description('one schedule as JSON: definition, state, recent runs and their robots, next run times')
    .action(async (id: string) =>
      guarded(async () => {
        print(await api().schedule('GET', path(id)));
        return EXIT.ok;
      }),
    );

  definitionOptions(schedules.command('update <id>'))
    .description('change the fields given; a new --cron or --every replaces the old (admin key)')
    .action(async (id: string, options: DefinitionOptions) =>
      guarded(async () => {
        const body = bodyOf(options);
        if (Object.keys(body).length === 0)
          throw new UsageError('nothing to change: give a field option or -f');
        print(await api().schedule('PATCH', path(id), body));
        return EXIT.ok;
      }),
    );

  for (const [name, verb] of [
    ['pause', 'pause the schedule: no firings until it is resumed'],
    ['resume', 'resume the schedule (clears an error it was paused with)'],
  ] as const) {
    schedules
      .command(`${name} <id>`)
      .description(verb)
      .option('--note <text>', 'why (shown with the state)')
      .action(async (id: string, options: { note?: string }) =>
        guarded(async () => {
          const schedule = await api().schedule(
            'POST',
            path(id, `/${name}`),
            options.note ? { note: options.note } : {},
          );
          process.stdout.write(`${row(schedule)}\n`);
          return EXIT.ok;
        }),
      );
  }

  schedules
    .command('trigger <id>')
    .description('fire once now, also when paused')
    .option('--overlap <policy>', 'skip, bufferOne or allowAll (default allowAll)')
    .action(async (id: string, options: { overlap?: string }) =>
      guarded(async () => {
        await api().schedule(
          'POST',
          path(id, '/trigger'),
          options.overlap ? { overlap: options.overlap } : {},
        );
        process.stdout.write(`triggered ${id}\n`);
        return EXIT.ok;
      }),
    );

  schedules
    .command('backfill <id>')
    .description('fire for every time of a past range: one robot per time, none made twice')
    .requiredOption('--from <time>', 'start of the range (ISO 8601, e.g. 2026-01-01T00:00:00Z)')
    .requiredOption('--to <time>', 'end of the range, in the past')
    .option('--overlap <policy>', 'skip, bufferOne or allowAll (default allowAll)')
    .action(async (id: string, options: { from: string; to: string; overlap?: string }) =>
      guarded(async () => {
        const answer = await api().schedule<{ runs: number }>('POST', path(id, '/backfill'), {
          start: options.from,
          end: options.to,
          ...(options.overlap ? { overlap: options.overlap } : {}),
        });
        process.stdout.write(`backfill of ${id}: ${answer.runs} firing(s)\n`);
        return EXIT.ok;
      }),
    );

  schedules
    .command('next <id>')
    .description('the next run times, one per line (ISO 8601)')
    .option('-n, --count <n>', 'how many (1-100)', '10')
    .action(async (id: string, options: { count: string }) =>
      guarded(async () => {
        const count = Number(options.count);
        if (!Number.isInteger(count) || count < 1 || count > 100) {
          throw new UsageError(`--count must be a whole number from 1 to 100, not ${options.count}`);
        }
        const { items } = await api().schedule<{ items: string[] }>(
          'GET',
          `${path(id, '/next')}?count=${count}`,
        );
        for (const time of items) process.stdout.write(`${time}\n`);
        return EXIT.ok;
      }),
    );

  schedules
    .command('delete <id>')
    .description('delete the schedule (the robots it made stay)')
    .option('--yes', 'do not ask (required when not interactive)')
    .action(async (id: string, options: { yes?: boolean }) =>
      guarded(async () => {
        if (!options.yes) throw new UsageError(`deleting schedule ${id}: add --yes to confirm`);
        await api().schedule('DELETE', path(id));
        process.stdout.write(`deleted ${id}\n`);
        return EXIT.ok;
      }),
    );
}
