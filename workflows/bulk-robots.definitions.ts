import { defineQuery } from '@temporalio/workflow';
import type { BulkProgress } from '../core/domain/bulk-operation.contract';

// The bulk robots workflow's query handle; its contract is core/domain/bulk-operation.contract.ts.

export const bulkProgressQuery = defineQuery<BulkProgress>('bulkProgress');
