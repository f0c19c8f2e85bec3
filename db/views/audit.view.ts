import type { AuditRow } from '../schema';

/** One audit row as GET /v1/audit shows it. */
export type AuditView = Omit<AuditRow, 'at'> & { at: string };

export function toAuditView(row: AuditRow): AuditView {
  return { ...row, at: row.at.toISOString() };
}
