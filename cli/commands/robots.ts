import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { RobotResponse } from '../api-client';
import { type ApiOptions, apiClient, EXIT, guarded, print, UsageError } from '../command-helpers';
import { waitForRobot } from '../wait-for-robot';
import { registerBulkRobotCommands } from './robots-bulk';

function readInput(file: string | undefined): Record<string, unknown> {
  if (!file) return {};
  const text = file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(`${file} must hold a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

function summary(robot: RobotResponse): string {
  const time = robot.processingTimeMs !== null ? ` in ${robot.processingTimeMs} ms` : '';
  return `robot ${robot.robotId} ${robot.status}${time}${robot.error ? `: ${robot.error}` : ''}\nTemporal UI: ${robot.links.temporalUi}\n`;
}

export function registerRobotCommands(program: Command): void {
  const robots = program.command('robots').description('create and inspect robots through the API');
  robots.option('--api <url>', 'API base URL (default RPA_API_URL or http://127.0.0.1:$PORT)');
  robots.option('--api-key <key>', 'API key (default RPA_API_KEY, else the key `rpa start` made)');

  robots
    .command('create <type>')
    .description('start a robot of a type; prints the robot as JSON')
    .option('-i, --input <file>', 'JSON object file with the robot input (- for stdin)')
    .option('-p, --priority <priority>', 'low | normal | high | critical', 'normal')
    .option(
      '--sla <duration>',
      'time allowed, like 4h: raised to critical at risk, a person decides once missed',
    )
    .option('--deadline <instant>', 'or the deadline itself, ISO 8601 (docs/sla.md)')
    .option('-k, --idempotency-key <key>', 'repeat-safe key: the same key returns the same robot')
    .option('-w, --wait', 'wait until the robot finishes, with a progress bar; exit 0 only if it completed')
    .option('--timeout <seconds>', 'how long --wait waits', '300')
    .action(
      async (
        type: string,
        options: {
          input?: string;
          priority: string;
          sla?: string;
          deadline?: string;
          idempotencyKey?: string;
          wait?: boolean;
          timeout: string;
        },
      ) =>
        guarded(async () => {
          const api = apiClient(robots.opts<ApiOptions>());
          const created = await api.createRobot(
            {
              type,
              input: readInput(options.input),
              priority: options.priority,
              ...(options.sla !== undefined ? { sla: options.sla } : {}),
              ...(options.deadline !== undefined ? { deadline: options.deadline } : {}),
            },
            options.idempotencyKey,
          );
          if (!options.wait) {
            print(created);
            return EXIT.ok;
          }
          const robot = await waitForRobot(api, created.robotId, {
            timeoutMs: Number(options.timeout) * 1000,
            showProgress: process.stderr.isTTY === true,
          });
          print(robot);
          process.stderr.write(summary(robot));
          return robot.status === 'completed' ? EXIT.ok : EXIT.robotFailed;
        }),
    );

  robots
    .command('get <id>')
    .description('show one robot as JSON')
    .action(async (id: string) =>
      guarded(async () => {
        print(await apiClient(robots.opts<ApiOptions>()).getRobot(id));
        return EXIT.ok;
      }),
    );

  for (const [action, description] of [
    ['cancel', 'cancel a robot that is still open; it ends cancelled'],
    ['pause', 'pause a robot before its next step'],
    ['resume', 'resume a paused robot, or retry the failed step of a parked one'],
    ['retry', 'run a failed robot again from its failed step'],
  ] as const) {
    robots
      .command(`${action} <id>`)
      .description(description)
      .action(async (id: string) =>
        guarded(async () => {
          const answer = await apiClient(robots.opts<ApiOptions>()).robotAction(id, action);
          print(answer);
          process.stderr.write(`robot ${id} ${answer.effect}\n`);
          return EXIT.ok;
        }),
      );
  }

  for (const action of ['approve', 'reject'] as const) {
    robots
      .command(`${action} <id>`)
      .description(
        action === 'approve'
          ? 'approve the step a robot waits on, optionally with corrected fields'
          : 'reject the step a robot waits on; the robot fails with the comment',
      )
      .option('-f, --fields <file>', 'JSON object file with corrected fields (- for stdin)')
      .option('-m, --comment <text>', 'why')
      .action(async (id: string, options: { fields?: string; comment?: string }) =>
        guarded(async () => {
          const body = {
            ...(options.fields ? { fields: readInput(options.fields) } : {}),
            ...(options.comment !== undefined ? { comment: options.comment } : {}),
          };
          const answer = await apiClient(robots.opts<ApiOptions>()).robotAction(id, action, body);
          print(answer);
          process.stderr.write(`robot ${id} ${answer.effect}\n`);
          return EXIT.ok;
        }),
      );
  }

  robots
    .command('list')
    .description('list robots, newest first')
    .option('-s, --status <status>', 'only robots in this status')
    .option('-t, --type <type>', 'only robots of this type')
    .option('-l, --limit <n>', 'page size (1-100)', '20')
    .option('-c, --cursor <cursor>', 'the nextCursor of the previous page')
    .option('--json', 'print JSON instead of a table')
    .action(
      async (options: { status?: string; type?: string; limit: string; cursor?: string; json?: boolean }) =>
        guarded(async () => {
          const page = await apiClient(robots.opts<ApiOptions>()).listRobots({
            status: options.status,
            type: options.type,
            limit: options.limit,
            cursor: options.cursor,
          });
          if (options.json) {
            print(page);
            return EXIT.ok;
          }
          for (const robot of page.items) {
            process.stdout.write(
              `${robot.robotId}  ${robot.type.padEnd(16)} ${robot.status.padEnd(10)} ${robot.createdAt}\n`,
            );
          }
          if (page.nextCursor) process.stdout.write(`next page: --cursor ${page.nextCursor}\n`);
          return EXIT.ok;
        }),
    );

  registerBulkRobotCommands(robots);
}
