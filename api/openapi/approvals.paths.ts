import { listApprovalsQuery } from '../schemas';
import { problem, queryParameters } from './parts';

// OpenAPI paths of the approvals list (api/routes/approvals.routes.ts).

export function approvalPaths() {
  return {
    '/v1/approvals': {
      get: {
        summary:
          'Robots waiting for a person, newest first: at an approval step (reason approval-step) or past their deadline (reason sla-missed)',
        parameters: queryParameters(listApprovalsQuery),
        responses: {
          '200': {
            description:
              '{ items: [{robotId, type, status, reason, step, waitingSince, deadline, escalated, data {input, outputs}, links}], nextCursor }; reason: approval-step | sla-missed (step is then the step the robot waits before)',
            content: { 'application/json': { schema: { type: 'object' } } },
          },
          '400': problem,
        },
      },
    },
  };
}
