import { Pool, type PoolConfig } from 'pg';
import { dbQueryDuration } from '../core/observability/metrics';

// Bounded label values: the statement verb and the first table it names.
const VERB = /^\s*(select|insert|update|delete|with|begin|commit|rollback)\b/i;
const TABLE = /\b(?:from|into|update|join)\s+"?([a-z_][a-z0-9_]*)"?/i;

// A CTE that writes (the create path's one statement, ADR 0042) is counted as its first write.
const CTE_WRITE = /\b(insert\s+into|update|delete\s+from)\s+"?([a-z_][a-z0-9_]*)"?/i;

export function describeStatement(text: string): { operation: string; table: string } {
  const operation = VERB.exec(text)?.[1]?.toLowerCase() ?? 'other';
  const write = operation === 'with' ? CTE_WRITE.exec(text) : null;
  if (write?.[1] && write[2]) {
    return { operation: write[1].split(/\s+/)[0]?.toLowerCase() ?? 'other', table: write[2].toLowerCase() };
  }
  const table = TABLE.exec(text)?.[1]?.toLowerCase() ?? 'none';
  return { operation, table };
}

function statementText(first: unknown): string {
  if (typeof first === 'string') return first;
  if (first && typeof first === 'object' && 'text' in first && typeof first.text === 'string')
    return first.text;
  return '';
}

/**
 * A pg Pool that times every promise-returning `query` into `rpa_db_query_duration_seconds`.
 * Drizzle's node-postgres driver queries through the pool, so repositories need no wrapping.
 */
export class MeteredPool extends Pool {
  constructor(
    private readonly poolName: string,
    config: PoolConfig,
    /** false: send named (prepared) statements unnamed, for a server whose connections share one session. */
    private readonly namedStatements = true,
  ) {
    super(config);
  }

  // biome-ignore lint/suspicious/noExplicitAny: pg's query has a dozen overloads; this forwards them all.
  override query(...args: any[]): any {
    const first = args[0];
    if (!this.namedStatements && first && typeof first === 'object' && 'name' in first) {
      // Embedded PGlite serves every connection from one session: a name prepared through one
      // connection would clash ("prepared statement already exists") when another prepares it.
      const { name: _name, ...unnamed } = first as Record<string, unknown>;
      args[0] = unnamed;
    }
    // biome-ignore lint/suspicious/noExplicitAny: see above.
    const result = (super.query as (...a: any[]) => any)(...args);
    if (!result || typeof result.then !== 'function') return result;
    const { operation, table } = describeStatement(statementText(args[0]));
    const stop = dbQueryDuration.startTimer({ pool: this.poolName, operation, table });
    return result.then(
      (value: unknown) => {
        stop({ outcome: 'ok' });
        return value;
      },
      (err: unknown) => {
        stop({ outcome: 'error' });
        throw err;
      },
    );
  }
}
