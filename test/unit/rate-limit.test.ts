import { decide } from '../../api/rate-limit/sliding-window';
import { MemoryWindowStore } from '../../api/rate-limit/window-store.memory';
import { keyLimit, parseRateLimitOverrides, routeLimits } from '../../core/domain/rate-limit-policy';

describe('sliding-window counter (in memory)', () => {
  const windowMs = 10_000;

  it('allows `limit` requests in a window, then refuses with a Retry-After', async () => {
    const store = new MemoryWindowStore();
    const t0 = 1_000_000; // the start of a window
    for (let i = 0; i < 5; i++) {
      const decision = await store.hit('k', 5, windowMs, t0 + i);
      expect(decision).toMatchObject({ allowed: true, remaining: 4 - i });
    }
    const refused = await store.hit('k', 5, windowMs, t0 + 10);
    expect(refused).toMatchObject({ allowed: false, remaining: 0 });
    expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    // Another caller has its own budget.
    expect((await store.hit('other', 5, windowMs, t0 + 10)).allowed).toBe(true);
  });

  it('slides: the previous window still counts, fading as time passes', async () => {
    const store = new MemoryWindowStore();
    const t0 = 2_000_000;
    for (let i = 0; i < 10; i++) await store.hit('k', 10, windowMs, t0 + i);
    // Just into the next window, 9.9 of the previous 10 still weigh: refused (a fixed window allows 10 more).
    expect((await store.hit('k', 10, windowMs, t0 + windowMs + 100)).allowed).toBe(false);
    // Half way, 5 weigh: 5 more fit.
    let allowed = 0;
    for (let i = 0; i < 8; i++)
      if ((await store.hit('k', 10, windowMs, t0 + 1.5 * windowMs)).allowed) allowed++;
    expect(allowed).toBe(5);
  });

  it('Retry-After points at the moment one more request fits', () => {
    const now = 3_000_000 + 2000; // 20 % into a window
    const decision = decide({ allowed: false, current: 5, previous: 10 }, 10, now, windowMs);
    // 10 * (1 - f) + 5 + 1 <= 10  ->  f >= 0.6  ->  4 s after now
    expect(decision.retryAfterSeconds).toBe(4);
    const saturated = decide({ allowed: false, current: 10, previous: 0 }, 10, now, windowMs);
    // wait for the window to end (8 s), then until 10 * (1 - g) + 1 <= 10 -> g >= 0.1 (1 s)
    expect(saturated.retryAfterSeconds).toBe(9);
  });
});

describe('RATE_LIMIT_OVERRIDES', () => {
  const overrides = parseRateLimitOverrides('admin=3000, robots:read=900,POST /v1/robots=120');

  it('parses scopes and routes', () => {
    expect(overrides).toEqual([
      { kind: 'scope', scope: 'admin', limit: 3000 },
      { kind: 'scope', scope: 'robots:read', limit: 900 },
      { kind: 'route', method: 'POST', path: '/v1/robots', limit: 120 },
    ]);
    expect(parseRateLimitOverrides('')).toEqual([]);
  });

  it('gives a key the highest of its scopes, else the default', () => {
    expect(keyLimit(['robots:read', 'admin'], overrides, 600)).toBe(3000);
    expect(keyLimit(['modules:read'], overrides, 600)).toBe(600);
  });

  it('matches routes by method and path prefix', () => {
    expect(routeLimits('POST', '/v1/robots', overrides)).toHaveLength(1);
    expect(routeLimits('POST', '/v1/robots/1/cancel', overrides)).toHaveLength(1);
    expect(routeLimits('GET', '/v1/robots', overrides)).toHaveLength(0);
    expect(routeLimits('POST', '/v1/robotsx', overrides)).toHaveLength(0);
  });

  it.each(['admin', 'root=5', 'admin=0', 'admin=1.5', 'GET robots=5', 'FETCH /v1/robots=3'])(
    'refuses %s',
    (text) => {
      expect(() => parseRateLimitOverrides(text)).toThrow();
    },
  );
});
