import {
  ANY_TYPE,
  type CandidateScore,
  decideSelection,
  type ModuleSnapshot,
  prepareSelection,
  reprepareSelection,
  type SelectionRequest,
  scoreModule,
  selectModule,
} from '../../core/domain/load-balancer';
import {
  DEFAULT_WEIGHTS,
  type LoadBalancerWeights,
  validateWeights,
} from '../../core/domain/load-balancer-weights';

// A healthy, idle, exact-match module; each test overrides only what it is about.
function mod(name: string, overrides: Partial<ModuleSnapshot> = {}): ModuleSnapshot {
  return {
    name,
    isActive: true,
    draining: false,
    healthStatus: 'healthy',
    liveReplicas: 1,
    capacity: 10,
    inFlight: 0,
    performanceScore: 1,
    errorRate: 0,
    circuit: 'closed',
    supportedRobotTypes: ['invoice'],
    supportedSteps: ['ocr', 'extract', 'notify'],
    ...overrides,
  };
}

const request: SelectionRequest = { robotType: 'invoice', steps: ['ocr', 'extract'] };

function names(candidates: readonly CandidateScore[]): string[] {
  return candidates.map((c) => c.moduleName);
}

function candidate(decision: { candidates: CandidateScore[] }, name: string): CandidateScore {
  const found = decision.candidates.find((c) => c.moduleName === name);
  if (found === undefined) throw new Error(`no candidate ${name}`);
  return found;
}

// Deterministic permutations instead of Math.random, so a failure is reproducible.
function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  const out: T[][] = [];
  items.forEach((item, index) => {
    const rest = [...items.slice(0, index), ...items.slice(index + 1)];
    for (const tail of permutations(rest)) out.push([item, ...tail]);
  });
  return out;
}

describe('validateWeights', () => {
  it('returns valid weights unchanged, tolerating float noise within 1e-6', () => {
    expect(validateWeights(DEFAULT_WEIGHTS)).toBe(DEFAULT_WEIGHTS);
    const noisy = { performance: 0.4 + 5e-7, capacity: 0.3, health: 0.2, typeMatch: 0.1 };
    expect(validateWeights(noisy)).toBe(noisy);
  });

  it.each<[string, LoadBalancerWeights, RegExp]>([
    ['sum 0.9', { performance: 0.4, capacity: 0.3, health: 0.1, typeMatch: 0.1 }, /must sum to 1.*got 0\.9/],
    ['sum 1.1', { performance: 0.5, capacity: 0.3, health: 0.2, typeMatch: 0.1 }, /must sum to 1/],
    [
      'sum off by 1e-5',
      { performance: 0.40001, capacity: 0.3, health: 0.2, typeMatch: 0.1 },
      /must sum to 1/,
    ],
    [
      'negative',
      { performance: 0.6, capacity: -0.1, health: 0.4, typeMatch: 0.1 },
      /"capacity".*>= 0.*-0\.1/,
    ],
    ['NaN', { performance: 0.4, capacity: 0.3, health: Number.NaN, typeMatch: 0.1 }, /"health".*NaN/],
    [
      'Infinity',
      { performance: 0.4, capacity: 0.3, health: 0.2, typeMatch: Infinity },
      /"typeMatch".*finite/,
    ],
  ])('rejects %s', (_label, weights, message) => {
    expect(() => validateWeights(weights)).toThrow(message);
  });

  it('is applied by selectModule and scoreModule', () => {
    const bad = { performance: 0.4, capacity: 0.3, health: 0.1, typeMatch: 0.1 };
    expect(() => selectModule([mod('a')], request, bad)).toThrow(/must sum to 1/);
    expect(() => scoreModule(mod('a'), request, bad)).toThrow(/must sum to 1/);
  });
});

describe('scoreModule factors and the seed formula', () => {
  // score = performance·0.4 + capacity·0.3 + health·0.2 + typeMatch·0.1, worked by hand.
  it.each<[string, Partial<ModuleSnapshot>, [number, number, number, number], number]>([
    // 0.9·0.4 + 0.8·0.3 + 1·0.2 + 1·0.1 = 0.36 + 0.24 + 0.2 + 0.1
    ['healthy, 2 of 10 busy', { performanceScore: 0.9, inFlight: 2 }, [0.9, 0.8, 1, 1], 0.9],
    // health 0.5·(1−0.2) = 0.4; typeMatch 0.5 via '*': 0.2 + 0.075 + 0.08 + 0.05
    [
      'degraded, wildcard, 3 of 4 busy',
      {
        performanceScore: 0.5,
        capacity: 4,
        inFlight: 3,
        healthStatus: 'degraded',
        errorRate: 0.2,
        supportedRobotTypes: [ANY_TYPE],
      },
      [0.5, 0.25, 0.4, 0.5],
      0.405,
    ],
    // full: capacity 0; health 1·(1−0.1)·0.5 = 0.45: 0.32 + 0 + 0.09 + 0.1
    [
      'full, half-open circuit',
      { performanceScore: 0.8, inFlight: 10, errorRate: 0.1, circuit: 'half-open' },
      [0.8, 0, 0.45, 1],
      0.51,
    ],
    // unknown health counts half: 0.28 + 0.24 + 0.1 + 0.1
    [
      'unknown health',
      { performanceScore: 0.7, capacity: 5, inFlight: 1, healthStatus: 'unknown' },
      [0.7, 0.8, 0.5, 1],
      0.72,
    ],
    // every step failing zeroes health: 0.24 + 0.15 + 0 + 0.1
    ['error rate 1', { performanceScore: 0.6, inFlight: 5, errorRate: 1 }, [0.6, 0.5, 0, 1], 0.49],
    // no capacity at all: capacity factor 0: 0.4 + 0 + 0.2 + 0.1
    ['zero capacity', { capacity: 0, inFlight: 0 }, [1, 0, 1, 1], 0.7],
    // out-of-range inputs clamp: perf 1.5 → 1, 15 of 10 busy → 0, errorRate −0.5 → 0
    ['clamped inputs', { performanceScore: 1.5, inFlight: 15, errorRate: -0.5 }, [1, 0, 1, 1], 0.7],
    // NaN counts as the worst value rather than poisoning the sort: 0 + 0.3 + 0.2 + 0.1
    ['NaN performance', { performanceScore: Number.NaN }, [0, 1, 1, 1], 0.6],
  ])('%s', (_label, overrides, [performance, capacity, health, typeMatch], score) => {
    const result = scoreModule(mod('m', overrides), request, DEFAULT_WEIGHTS);
    expect(result.eligible).toBe(true);
    expect(result.factors.performance).toBeCloseTo(performance, 10);
    expect(result.factors.capacity).toBeCloseTo(capacity, 10);
    expect(result.factors.health).toBeCloseTo(health, 10);
    expect(result.factors.typeMatch).toBe(typeMatch);
    expect(result.score).toBe(score);
    expect(result.rank).toBeNull();
    expect(result.lostBecause).toBeNull();
  });

  it('rounds the score to 4 decimals', () => {
    // performance 1/3, capacity 1 − 1/3: 0.1333… + 0.2 + 0.2 + 0.1 = 0.6333…
    const result = scoreModule(
      mod('m', { performanceScore: 1 / 3, capacity: 3, inFlight: 1 }),
      request,
      DEFAULT_WEIGHTS,
    );
    expect(result.score).toBe(0.6333);
  });

  it('prefers an exact robot-type match over the wildcard', () => {
    const both = scoreModule(
      mod('m', { supportedRobotTypes: [ANY_TYPE, 'invoice'] }),
      request,
      DEFAULT_WEIGHTS,
    );
    const wildcard = scoreModule(mod('m', { supportedRobotTypes: [ANY_TYPE] }), request, DEFAULT_WEIGHTS);
    expect(both.factors.typeMatch).toBe(1);
    expect(wildcard.factors.typeMatch).toBe(0.5);
    expect(
      selectModule([mod('generalist', { supportedRobotTypes: [ANY_TYPE] }), mod('specialist')], request)
        .winner,
    ).toBe('specialist');
  });

  it('uses custom weights', () => {
    // Performance only: the full but excellent module wins (1·1 vs 0.5·1).
    const perfOnly = { performance: 1, capacity: 0, health: 0, typeMatch: 0 };
    const modules = [mod('busy-star', { inFlight: 10 }), mod('idle-average', { performanceScore: 0.5 })];
    const byPerf = selectModule(modules, request, perfOnly);
    expect(byPerf.winner).toBe('busy-star');
    expect(candidate(byPerf, 'busy-star').score).toBe(1);
    expect(candidate(byPerf, 'idle-average').score).toBe(0.5);
    expect(byPerf.weights).toEqual(perfOnly);

    // Capacity-heavy: 0.2·1 + 0.8·0 = 0.2 vs 0.2·0.5 + 0.8·1 = 0.9.
    const capHeavy = { performance: 0.2, capacity: 0.8, health: 0, typeMatch: 0 };
    const byCap = selectModule(modules, request, capHeavy);
    expect(byCap.winner).toBe('idle-average');
    expect(candidate(byCap, 'busy-star').score).toBe(0.2);
    expect(candidate(byCap, 'idle-average').score).toBe(0.9);
  });

  it('records a copy of the default weights in the decision', () => {
    const decision = selectModule([mod('a')], request);
    expect(decision.weights).toEqual({ performance: 0.4, capacity: 0.3, health: 0.2, typeMatch: 0.1 });
    expect(decision.weights).not.toBe(DEFAULT_WEIGHTS);
  });
});

describe('eligibility', () => {
  it.each<[string, Partial<ModuleSnapshot>, SelectionRequest, string]>([
    ['inactive', { isActive: false }, request, 'inactive'],
    ['draining', { draining: true }, request, 'draining'],
    ['unhealthy', { healthStatus: 'unhealthy' }, request, 'unhealthy'],
    ['circuit open', { circuit: 'open' }, request, 'circuit open'],
    ['no live replica', { liveReplicas: 0 }, request, 'no live replica'],
    ['negative replicas', { liveReplicas: -1 }, request, 'no live replica'],
    [
      'wrong robot type',
      { supportedRobotTypes: ['payroll'] },
      request,
      'does not support robot type "invoice"',
    ],
    ['no robot types', { supportedRobotTypes: [] }, request, 'does not support robot type "invoice"'],
    [
      'missing steps (deduplicated, request order)',
      {},
      { robotType: 'invoice', steps: ['ocr', 'translate', 'sign', 'translate'] },
      'missing steps: translate, sign',
    ],
    ['excluded', {}, { ...request, exclude: ['other', 'm'] }, 'excluded after failover'],
  ])('%s', (_label, overrides, req, reason) => {
    const result = scoreModule(mod('m', overrides), req, DEFAULT_WEIGHTS);
    expect(result.eligible).toBe(false);
    expect(result.ineligibleReasons).toEqual([reason]);
    expect(result.score).toBe(0);
    expect(result.rank).toBeNull();
    expect(result.lostBecause).toBe(`ineligible: ${reason}`);
  });

  it('lists every reason that applies, in the documented order, and still computes factors', () => {
    const broken = mod('m', {
      isActive: false,
      draining: true,
      healthStatus: 'unhealthy',
      circuit: 'open',
      liveReplicas: 0,
      supportedRobotTypes: ['payroll'],
      supportedSteps: ['ocr'],
      performanceScore: 0.7,
      inFlight: 4,
    });
    const decision = selectModule([broken], {
      robotType: 'invoice',
      steps: ['extract', 'notify'],
      exclude: ['m'],
    });
    const [only] = decision.candidates;
    expect(only?.ineligibleReasons).toEqual([
      'inactive',
      'draining',
      'unhealthy',
      'circuit open',
      'no live replica',
      'does not support robot type "invoice"',
      'missing steps: extract, notify',
      'excluded after failover',
    ]);
    expect(only?.lostBecause).toBe(
      'ineligible: inactive; draining; unhealthy; circuit open; no live replica; ' +
        'does not support robot type "invoice"; missing steps: extract, notify; excluded after failover',
    );
    expect(only?.factors).toEqual({ performance: 0.7, capacity: 0.6, health: 0, typeMatch: 0 });
    expect(only?.score).toBe(0);
    expect(decision.winner).toBeNull();
    expect(decision.reason).toBe('no eligible module');
  });

  it('keeps a full module eligible so work queues on it when nothing has room', () => {
    const full = scoreModule(mod('m', { inFlight: 10 }), request, DEFAULT_WEIGHTS);
    expect(full.eligible).toBe(true);
    expect(full.factors.capacity).toBe(0);
    const decision = selectModule(
      [mod('full', { inFlight: 12 }), mod('down', { healthStatus: 'unhealthy' })],
      request,
    );
    expect(decision.winner).toBe('full');
  });
});

describe('selectModule ordering', () => {
  it('ranks eligible by score, then lists ineligible by name', () => {
    const decision = selectModule(
      [
        mod('zeta-off', { isActive: false }),
        mod('mid', { performanceScore: 0.7 }), // 0.28 + 0.3 + 0.2 + 0.1 = 0.88
        mod('alpha-off', { draining: true }),
        mod('top'), // 1.0
        mod('low', { performanceScore: 0.2 }), // 0.08 + 0.3 + 0.2 + 0.1 = 0.68
      ],
      request,
    );
    expect(names(decision.candidates)).toEqual(['top', 'mid', 'low', 'alpha-off', 'zeta-off']);
    expect(decision.candidates.map((c) => c.rank)).toEqual([1, 2, 3, null, null]);
    expect(decision.candidates.map((c) => c.score)).toEqual([1, 0.88, 0.68, 0, 0]);
    expect(decision.winner).toBe('top');
    expect(decision.robotType).toBe('invoice');
  });

  it('breaks a score tie on utilisation before name', () => {
    // alpha: 0.85·0.4 + 0.5·0.3 + 0.3 = 0.79 at 50 % utilisation;
    // beta:  0.70·0.4 + 0.7·0.3 + 0.3 = 0.79 at 30 %: beta wins although alpha sorts first by name.
    const decision = selectModule(
      [
        mod('alpha', { performanceScore: 0.85, inFlight: 5 }),
        mod('beta', { performanceScore: 0.7, inFlight: 3 }),
      ],
      request,
    );
    expect(candidate(decision, 'alpha').score).toBe(0.79);
    expect(candidate(decision, 'beta').score).toBe(0.79);
    expect(decision.winner).toBe('beta');
    expect(candidate(decision, 'alpha').lostBecause).toBe('tie on score; lost the tie-break on utilisation');
  });

  it('among full modules, queues on the least overloaded one', () => {
    // Both score 0.7 (capacity factor clamps to 0); utilisation 1.5 vs 1.0 decides.
    const decision = selectModule(
      [mod('a-over', { inFlight: 15 }), mod('b-full', { inFlight: 10 })],
      request,
    );
    expect(decision.winner).toBe('b-full');
    expect(candidate(decision, 'a-over').lostBecause).toBe('tie on score; lost the tie-break on utilisation');
  });

  it('breaks a full tie on name', () => {
    const decision = selectModule([mod('gamma'), mod('beta'), mod('alpha')], request);
    expect(names(decision.candidates)).toEqual(['alpha', 'beta', 'gamma']);
    expect(candidate(decision, 'beta').lostBecause).toBe('tie on score; lost the tie-break on name');
    expect(candidate(decision, 'gamma').lostBecause).toBe('tie on score; lost the tie-break on name');
  });

  it('gives the same decision for every order of the input', () => {
    const modules = [
      mod('b', { performanceScore: 0.85, inFlight: 5 }), // 0.79, utilisation 0.5
      mod('d', { performanceScore: 0.7, inFlight: 3 }), // 0.79, utilisation 0.3
      mod('a', { performanceScore: 0.7, inFlight: 3 }), // same as d: name decides
      mod('c', { circuit: 'open' }),
      mod('e', { performanceScore: 0.4, healthStatus: 'degraded' }),
    ];
    const baseline = selectModule(modules, request);
    expect(names(baseline.candidates)).toEqual(['a', 'd', 'b', 'e', 'c']);
    const orders = permutations(modules);
    expect(orders).toHaveLength(120);
    for (const order of orders) {
      expect(selectModule(order, request)).toEqual(baseline);
    }
  });

  it('spills over when the better module is full', () => {
    const slow = mod('slow', { performanceScore: 0.6 }); // 0.24 + 0.3 + 0.2 + 0.1 = 0.84
    // fast with room: 0.4 + 0.24 + 0.3 = 0.94 beats slow.
    expect(selectModule([mod('fast', { inFlight: 2 }), slow], request).winner).toBe('fast');
    // fast full: 0.4 + 0 + 0.3 = 0.7 loses to slow.
    const decision = selectModule([mod('fast', { inFlight: 10 }), slow], request);
    expect(decision.winner).toBe('slow');
    expect(candidate(decision, 'fast').lostBecause).toBe(
      'score 0.7000 < 0.8400: lower capacity (0.00 vs 1.00)',
    );
  });

  it('skips excluded modules after a failover', () => {
    const modules = [mod('best'), mod('second', { performanceScore: 0.5 })];
    expect(selectModule(modules, request).winner).toBe('best');
    const decision = selectModule(modules, { ...request, exclude: ['best', 'not-registered'] });
    expect(decision.winner).toBe('second');
    expect(candidate(decision, 'best').ineligibleReasons).toEqual(['excluded after failover']);
    expect(names(decision.candidates)).toEqual(['second', 'best']);
  });
});

describe('explanations', () => {
  it('states the winning score, the field size and the winner factors', () => {
    const decision = selectModule(
      [
        mod('winner', { performanceScore: 0.9, inFlight: 2 }), // 0.9
        mod('runner-up', { performanceScore: 0.8, inFlight: 8 }), // 0.32 + 0.06 + 0.3 = 0.68
        mod('third', { healthStatus: 'degraded' }), // 0.4 + 0.3 + 0.1 + 0.1 = 0.9, ties and wins on utilisation 0 < 0.2
        mod('off', { isActive: false }),
      ],
      request,
    );
    expect(decision.winner).toBe('third');
    expect(decision.reason).toBe(
      'highest score 0.9000 of 3 eligible (performance 1.00, capacity 1.00, health 0.50, typeMatch 1.00)',
    );
    expect(candidate(decision, 'winner').lostBecause).toBe('tie on score; lost the tie-break on utilisation');
    // Versus third: performance gap 0.4·0.2 = 0.08, capacity gap 0.3·0.8 = 0.24, health gap negative.
    expect(candidate(decision, 'runner-up').lostBecause).toBe(
      'score 0.6800 < 0.9000: lower capacity (0.20 vs 1.00)',
    );
    expect(candidate(decision, 'third').lostBecause).toBeNull();
  });

  it('names the factor with the largest weighted gap, not the largest raw gap', () => {
    // Loser: performance 0.5 (raw gap 0.5, weighted 0.2) and health 0.1 (raw gap 0.9, weighted 0.18).
    // 0.2 + 0.3 + 0.02 + 0.1 = 0.62
    const decision = selectModule([mod('w'), mod('l', { performanceScore: 0.5, errorRate: 0.9 })], request);
    expect(candidate(decision, 'l').lostBecause).toBe(
      'score 0.6200 < 1.0000: lower performance (0.50 vs 1.00)',
    );
  });

  it('names health or type match when they decide', () => {
    const byHealth = selectModule([mod('w'), mod('l', { circuit: 'half-open' })], request);
    // 0.4 + 0.3 + 0.1 + 0.1 = 0.9
    expect(candidate(byHealth, 'l').lostBecause).toBe('score 0.9000 < 1.0000: lower health (0.50 vs 1.00)');
    const byType = selectModule([mod('w'), mod('l', { supportedRobotTypes: [ANY_TYPE] })], request);
    // 0.4 + 0.3 + 0.2 + 0.05 = 0.95
    expect(candidate(byType, 'l').lostBecause).toBe('score 0.9500 < 1.0000: lower typeMatch (0.50 vs 1.00)');
  });

  it('reports a single eligible module as 1 eligible', () => {
    const decision = selectModule([mod('solo', { inFlight: 5 }), mod('gone', { liveReplicas: 0 })], request);
    expect(decision.reason).toBe(
      'highest score 0.8500 of 1 eligible (performance 1.00, capacity 0.50, health 1.00, typeMatch 1.00)',
    );
    expect(candidate(decision, 'gone').lostBecause).toBe('ineligible: no live replica');
  });
});

describe("keeping the previous step's module (prefer)", () => {
  // better: 1.0; worse: 0.2 + 0.3 + 0.2 + 0.1 = 0.8
  const modules = () => [mod('better'), mod('worse', { performanceScore: 0.5 })];

  it('keeps an eligible previous module over a higher score, and says so', () => {
    const decision = selectModule(modules(), { ...request, prefer: 'worse' });
    expect(decision.winner).toBe('worse');
    expect(decision.reason).toBe(
      "kept the previous step's module: score 0.8000, rank 2 by score of 2 eligible " +
        '(performance 0.50, capacity 1.00, health 1.00, typeMatch 1.00)',
    );
    expect(names(decision.candidates)).toEqual(['worse', 'better']);
    expect(candidate(decision, 'worse')).toMatchObject({ rank: 1, lostBecause: null });
    expect(candidate(decision, 'better')).toMatchObject({
      rank: 2,
      lostBecause: "the previous step's module worse was kept (score 0.8000 vs 1.0000)",
    });
  });

  it('explains losers below the kept module by their score as usual', () => {
    const decision = selectModule([...modules(), mod('worst', { performanceScore: 0 })], {
      ...request,
      prefer: 'better',
    });
    expect(decision.winner).toBe('better');
    expect(decision.reason).toMatch(/^kept the previous step's module: score 1\.0000, rank 1 by score of 3/);
    expect(candidate(decision, 'worse').lostBecause).toBe(
      'score 0.8000 < 1.0000: lower performance (0.50 vs 1.00)',
    );
  });

  it('picks by score when the previous module is ineligible or gone, and names why', () => {
    const draining = selectModule(
      [mod('better', { draining: true }), mod('worse', { performanceScore: 0.5 })],
      { ...request, prefer: 'better' },
    );
    expect(draining.winner).toBe('worse');
    expect(draining.reason).toMatch(/^highest score 0\.8000 of 1 eligible/);
    expect(draining.reason).toMatch(/; the previous step's module better is not eligible \(draining\)$/);
    const excluded = selectModule(modules(), { ...request, prefer: 'better', exclude: ['better'] });
    expect(excluded.winner).toBe('worse');
    expect(excluded.reason).toContain('(excluded after failover)');
    const gone = selectModule(modules(), { ...request, prefer: 'removed' });
    expect(gone.winner).toBe('better');
    expect(gone.reason).toMatch(/the previous step's module removed is not eligible \(not registered\)$/);
  });

  it('answers exactly "no eligible module" when nothing is eligible, preferred or not', () => {
    const decision = selectModule([mod('a', { isActive: false })], { ...request, prefer: 'a' });
    expect(decision).toMatchObject({ winner: null, reason: 'no eligible module' });
  });
});

describe('no eligible module', () => {
  it('returns an empty decision when there are no modules', () => {
    expect(selectModule([], request)).toEqual({
      robotType: 'invoice',
      winner: null,
      reason: 'no eligible module',
      candidates: [],
      weights: DEFAULT_WEIGHTS,
    });
  });

  it('lists every ineligible module by name when none qualifies', () => {
    const decision = selectModule(
      [mod('c', { draining: true }), mod('a', { circuit: 'open' }), mod('b', { isActive: false })],
      request,
    );
    expect(decision.winner).toBeNull();
    expect(decision.reason).toBe('no eligible module');
    expect(names(decision.candidates)).toEqual(['a', 'b', 'c']);
    expect(decision.candidates.every((c) => c.rank === null && c.score === 0)).toBe(true);
  });
});

// A routing snapshot prepares a selection once per (type, steps) and decides many requests from it,
// building only the candidates it stores: each such decision must be the one selectModule makes.
describe('prepared selection', () => {
  // A small deterministic generator (mulberry32): a failure names its seed and replays.
  function random(seed: number): () => number {
    let state = seed;
    return () => {
      state = (state + 0x6d2b79f5) | 0;
      let t = Math.imul(state ^ (state >>> 15), 1 | state);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  function modules(next: () => number, count: number): ModuleSnapshot[] {
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
    return Array.from({ length: count }, (_, i) =>
      mod(`m${String(Math.floor(next() * 1000)).padStart(3, '0')}-${i}`, {
        isActive: next() > 0.1,
        draining: next() < 0.1,
        healthStatus: pick(['healthy', 'healthy', 'degraded', 'unknown', 'unhealthy'] as const),
        liveReplicas: pick([0, 1, 1, 2]),
        capacity: pick([0, 10, 20]),
        inFlight: pick([0, 0, 3, 10, 25]),
        // Coarse values, so that ties (and the tie-breaks the explanations name) happen.
        performanceScore: pick([0.5, 0.8, 1]),
        errorRate: pick([0, 0, 0.2]),
        circuit: pick(['closed', 'closed', 'closed', 'half-open', 'open'] as const),
        supportedRobotTypes: pick([['invoice'], [ANY_TYPE], ['other'], ['invoice', 'other']]),
        supportedSteps: pick([['ocr', 'extract', 'notify'], ['ocr'], ['extract', 'ocr']]),
      }),
    );
  }

  it.each([1, 2, 3, 4, 5, 6, 7, 8])('decides as selectModule does, seed %i', (seed) => {
    const next = random(seed);
    const all = modules(next, 5 + Math.floor(next() * 60));
    const names = all.map((m) => m.name);
    const prepared = prepareSelection(all, request, DEFAULT_WEIGHTS);
    for (let round = 0; round < 20; round += 1) {
      const exclude = names.filter(() => next() < 0.15);
      const prefer =
        next() < 0.6 ? names[Math.floor(next() * names.length)] : next() < 0.5 ? 'gone' : undefined;
      const full = { ...request, exclude, ...(prefer ? { prefer } : {}) };
      const expected = selectModule(all, full, DEFAULT_WEIGHTS);
      for (const limit of [1, 3, 10, Number.POSITIVE_INFINITY]) {
        const { candidatesTotal, ...decision } = decideSelection(prepared, full, limit);
        expect(candidatesTotal).toBe(all.length);
        expect(decision).toEqual({ ...expected, candidates: expected.candidates.slice(0, limit) });
      }
    }
  });

  it.each([11, 12, 13, 14, 15, 16])(
    'moves changed modules to where a fresh preparation puts them, seed %i',
    (seed) => {
      const next = random(seed);
      let current = modules(next, 10 + Math.floor(next() * 80));
      let prepared = prepareSelection(current, request, DEFAULT_WEIGHTS);
      for (let round = 0; round < 15; round += 1) {
        // A few modules get another module's facts (eligible ones becoming ineligible and back,
        // scores moving both ways), as in-flight counts, circuits and heartbeats move them.
        const donors = modules(next, current.length);
        const changed: ModuleSnapshot[] = [];
        current = current.map((module, i) => {
          if (next() > 0.08) return module;
          const moved = { ...(donors[i] as ModuleSnapshot), name: module.name };
          changed.push(moved);
          return moved;
        });
        prepared = reprepareSelection(prepared, changed);
        expect(prepared).toEqual(prepareSelection(current, request, DEFAULT_WEIGHTS));
      }
    },
  );

  it('gives each decision its own candidates: changing one leaves the next decision as it was', () => {
    const prepared = prepareSelection([mod('a'), mod('b', { draining: true })], request, DEFAULT_WEIGHTS);
    const first = decideSelection(prepared, {});
    (first.candidates[1] as CandidateScore).ineligibleReasons.push('edited');
    (first.candidates[0] as CandidateScore).factors.performance = 0;
    const { candidatesTotal: _total, ...again } = decideSelection(prepared, {});
    expect(again).toEqual(selectModule([mod('a'), mod('b', { draining: true })], request));
  });
});
