import { type ChildProcess, spawn } from 'node:child_process';

// The Go example module (examples/ledger-module) as the tests run it: a binary built at install
// time by scripts/go-examples.js (npm test), never here; a missing or stale one fails the test
// with the command that builds it.
const goExamples = require('../../scripts/go-examples.js') as { builtGoExample(name: string): string };

export interface GoReplica {
  process: ChildProcess;
  /** The id it heartbeats under (hostname-pid-random), read from its "serving" log line. */
  replicaId: string;
  output(): string;
  /** Sends the signal and resolves with how the process ended. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const started = new Set<ChildProcess>();

export function ledgerModuleBinary(): string {
  return goExamples.builtGoExample('ledger-module');
}

/**
 * Starts one replica of the ledger module with `env` (RPA_API_URL, RPA_API_KEY, LEDGER_DIR, …) and
 * resolves once it registered and its worker polls; rejects with its output if it exits first.
 */
export async function startLedgerReplica(env: Record<string, string>, readyMs = 30_000): Promise<GoReplica> {
  const child = spawn(ledgerModuleBinary(), [], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.add(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      started.delete(child);
      resolve({ code, signal });
    }),
  );
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);

  const replicaId = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`ledger module not serving within ${readyMs} ms:\n${output}`));
    }, readyMs);
    const check = () => {
      const serving = /msg=serving .*?replica=(\S+)/.exec(output);
      if (!serving?.[1]) return;
      clearTimeout(timer);
      child.stderr?.off('data', check);
      resolve(serving[1]);
    };
    child.stderr?.on('data', check);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`ledger module exited (code ${code}, signal ${signal}) before serving:\n${output}`));
    });
  });

  return {
    process: child,
    replicaId,
    output: () => output,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** SIGKILLs the replicas a test left running (only those this helper started). */
export async function killLedgerReplicas(): Promise<void> {
  await Promise.all(
    [...started].map(async (child) => {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await gone;
    }),
  );
}
