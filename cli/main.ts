import { Command } from 'commander';
import { registerKeyCommands } from './commands/keys';
import { registerModuleCommands } from './commands/modules';
import { registerProcessCommands } from './commands/processes';
import { registerRobotTypeCommands } from './commands/robot-types';
import { registerRobotCommands } from './commands/robots';
import { registerSecretCommands } from './commands/secrets';
import { registerStartCommand } from './commands/start';
import { registerStepKindCommands } from './commands/step-kinds';
import { registerTemporalCommands } from './commands/temporal';
import { registerTriggerCommands } from './commands/triggers';

export function buildProgram(): Command {
  const program = new Command('rpa')
    .description('rpa-orchestrator: robots as durable Temporal workflows')
    .version('0.1.0')
    .showHelpAfterError();
  registerStartCommand(program);
  registerProcessCommands(program);
  registerRobotCommands(program);
  registerRobotTypeCommands(program);
  registerModuleCommands(program);
  registerStepKindCommands(program);
  registerKeyCommands(program);
  registerSecretCommands(program);
  registerTemporalCommands(program);
  registerTriggerCommands(program);
  return program;
}

async function main(): Promise<void> {
  await buildProgram().parseAsync(process.argv);
}

main().catch((err: unknown) => {
  process.stderr.write(`rpa: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
