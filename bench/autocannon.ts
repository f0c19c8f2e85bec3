import type { EventEmitter } from 'node:events';

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

type Autocannon = (options: {
  url: string;
  connections: number;
  overallRate: number;
  duration: number;
  requests?: CannonRequest[];
  setupClient?: (client: { setRequests(requests: CannonRequest[]): void }) => void;
}) => CannonInstance;

export const autocannon = require('autocannon') as Autocannon;
