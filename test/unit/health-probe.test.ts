import { HealthProbe, type HealthReport } from '../../api/health-probe';

function report(n: number): HealthReport {
  const up = { status: 'up' as const, latencyMs: n };
  return {
    status: 'ok',
    checkedAt: `t${n}`,
    components: { database: up, cache: up, temporal: up, modules: { ...up, live: 1 } },
  };
}

describe('HealthProbe', () => {
  it('probes once for concurrent first requests, then serves the stored report', async () => {
    let probes = 0;
    const probe = new HealthProbe(async () => report(++probes), 60_000);
    const [a, b] = await Promise.all([probe.current(), probe.current()]);
    expect(a.checkedAt).toBe('t1');
    expect(b.checkedAt).toBe('t1');
    expect((await probe.current()).checkedAt).toBe('t1');
    expect(probes).toBe(1);
  });

  it('answers a stale report at once and refreshes it in the background', async () => {
    let probes = 0;
    let release: () => void = () => undefined;
    const checks: Promise<HealthReport>[] = [];
    const probe = new HealthProbe(() => {
      const check = (async () => {
        probes += 1;
        if (probes > 1) await new Promise<void>((resolve) => (release = resolve));
        return report(probes);
      })();
      checks.push(check);
      return check;
    }, 1);
    await probe.current();
    await staleAfter(1);
    // The refresh is blocked, yet the endpoint answers with what it has.
    expect((await probe.current()).checkedAt).toBe('t1');
    expect((await probe.current()).checkedAt).toBe('t1');
    expect(probes).toBe(2);
    release();
    await settled(checks[1]);
    expect((await probe.current()).checkedAt).toBe('t2');
  });

  it('a failing probe keeps the last report', async () => {
    let probes = 0;
    const checks: Promise<HealthReport>[] = [];
    const probe = new HealthProbe(() => {
      probes += 1;
      const check = probes > 1 ? Promise.reject(new Error('probe crashed')) : Promise.resolve(report(probes));
      checks.push(check);
      return check;
    }, 1);
    await probe.current();
    await staleAfter(1);
    expect((await probe.current()).checkedAt).toBe('t1');
    expect(probes).toBe(2);
    await settled(checks[1]);
    expect((await probe.current()).checkedAt).toBe('t1');
  });
});

/** Lets more than `maxAgeMs` pass, so the stored report is stale: the age is what is tested. */
function staleAfter(maxAgeMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, maxAgeMs + 4));
}

/**
 * Waits until a probe check has settled and everything chained on it (the probe storing or
 * dropping its result) has run: those are microtasks, all done before the next macrotask.
 */
async function settled(check: Promise<unknown> | undefined): Promise<void> {
  if (!check) throw new Error('no such check');
  await check.catch(() => undefined);
  await new Promise((resolve) => setImmediate(resolve));
}
