import { ROBOT_STATUSES } from '../../core/domain/robot';
import { reprioritizeBody } from '../bulk-robots.schemas';
import { approvalDecisionBody } from '../schemas';
import { jsonBody, pathParameter, problem, uuid } from './parts';

// OpenAPI paths of the robot control routes (api/routes/robot-control.routes.ts), and their answer.

const accepted = {
  description: 'Accepted',
  content: { 'application/json': { schema: { $ref: '#/components/schemas/ControlResult' } } },
};

const summaries = {
  cancel: 'Cancel a robot that is still open; it ends `cancelled`',
  pause:
    'Pause before the next step (`paused` once the running step is done; at once while it waits for a module)',
  resume: 'Resume a paused robot, or retry the failed step of a parked one',
  retry: 'Run a failed robot again (a new run, same workflow id) from its failed step',
  approve: 'Approve the step the robot waits on; `fields` are merged into its data',
  reject: 'Reject the step the robot waits on; the robot fails with the comment',
  reprioritize:
    'Give an open robot a new priority: its remaining steps are dispatched with it (409 when finished, already at it, or raised by its SLA)',
} as const;

const UPDATE_ACTIONS = new Set(['pause', 'resume', 'approve', 'reject', 'reprioritize']);

const updateKey = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description:
    "Names this action once: a repeat with the same key gets the first attempt's answer (202), even when that attempt's answer was lost (a 503 whose update took effect) and the robot has finished since. It is the workflow update's id (`<action>:<key>`).",
  schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,255}$' },
};

export function robotControlPaths() {
  return Object.fromEntries(
    Object.entries(summaries).map(([action, summary]) => {
      const body =
        action === 'approve' || action === 'reject'
          ? jsonBody(approvalDecisionBody, false)
          : action === 'reprioritize'
            ? jsonBody(reprioritizeBody)
            : null;
      return [
        `/v1/robots/{id}/${action}`,
        {
          post: {
            summary,
            parameters: [pathParameter('id', uuid), ...(UPDATE_ACTIONS.has(action) ? [updateKey] : [])],
            ...(body ? { requestBody: body } : {}),
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
}

export const controlResultSchema = {
  type: 'object',
  description: 'Accepted: the robot acts on it; its status changes as its workflow does',
  properties: {
    robotId: uuid,
    action: { type: 'string', enum: Object.keys(summaries) },
    status: { type: 'string', enum: [...ROBOT_STATUSES] },
    effect: { type: 'string', description: 'What the robot does next, in words' },
    runId: { type: 'string', description: 'retry: the new run' },
    links: { type: 'object', properties: { self: { type: 'string' } } },
  },
};
