import {
  INITIAL_PERFORMANCE,
  type PerformanceStats,
  performanceScore,
  performanceTier,
  recordOutcome,
} from '../../core/domain/performance';

describe('recordOutcome', () => {
  it('sets latency from the first sample and smooths afterwards', () => {
    const first = recordOutcome(INITIAL_PERFORMANCE, { ok: true, latencyMs: 200 }, 0.5);
    expect(first).toEqual({ successEwma: 1, latencyEwmaMs: 200, samples: 1 });
    // 0.5·0 + 0.5·1 = 0.5; 0.5·400 + 0.5·200 = 300
    const second = recordOutcome(first, { ok: false, latencyMs: 400 }, 0.5);
    expect(second).toEqual({ successEwma: 0.5, latencyEwmaMs: 300, samples: 2 });
    // 0.5·1 + 0.5·0.5 = 0.75; 0.5·100 + 0.5·300 = 200
    const third = recordOutcome(second, { ok: true, latencyMs: 100 }, 0.5);
    expect(third).toEqual({ successEwma: 0.75, latencyEwmaMs: 200, samples: 3 });
  });

  it('smooths success from the optimistic prior even on the first sample', () => {
    // 0.2·0 + 0.8·1 = 0.8: one early failure does not condemn a new module.
    const stats = recordOutcome(INITIAL_PERFORMANCE, { ok: false, latencyMs: 50 }, 0.2);
    expect(stats.successEwma).toBeCloseTo(0.8, 12);
    expect(stats.latencyEwmaMs).toBe(50);
  });

  it('with alpha 1 keeps only the latest outcome', () => {
    let stats = INITIAL_PERFORMANCE;
    stats = recordOutcome(stats, { ok: true, latencyMs: 900 }, 1);
    stats = recordOutcome(stats, { ok: false, latencyMs: 30 }, 1);
    expect(stats).toEqual({ successEwma: 0, latencyEwmaMs: 30, samples: 2 });
  });

  it('does not mutate its input', () => {
    const before = { ...INITIAL_PERFORMANCE };
    recordOutcome(INITIAL_PERFORMANCE, { ok: false, latencyMs: 10 }, 0.3);
    expect(INITIAL_PERFORMANCE).toEqual(before);
  });

  it.each([0, -0.1, 1.5, Number.NaN, Infinity])('rejects alpha %p', (alpha) => {
    expect(() => recordOutcome(INITIAL_PERFORMANCE, { ok: true, latencyMs: 10 }, alpha)).toThrow(RangeError);
    expect(() => recordOutcome(INITIAL_PERFORMANCE, { ok: true, latencyMs: 10 }, alpha)).toThrow(/alpha/);
  });

  it.each([-1, Number.NaN, Infinity])('rejects latency %p', (latencyMs) => {
    expect(() => recordOutcome(INITIAL_PERFORMANCE, { ok: true, latencyMs }, 0.5)).toThrow(RangeError);
    expect(() => recordOutcome(INITIAL_PERFORMANCE, { ok: true, latencyMs }, 0.5)).toThrow(/latencyMs/);
  });

  it.each<[string, PerformanceStats, RegExp]>([
    ['success above 1', { successEwma: 1.2, latencyEwmaMs: 0, samples: 0 }, /successEwma/],
    ['negative latency', { successEwma: 1, latencyEwmaMs: -5, samples: 1 }, /latencyEwmaMs/],
    ['fractional samples', { successEwma: 1, latencyEwmaMs: 5, samples: 1.5 }, /samples/],
  ])('rejects stats with %s', (_label, stats, message) => {
    expect(() => recordOutcome(stats, { ok: true, latencyMs: 10 }, 0.5)).toThrow(message);
    expect(() => performanceScore(stats, 100)).toThrow(RangeError);
  });
});

describe('performanceScore', () => {
  it.each<[string, PerformanceStats, number, number]>([
    // no samples: latency score 1 → 0.7 + 0.3
    ['no samples', INITIAL_PERFORMANCE, 100, 1],
    // at target: 0.7·0.8 + 0.3·(300/600) = 0.56 + 0.15
    ['at target', { successEwma: 0.8, latencyEwmaMs: 300, samples: 5 }, 300, 0.71],
    // three times the target: 0.56 + 0.3·(100/400) = 0.56 + 0.075
    ['slow', { successEwma: 0.8, latencyEwmaMs: 300, samples: 5 }, 100, 0.635],
    // 0.7 + 0.3·(100/700) = 0.742857… → 4 decimals
    ['rounded', { successEwma: 1, latencyEwmaMs: 600, samples: 3 }, 100, 0.7429],
    // every run failing and very slow: 0 + 0.3·(1/1001) = 0.0002997… → 0.0003
    ['failing', { successEwma: 0, latencyEwmaMs: 1000, samples: 9 }, 1, 0.0003],
  ])('%s', (_label, stats, target, expected) => {
    expect(performanceScore(stats, target)).toBe(expected);
  });

  it.each([0, -10, Number.NaN, Infinity])('rejects target latency %p', (target) => {
    expect(() => performanceScore(INITIAL_PERFORMANCE, target)).toThrow(RangeError);
    expect(() => performanceScore(INITIAL_PERFORMANCE, target)).toThrow(/targetLatencyMs/);
  });

  it('falls as outcomes turn bad and recovers as they turn good', () => {
    let stats = recordOutcome(INITIAL_PERFORMANCE, { ok: true, latencyMs: 100 }, 0.5);
    const healthy = performanceScore(stats, 100); // 0.7 + 0.15
    expect(healthy).toBe(0.85);
    stats = recordOutcome(stats, { ok: false, latencyMs: 300 }, 0.5); // success 0.5, latency 200
    const hurt = performanceScore(stats, 100); // 0.35 + 0.1
    expect(hurt).toBe(0.45);
    stats = recordOutcome(stats, { ok: true, latencyMs: 0 }, 0.5); // success 0.75, latency 100
    expect(performanceScore(stats, 100)).toBe(0.675); // 0.525 + 0.15
  });
});

describe('performanceTier', () => {
  it.each<[number, string]>([
    [1, 'platinum'],
    [0.9, 'platinum'],
    [0.8999, 'gold'],
    [0.75, 'gold'],
    [0.7499, 'silver'],
    [0.5, 'silver'],
    [0.4999, 'bronze'],
    [0, 'bronze'],
  ])('%p is %s', (score, tier) => {
    expect(performanceTier(score)).toBe(tier);
  });

  it.each([-0.01, 1.01, Number.NaN])('rejects score %p', (score) => {
    expect(() => performanceTier(score)).toThrow(RangeError);
  });
});
