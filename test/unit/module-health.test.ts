import { moduleHealth } from '../../core/domain/module-health';

describe('moduleHealth', () => {
  it.each([
    [{ liveReplicas: 0, circuit: 'closed', errorRate: 0 }, 'unhealthy'],
    [{ liveReplicas: 2, circuit: 'closed', errorRate: 0 }, 'healthy'],
    [{ liveReplicas: 2, circuit: 'closed', errorRate: 0.49 }, 'healthy'],
    [{ liveReplicas: 2, circuit: 'closed', errorRate: 0.5 }, 'degraded'],
    [{ liveReplicas: 1, circuit: 'open', errorRate: 0 }, 'degraded'],
    [{ liveReplicas: 1, circuit: 'half-open', errorRate: 0 }, 'degraded'],
    [{ liveReplicas: 0, circuit: 'open', errorRate: 1 }, 'unhealthy'],
  ] as const)('%j -> %s', (facts, expected) => {
    expect(moduleHealth(facts)).toBe(expected);
  });
});
