import { HealthProbe, type HealthReport } from '../../api/health';

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
    const probe = new HealthProbe(async () => {
      probes += 1;
      if (probes > 1) await new Promise<void>((resolve) => (release = resolve));
      return report(probes);
    }, 1);
    await probe.current();
    await new Promise((resolve) => setTimeout(resolve, 5));
    // The refresh is blocked, yet the endpoint answers with what it has.
    expect((await probe.current()).checkedAt).toBe('t1');
    expect((await probe.current()).checkedAt).toBe('t1');
    expect(probes).toBe(2);
    release();
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect((await probe.current()).checkedAt).toBe('t2');
  });

  it('a failing probe keeps the last report', async () => {
    let probes = 0;
    const probe = new HealthProbe(async () => {
      probes += 1;
      if (probes > 1) throw new Error('probe crashed');
      return report(probes);
    }, 1);
    await probe.current();
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect((await probe.current()).checkedAt).toBe('t1');
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect((await probe.current()).checkedAt).toBe('t1');
  });
});
