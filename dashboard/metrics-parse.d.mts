// Types of metrics-parse.mjs for the TypeScript tests (the browser module itself is plain JS).

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
export interface Bucket {
  le: number;
  count: number;
}
export interface MetricsPoint {
  requestRate: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  cacheHitRatio: number | null;
  robotsByStatus: Record<string, number>;
}

export function parsePrometheusText(text: string): Sample[];
export function sumSamples(
  samples: Sample[],
  name: string,
  where?: (labels: Record<string, string>) => boolean,
): number;
export function sumBy(samples: Sample[], name: string, by: string): Record<string, number>;
export function histogramBuckets(
  samples: Sample[],
  name: string,
  where?: (labels: Record<string, string>) => boolean,
): Bucket[];
export function bucketDelta(current: Bucket[], previous: Bucket[]): Bucket[];
export function histogramQuantile(q: number, buckets: Bucket[]): number | null;
export function counterRate(current: number, previous: number, seconds: number): number | null;
export function metricsPoint(previous: Sample[], current: Sample[], seconds: number): MetricsPoint;
