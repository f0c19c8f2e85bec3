import type { EventEmitter } from 'node:events';
import { interruption, type Sample } from './bench-support';

// autocannon 8 ships no types: the part of its programmatic API the benches use.

export type CannonHeaders = Record<string, string | string[] | undefined>;

export interface CannonRequest {
  method: 'GET';
  path: string;
  headers?: Record<string, string>;
  onResponse?: (status: number, body: string, context: object, headers: CannonHeaders) => void;
}

export interface CannonResult {
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  requests: { total: number };
  latency: Record<'average' | 'p50' | 'p90' | 'p99' | 'max', number>;
}

export interface CannonInstance extends EventEmitter, PromiseLike<CannonResult> {
  stop(): void;
}

export interface CannonOptions {
  url: string;
  connections: number;
  overallRate: number;
  duration: number;
  requests?: CannonRequest[];
  setupClient?: (client: { setRequests(requests: CannonRequest[]): void }) => void;
}
type Autocannon = (options: CannonOptions) => CannonInstance;

const autocannon = require('autocannon') as Autocannon;

/**
 * One autocannon run. Latencies (ms, sub-ms resolution) come from its `response` events; non-2xx
 * answers, connection errors and timeouts are the sample's errors. Stops early when the bench is
 * interrupted. `sample` may be given to let per-request hooks add their own errors.
 */
export async function runCannon(
  options: CannonOptions,
  sample: Sample = { latencies: [], errors: [], wallMs: 0 },
): Promise<{ sample: Sample; result: CannonResult }> {
  const instance = autocannon(options);
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    if (status >= 200 && status <= 299) sample.latencies.push(ms);
    else sample.errors.push(`HTTP ${status}`);
  });
  const watch = setInterval(() => {
    if (interruption.aborted) instance.stop();
  }, 200);
  try {
    const result = await instance;
    sample.wallMs = result.duration * 1000;
    if (result.errors > 0) sample.errors.push(`${result.errors} connection errors`);
    if (result.timeouts > 0) sample.errors.push(`${result.timeouts} timeouts`);
    return { sample, result };
  } finally {
    clearInterval(watch);
  }
}
