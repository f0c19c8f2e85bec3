import { spawn } from 'node:child_process';
import path from 'node:path';
import { interruption, ROOT, type Sample } from './bench-support';

/** One generator run: GETs of `paths` (cycled) on `url` at `rate` req/s overall, for `seconds`. */
export interface CannonSpec {
  url: string;
  paths: string[];
  headers?: Record<string, string>;
  connections: number;
  rate: number;
  seconds: number;
  /** A response header whose values are counted (e.g. `x-robot-source`). */
  countHeader?: string;
}

export interface CannonRequest {
  method: 'GET';
  path: string;
  headers?: Record<string, string> | undefined;
  onResponse?: (status: number, body: string, context: object, headers: Record<string, unknown>) => void;
}

/** autocannon's own result, the part the generator reads (autocannon 8 ships no types). */
export interface CannonResult {
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  requests: { total: number };
  latency: Record<'average' | 'p50' | 'p90' | 'p99' | 'max', number>;
}

/** What bench/autocannon-generator.ts prints. */
export interface GeneratorOutput {
  /** ms, sub-ms resolution, of every 2xx response. */
  latencies: number[];
  errors: string[];
  wallMs: number;
  headerCounts: Record<string, number>;
  /** autocannon's own histogram figures: whole ms, corrected for coordinated omission. */
  autocannon: {
    requests: number;
    non2xx: number;
    latency: Record<'average' | 'p50' | 'p90' | 'p99' | 'max', number>;
  } | null;
}

const GENERATOR = path.join(__dirname, 'autocannon-generator.ts');

/**
 * Runs the load generator in a process of its own and waits for its result. The sample's errors
 * are its non-2xx answers, connection errors and timeouts. Stopped early (SIGTERM: autocannon stops
 * and reports what it has) when the bench is interrupted.
 */
export async function runCannon(spec: CannonSpec): Promise<{ sample: Sample; output: GeneratorOutput }> {
  const child = spawn(process.execPath, ['--import', 'tsx', GENERATOR], {
    cwd: ROOT,
    env: { ...process.env, CANNON_SPEC: JSON.stringify(spec) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });
  const watch = setInterval(() => {
    if (interruption.aborted) child.kill('SIGTERM');
  }, 200);
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', resolve);
    });
    if (code !== 0) throw new Error(`load generator exited with ${code}:\n${stderr}`);
    const output = JSON.parse(stdout) as GeneratorOutput;
    const sample: Sample = { latencies: output.latencies, errors: output.errors, wallMs: output.wallMs };
    return { sample, output };
  } finally {
    clearInterval(watch);
  }
}
