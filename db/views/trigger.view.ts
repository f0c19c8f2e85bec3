import type { InputMapping } from '../../core/domain/trigger';
import type { TriggerRow } from '../schema';

/** What the API shows of a trigger: never its secret (that only once, when made or rotated). */
export interface TriggerView {
  triggerId: string;
  name: string;
  robotType: string;
  priority: string;
  inputMapping: InputMapping;
  /** Where senders POST: relative to the API's base URL. */
  hookPath: string;
  createdAt: string;
  updatedAt: string;
}

export function toTriggerView(row: TriggerRow): TriggerView {
  return {
    triggerId: row.triggerId,
    name: row.name,
    robotType: row.robotType,
    priority: row.priority,
    inputMapping: (row.inputMapping ?? null) as InputMapping,
    hookPath: `/hooks/${row.name}`,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
