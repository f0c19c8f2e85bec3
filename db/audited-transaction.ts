import { auditedChange } from './audit.repository';
import type { Database } from './client';
import { auditLog } from './schema';

/**
 * Runs a change made outside the API (the CLI works on the database directly) and appends its audit
 * row in the same transaction: the change is on record exactly when it is made.
 */
export async function auditedTransaction<T>(
  db: Database,
  audit: { actor: string; action: string },
  change: (tx: Database) => Promise<{ value: T; target: string | null; outcome?: 'success' | 'failure' }>,
): Promise<T> {
  return db.transaction(async (tx) => {
    const { value, target, outcome } = await change(tx);
    await tx.insert(auditLog).values(auditedChange({ ...audit, target, ...(outcome ? { outcome } : {}) }));
    return value;
  });
}
