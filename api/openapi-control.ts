import { z } from 'zod';
import { queryParameters } from './openapi-parts';
import { approvalDecisionBody, listApprovalsQuery } from './schemas';

// OpenAPI paths of the robot control routes (api/routes/robot-control.routes.ts).

const idParameter = { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };
const accepted = {
  description: 'Accepted',
  content: { 'application/json': { schema: { $ref: '#/components/schemas/ControlResult' } } },
};

const summaries = {
  cancel: 'Cancel a robot that is still open; it ends `cancelled`',
  pause: 'Pause before the next step (status `paused` once the running step is done)',
  resume: 'Resume a paused robot, or retry the failed step of a parked one',
  retry: 'Run a failed robot again (a new run, same workflow id) from its failed step',
  approve: 'Approve the step the robot waits on; `fields` are merged into its data',
  reject: 'Reject the step the robot waits on; the robot fails with the comment',
} as const;

const approvals = (problem: object) => ({
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
});

export function robotControlPaths(problem: object) {
  const paths = Object.fromEntries(
    Object.entries(summaries).map(([action, summary]) => {
      const withBody = action === 'approve' || action === 'reject';
      return [
        `/v1/robots/{id}/${action}`,
        {
          post: {
            summary,
            parameters: [idParameter],
            ...(withBody
              ? {
                  requestBody: {
                    required: false,
                    content: {
                      'application/json': { schema: z.toJSONSchema(approvalDecisionBody, { io: 'input' }) },
                    },
                  },
                }
              : {}),
            responses: {
              '202': accepted,
              '400': problem,
              '404': problem,
              '409': { ...problem, description: 'The action does not fit the robot status' },
              '503': problem,
            },
          },
        },
      ];
    }),
  );
  return { ...paths, ...approvals(problem) };
}
