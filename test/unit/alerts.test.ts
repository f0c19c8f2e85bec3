import { type AlertRule, type AlertState, evaluate, INITIAL_ALERT_STATE } from '../../core/domain/alerts';
import { quantileFromBuckets } from '../../core/observability/metric-windows';

const latency: AlertRule = {
  name: 'api_latency_p99',
  severity: 'warning',
  direction: 'above',
  alertAt: 500,
  resolveAt: 100,
  description: 'p99',
};
const hitRatio: AlertRule = {
  ...latency,
  name: 'cache_hit_ratio',
  direction: 'below',
  alertAt: 0.6,
  resolveAt: 0.8,
};
const counts = { fireAfter: 2, resolveAfter: 2 };

function run(rule: AlertRule, values: (number | null)[]) {
  let state: AlertState = INITIAL_ALERT_STATE;
  return values.map((value) => {
    const result = evaluate(rule, state, value, counts);
    state = result.state;
    return result.transition ?? (state.firing ? 'firing' : 'ok');
  });
}

describe('alert hysteresis', () => {
  it('fires only after consecutive breaches', () => {
    expect(run(latency, [600, 90, 600, 700])).toEqual(['ok', 'ok', 'ok', 'fired']);
  });

  it('stays firing between the target and the alert threshold (no flapping)', () => {
    expect(run(latency, [600, 600, 300, 450, 120, 300])).toEqual([
      'ok',
      'fired',
      'firing',
      'firing',
      'firing',
      'firing',
    ]);
  });

  it('resolves only after consecutive values within the target', () => {
    expect(run(latency, [600, 600, 50, 300, 50, 60])).toEqual([
      'ok',
      'fired',
      'firing',
      'firing',
      'firing',
      'resolved',
    ]);
  });

  it('too little data (null) keeps the state and the counters', () => {
    expect(run(latency, [600, null, 600, 50, null, 50])).toEqual([
      'ok',
      'ok',
      'fired',
      'firing',
      'firing',
      'resolved',
    ]);
  });

  it('works for rules where low is bad', () => {
    expect(run(hitRatio, [0.5, 0.55, 0.7, 0.85, 0.9])).toEqual([
      'ok',
      'fired',
      'firing',
      'firing',
      'resolved',
    ]);
  });
});

describe('quantileFromBuckets (histogram_quantile)', () => {
  it('interpolates inside the bucket holding the quantile', () => {
    // 100 requests: 50 ≤ 10 ms, 40 in (10, 50], 10 in (50, 100].
    const buckets: [number, number][] = [
      [0.01, 50],
      [0.05, 90],
      [0.1, 100],
      [Number.POSITIVE_INFINITY, 100],
    ];
    expect(quantileFromBuckets(0.5, buckets)).toBeCloseTo(0.01);
    expect(quantileFromBuckets(0.7, buckets)).toBeCloseTo(0.03);
    expect(quantileFromBuckets(0.99, buckets)).toBeCloseTo(0.095);
  });

  it('answers the largest finite bound when the quantile is in +Inf, and null when empty', () => {
    expect(
      quantileFromBuckets(0.99, [
        [0.1, 10],
        [Number.POSITIVE_INFINITY, 100],
      ]),
    ).toBe(0.1);
    expect(quantileFromBuckets(0.99, [[Number.POSITIVE_INFINITY, 0]])).toBeNull();
  });
});
