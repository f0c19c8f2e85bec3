import { BrokenCircuitError, ConsecutiveBreaker, circuitBreaker, handleWhen } from 'cockatiel';
import { UnavailableError } from '../core/domain/errors';

/**
 * A database error that says nothing about the request (the server is away, restarting or out of
 * connections) as opposed to one about the data (a constraint, a bad value): only these count
 * against the circuit.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  // Drizzle wraps the driver's error (`DrizzleQueryError`): judge the innermost one. Duck-typed,
  // because errors from Node's own modules may come from another realm (jest, vm).
  let current: unknown = err;
  while (typeof current === 'object' && current !== null && 'cause' in current && current.cause) {
    current = current.cause;
  }
  if (typeof current !== 'object' || current === null) return false;
  const { code, message } = current as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return /^(08|53|57)/.test(code);
  return /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|timeout|terminated|Connection|connect/i.test(
    `${String(code ?? '')} ${String(message ?? '')}`,
  );
}

/**
 * A circuit breaker around the API's database calls: after a few consecutive unavailability errors
 * it opens and calls fail at once with 503 + Retry-After instead of each waiting for a timeout;
 * after `halfOpenAfterMs` one call probes the database again.
 */
export class DatabaseGuard {
  private readonly breaker;

  constructor(private readonly options: { threshold: number; halfOpenAfterMs: number }) {
    this.breaker = circuitBreaker(handleWhen(isDatabaseUnavailable), {
      halfOpenAfter: options.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(options.threshold),
    });
  }

  get open(): boolean {
    return this.breaker.state !== 0;
  }

  async run<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await this.breaker.execute(operation);
    } catch (err) {
      if (err instanceof BrokenCircuitError || isDatabaseUnavailable(err)) {
        throw new UnavailableError(
          'the database is unavailable; retry later',
          Math.ceil(this.options.halfOpenAfterMs / 1000),
        );
      }
      throw err;
    }
  }
}
