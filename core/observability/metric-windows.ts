import { cacheRequests, httpRequestDuration } from './metrics';

/**
 * Values over the window since the previous reading, from this process's cumulative counters
 * (what a Prometheus `rate()` would give), for the alert rules.
 */

export interface HttpTotals {
  count: number;
  errors: number;
  /** Cumulative count per bucket upper bound, ascending (Infinity last). */
  buckets: [number, number][];
}

export interface WindowValues {
  requests: number;
  latencyP99Ms: number | null;
  errorRate: number | null;
  cacheLookups: number;
  cacheHitRatio: number | null;
}

/** histogram_quantile: linear interpolation inside the bucket that holds the quantile. */
export function quantileFromBuckets(q: number, buckets: [number, number][]): number | null {
  const total = buckets.at(-1)?.[1] ?? 0;
  if (total === 0) return null;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [bound, count] of buckets) {
    if (count >= rank) {
      if (bound === Number.POSITIVE_INFINITY) return lowerBound;
      const inBucket = count - lowerCount;
      return inBucket === 0 ? bound : lowerBound + ((bound - lowerBound) * (rank - lowerCount)) / inBucket;
    }
    lowerBound = bound;
    lowerCount = count;
  }
  return lowerBound;
}

async function httpTotals(): Promise<HttpTotals> {
  const { values } = await httpRequestDuration.get();
  const perBound = new Map<number, number>();
  let count = 0;
  let errors = 0;
  for (const sample of values) {
    const name = (sample as { metricName?: string }).metricName ?? '';
    if (name.endsWith('_bucket')) {
      const raw = (sample.labels as { le?: string | number }).le;
      const le = raw === '+Inf' ? Number.POSITIVE_INFINITY : Number(raw);
      perBound.set(le, (perBound.get(le) ?? 0) + sample.value);
    } else if (name.endsWith('_count')) {
      count += sample.value;
      if (String(sample.labels.status ?? '').startsWith('5')) errors += sample.value;
    }
  }
  const buckets = [...perBound.entries()].sort((a, b) => a[0] - b[0]);
  return { count, errors, buckets };
}

async function cacheTotals(): Promise<{ hits: number; lookups: number }> {
  const { values } = await cacheRequests.get();
  let hits = 0;
  let lookups = 0;
  for (const sample of values) {
    if (sample.labels.family !== 'robotStatus') continue;
    lookups += sample.value;
    if (sample.labels.result === 'hit') hits += sample.value;
  }
  return { hits, lookups };
}

export class MetricWindows {
  private lastHttp: HttpTotals = { count: 0, errors: 0, buckets: [] };
  private lastCache = { hits: 0, lookups: 0 };

  constructor(private readonly minSamples: number) {}

  /** The window since the previous call (the first call covers everything since start). */
  async next(): Promise<WindowValues> {
    const [http, cache] = await Promise.all([httpTotals(), cacheTotals()]);
    const before = new Map(this.lastHttp.buckets);
    const buckets = http.buckets.map(([bound, count]): [number, number] => [
      bound,
      count - (before.get(bound) ?? 0),
    ]);
    const requests = http.count - this.lastHttp.count;
    const errors = http.errors - this.lastHttp.errors;
    const lookups = cache.lookups - this.lastCache.lookups;
    const hits = cache.hits - this.lastCache.hits;
    this.lastHttp = http;
    this.lastCache = cache;
    const enough = requests >= this.minSamples;
    const p99 = enough ? quantileFromBuckets(0.99, buckets) : null;
    return {
      requests,
      latencyP99Ms: p99 === null ? null : p99 * 1000,
      errorRate: enough ? errors / requests : null,
      cacheLookups: lookups,
      cacheHitRatio: lookups >= this.minSamples ? hits / lookups : null,
    };
  }
}
