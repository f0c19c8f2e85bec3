import { listAuditQuery } from '../schemas';
import { problem, queryParameters } from './parts';

// OpenAPI paths of the audit log (api/routes/audit.routes.ts).

export function auditPaths() {
  return {
    '/v1/audit': {
      get: {
        summary: 'The audit log, newest first, filtered and paged with a cursor; admin',
        parameters: queryParameters(listAuditQuery),
        responses: {
          '200': { description: '{ items: AuditEntry[], nextCursor }' },
          '400': problem,
        },
      },
    },
  };
}
