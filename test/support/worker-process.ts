import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import type { Config } from '../../core/config';

const rpa = path.join(__dirname, '..', '..', 'bin', 'rpa');

export interface WorkerProcess {
  process: ChildProcess;
  output(): string;
  /** SIGKILL: no shutdown, no deregistration — a crash. */
  kill(): Promise<void>;
}

/** A real module worker process (`rpa worker --module …`) wired to a test system's services. */
export function spawnModuleWorker(
  config: Config,
  name: string,
  capacity = 5,
  extraEnv: Record<string, string> = {},
): WorkerProcess {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TEMPORAL_ADDRESS: config.TEMPORAL_ADDRESS,
    DATABASE_URL: config.DATABASE_URL,
    REDIS_URL: config.REDIS_URL,
    REDIS_KEY_PREFIX: config.REDIS_KEY_PREFIX,
    MODULE_HEARTBEAT_SECONDS: String(config.MODULE_HEARTBEAT_SECONDS),
    MODULE_REPLICA_TTL_SECONDS: String(config.MODULE_REPLICA_TTL_SECONDS),
    DATABASE_POOL_SIZE: '2',
    LOG_LEVEL: 'info',
    LOG_PRETTY: 'false',
    ...extraEnv,
  };
  const child = spawn(process.execPath, [rpa, 'worker', '--module', name, '--capacity', String(capacity)], {
    env,
  });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  return {
    process: child,
    output: () => output,
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
}
