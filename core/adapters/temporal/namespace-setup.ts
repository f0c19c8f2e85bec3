import type { Connection } from '@temporalio/client';
import { msNumberToTs, optionalTsToMs } from '@temporalio/common/lib/time';
import { SEARCH_ATTRIBUTE_NAMES } from '../../domain/search-attributes';

// What a namespace needs before robots run on it (docs/adr/0050-retention.md): the robots' search
// attributes, and a retention that keeps each workflow's history as long as its robot row is kept,
// so the dashboard's and the API's links into the Web UI work for every robot still listed.

/** temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD. */
const KEYWORD = 2;
const DAY_SECONDS = 86_400;

type AddRequest = Parameters<Connection['operatorService']['addSearchAttributes']>[0];

export interface SearchAttributesSetup {
  created: string[];
  existing: string[];
}

/** Registers the robots' search attributes (Keyword) that the namespace lacks; refuses one of another type. */
export async function ensureSearchAttributes(
  connection: Connection,
  namespace: string,
): Promise<SearchAttributesSetup> {
  const listed = await connection.operatorService.listSearchAttributes({ namespace });
  const custom = (listed.customAttributes ?? {}) as Record<string, number>;
  const existing: string[] = [];
  const missing: string[] = [];
  for (const name of SEARCH_ATTRIBUTE_NAMES) {
    const type = custom[name];
    if (type === undefined) missing.push(name);
    else if (type !== KEYWORD)
      throw new Error(`search attribute ${name} exists on ${namespace} with another type than Keyword`);
    else existing.push(name);
  }
  if (missing.length > 0) {
    const searchAttributes = Object.fromEntries(missing.map((name) => [name, KEYWORD]));
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes,
    } as AddRequest);
  }
  return { created: missing, existing };
}

/** The namespace's workflow retention, in whole days (rounded up). */
export async function namespaceRetentionDays(connection: Connection, namespace: string): Promise<number> {
  const described = await connection.workflowService.describeNamespace({ namespace });
  return Math.ceil(
    (optionalTsToMs(described.config?.workflowExecutionRetentionTtl) ?? 0) / (DAY_SECONDS * 1000),
  );
}

/**
 * Raises the namespace's retention to `days` when it is shorter; a longer one is left (another
 * application on the namespace may need it). Returns the retention before and after.
 */
export async function ensureNamespaceRetention(
  connection: Connection,
  namespace: string,
  days: number,
): Promise<{ before: number; after: number }> {
  const before = await namespaceRetentionDays(connection, namespace);
  if (before >= days) return { before, after: before };
  await connection.workflowService.updateNamespace({
    namespace,
    // Only the retention is set: the server keeps every field of the config left out.
    config: { workflowExecutionRetentionTtl: msNumberToTs(days * DAY_SECONDS * 1000) },
  });
  return { before, after: days };
}
