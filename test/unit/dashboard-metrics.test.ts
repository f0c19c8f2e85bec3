import { Counter, Histogram, Registry } from 'prom-client';
import {
  bucketDelta,
  counterRate,
  histogramBuckets,
  histogramQuantile,
  metricsPoint,
  parsePrometheusText,
  sumBy,
  sumSamples,
} from '../../dashboard/metrics-parse.mjs';
import { createSseParser, type SseEvent } from '../../dashboard/sse-client.mjs';

describe('dashboard: Prometheus text parser', () => {
  it('reads names, labels (with escapes), values and skips comments and timestamps', () => {
    const text = [
      '# HELP rpa_x A help line with "quotes"',
      '# TYPE rpa_x counter',
      'rpa_x{route="/v1/robots",status="200"} 3',
      'rpa_x{route="/v1/robots/:id",status="404"} 2 1700000000000',
      'rpa_label{v="a \\"quoted\\" \\\\ back\\nslash",empty=""} 1.5e2',
      'rpa_plain 7',
      'rpa_inf{le="+Inf"} +Inf',
      'rpa_nan NaN',
      '',
      'not a sample line {',
    ].join('\n');
    const samples = parsePrometheusText(text);
    expect(samples).toHaveLength(6);
    expect(samples[0]).toEqual({ name: 'rpa_x', labels: { route: '/v1/robots', status: '200' }, value: 3 });
    expect(samples[1]?.value).toBe(2);
    expect(samples[2]).toEqual({
      name: 'rpa_label',
      labels: { v: 'a "quoted" \\ back\nslash', empty: '' },
      value: 150,
    });
    expect(samples[4]?.value).toBe(Number.POSITIVE_INFINITY);
    expect(Number.isNaN(samples[5]?.value)).toBe(true);
    expect(sumSamples(samples, 'rpa_x')).toBe(5);
    expect(sumSamples(samples, 'rpa_x', (labels) => labels.status === '404')).toBe(2);
  });

  it('parses what prom-client really writes: histograms, counters, labels', async () => {
    const registry = new Registry();
    const histogram = new Histogram({
      name: 'rpa_http_request_duration_seconds',
      help: 'h',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.01, 0.1, 1],
      registers: [registry],
    });
    const cache = new Counter({
      name: 'rpa_cache_requests_total',
      help: 'c',
      labelNames: ['family', 'result'],
      registers: [registry],
    });
    for (let i = 0; i < 90; i++)
      histogram.observe({ method: 'GET', route: '/v1/robots', status: '200' }, 0.005);
    for (let i = 0; i < 10; i++)
      histogram.observe({ method: 'GET', route: '/v1/robots/:id', status: '200' }, 0.5);
    histogram.observe({ method: 'GET', route: '/v1/robots/:id/events', status: '200' }, 600);
    cache.inc({ family: 'robotStatus', result: 'hit' }, 3);
    cache.inc({ family: 'robotStatus', result: 'miss' }, 1);

    const samples = parsePrometheusText(await registry.metrics());
    const buckets = histogramBuckets(samples, 'rpa_http_request_duration_seconds', (labels) =>
      String(labels.route).startsWith('/v1/robots'),
    );
    expect(buckets).toEqual([
      { le: 0.01, count: 90 },
      { le: 0.1, count: 90 },
      { le: 1, count: 100 },
      { le: Number.POSITIVE_INFINITY, count: 101 },
    ]);
    expect(sumBy(samples, 'rpa_cache_requests_total', 'result')).toEqual({ hit: 3, miss: 1 });
  });
});

describe('dashboard: quantile estimate', () => {
  const cumulative = [
    { le: 0.1, count: 50 },
    { le: 0.5, count: 90 },
    { le: 1, count: 100 },
    { le: Number.POSITIVE_INFINITY, count: 100 },
  ];

  it('interpolates inside the bucket where the rank falls, like histogram_quantile', () => {
    expect(histogramQuantile(0.5, cumulative)).toBeCloseTo(0.1);
    expect(histogramQuantile(0.25, cumulative)).toBeCloseTo(0.05);
    expect(histogramQuantile(0.7, cumulative)).toBeCloseTo(0.3); // 20 of 40 into (0.1, 0.5]
    expect(histogramQuantile(0.99, cumulative)).toBeCloseTo(0.95);
  });

  it('answers the highest finite bound for a rank in +Inf, and null without data', () => {
    const overflow = [
      { le: 0.1, count: 1 },
      { le: Number.POSITIVE_INFINITY, count: 10 },
    ];
    expect(histogramQuantile(0.99, overflow)).toBe(0.1);
    expect(histogramQuantile(0.5, [{ le: Number.POSITIVE_INFINITY, count: 0 }])).toBeNull();
    expect(histogramQuantile(0.5, [])).toBeNull();
    expect(histogramQuantile(1.5, cumulative)).toBeNull();
  });

  it('uses the buckets between two scrapes, and survives a counter reset', () => {
    const before = [
      { le: 0.1, count: 40 },
      { le: Number.POSITIVE_INFINITY, count: 40 },
    ];
    const after = [
      { le: 0.1, count: 40 },
      { le: Number.POSITIVE_INFINITY, count: 50 },
    ];
    // The ten new requests were all slow: the interval's p50 is in +Inf, not the all-time 0.1 bucket.
    expect(bucketDelta(after, before)).toEqual([
      { le: 0.1, count: 0 },
      { le: Number.POSITIVE_INFINITY, count: 10 },
    ]);
    expect(
      bucketDelta(
        before.map((b) => ({ ...b, count: 1 })),
        after,
      ),
    ).toEqual(before.map((b) => ({ ...b, count: 1 })));
    expect(counterRate(30, 10, 4)).toBe(5);
    expect(counterRate(3, 10, 1)).toBe(3);
    expect(counterRate(3, 1, 0)).toBeNull();
  });

  it('turns two scrapes into one chart point (API routes only, SSE streams excluded)', () => {
    const scrape = (fast: number, slow: number, hits: number, misses: number) =>
      parsePrometheusText(
        [
          `rpa_http_request_duration_seconds_bucket{route="/v1/robots",le="0.01"} ${fast}`,
          `rpa_http_request_duration_seconds_bucket{route="/v1/robots",le="1"} ${fast + slow}`,
          `rpa_http_request_duration_seconds_bucket{route="/v1/robots",le="+Inf"} ${fast + slow}`,
          `rpa_http_request_duration_seconds_count{route="/v1/robots"} ${fast + slow}`,
          'rpa_http_request_duration_seconds_bucket{route="/v1/robots/:id/events",le="+Inf"} 99',
          'rpa_http_request_duration_seconds_count{route="/v1/robots/:id/events"} 99',
          'rpa_http_request_duration_seconds_count{route="/metrics"} 500',
          `rpa_cache_requests_total{family="robotStatus",result="hit"} ${hits}`,
          `rpa_cache_requests_total{family="robotStatus",result="miss"} ${misses}`,
          'rpa_robots{status="completed",type="demo"} 4',
          'rpa_robots{status="completed",type="other"} 1',
          'rpa_robots{status="running",type="demo"} 2',
        ].join('\n'),
      );
    const point = metricsPoint(scrape(10, 0, 5, 5), scrape(20, 10, 8, 6), 5);
    expect(point.requestRate).toBe(4); // 20 more /v1 requests in 5 s
    expect(point.p50Ms).toBeCloseTo(10);
    expect(point.p99Ms).toBeCloseTo(10 + 990 * ((0.99 * 20 - 10) / 10));
    expect(point.cacheHitRatio).toBeCloseTo(3 / 4);
    expect(point.robotsByStatus).toEqual({ completed: 5, running: 2 });
    expect(metricsPoint(scrape(1, 0, 1, 1), scrape(1, 0, 1, 1), 5)).toMatchObject({
      requestRate: 0,
      p50Ms: null,
      cacheHitRatio: null,
    });
  });
});

describe('dashboard: SSE parser', () => {
  it('emits events split across chunks, with ids, multi-line data, and skips comments', () => {
    const events: SseEvent[] = [];
    const feed = createSseParser((event) => events.push(event));
    feed('id: 1\nevent: robot\nda');
    feed('ta: {"a":1}\n\n: keep-alive\n\n');
    feed('event: end\r\ndata: {}\r\n\r\ndata: line one\ndata: line two\n\n');
    expect(events).toEqual([
      { id: '1', event: 'robot', data: '{"a":1}' },
      { event: 'end', data: '{}' },
      { event: 'message', data: 'line one\nline two' },
    ]);
  });
});
