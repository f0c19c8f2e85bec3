import { CircuitState as CockatielState, ConsecutiveBreaker, circuitBreaker, handleAll } from 'cockatiel';
import type { JsonHash } from './json-hash';
import type { CircuitState } from './load-balancer';

export interface CircuitOptions {
  /** Consecutive step failures that open a module's circuit. */
  threshold: number;
  /** How long an open circuit stays open before one probe step may try the module again. */
  halfOpenAfterMs: number;
}

interface StoredCircuit {
  ownState?: { value?: number; openedAt?: number };
}

/**
 * Per-module circuit breakers (cockatiel), with their state kept in a shared hash so that every
 * control worker agrees. Each outcome is applied to a breaker rebuilt from the stored state and the
 * new state is written back; concurrent writers are last-writer-wins, which can only delay an
 * open/close by one outcome.
 */
export class ModuleCircuitBreakers {
  constructor(
    private readonly store: JsonHash<unknown>,
    private readonly options: CircuitOptions,
  ) {}

  private policy(initialState: unknown) {
    return circuitBreaker(handleAll, {
      halfOpenAfter: this.options.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(this.options.threshold),
      ...(initialState !== undefined ? { initialState } : {}),
    });
  }

  /** Applies one step outcome and returns the circuit's state after it. */
  async record(moduleName: string, ok: boolean): Promise<CircuitState> {
    const policy = this.policy(await this.store.get(moduleName));
    await policy
      .execute(() => {
        if (!ok) throw new Error('step failed');
      })
      .catch(() => undefined);
    await this.store.set(moduleName, policy.toJSON());
    return this.stateAt(policy.toJSON(), Date.now());
  }

  async states(now: number): Promise<Map<string, CircuitState>> {
    const stored = await this.store.all();
    return new Map([...stored].map(([name, state]) => [name, this.stateAt(state, now)]));
  }

  /** The stored breakers as they are, for a routing snapshot to keep and judge at each call (stateAt). */
  async stored(): Promise<Map<string, unknown>> {
    return this.store.all();
  }

  async reset(moduleName: string): Promise<void> {
    await this.store.delete(moduleName);
  }

  /**
   * When a stored circuit's state changes with time alone (an open one turns half-open), or null
   * if it does not: until then stateAt(stored, t) is the same for every t.
   */
  changesAt(stored: unknown): number | null {
    const own = (stored as StoredCircuit | undefined)?.ownState;
    const open = own?.value === CockatielState.Open || own?.value === CockatielState.Isolated;
    return open && own?.openedAt !== undefined ? own.openedAt + this.options.halfOpenAfterMs : null;
  }

  /** An open circuit whose wait is over admits a probe: report it half-open. */
  stateAt(stored: unknown, now: number): CircuitState {
    const own = (stored as StoredCircuit | undefined)?.ownState;
    switch (own?.value) {
      case CockatielState.Open:
      case CockatielState.Isolated:
        return own.openedAt !== undefined && now - own.openedAt >= this.options.halfOpenAfterMs
          ? 'half-open'
          : 'open';
      case CockatielState.HalfOpen:
        return 'half-open';
      default:
        return 'closed';
    }
  }
}
