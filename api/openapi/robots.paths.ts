import { ROBOT_STATUSES } from '../../core/domain/robot';
import { SLA_STATES } from '../../core/domain/sla';
import { createRobotBody, listRobotsQuery, robotIdParams } from '../schemas';
import { jsonBody, pathParameter, problem, queryParameters, uuid } from './parts';

// OpenAPI paths of the robot routes (api/routes/robots.routes.ts), and the Robot schema.

const robot = { content: { 'application/json': { schema: { $ref: '#/components/schemas/Robot' } } } };

export function robotPaths() {
  return {
    '/v1/robots': {
      post: {
        summary: 'Create a robot',
        parameters: [
          {
            name: 'Idempotency-Key',
            in: 'header',
            required: false,
            description:
              'A repeat with the same key and body returns the first robot (200). Scoped to the API key: another key never finds or learns of that robot. Expires IDEMPOTENCY_KEY_TTL_HOURS (default 24) after first use; then the key makes a new robot.',
            schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,255}$' },
          },
        ],
        requestBody: jsonBody(createRobotBody),
        responses: {
          '201': { description: 'Created', ...robot },
          '200': { description: 'Repeat of an Idempotency-Key: the same robot', ...robot },
          '400': {
            ...problem,
            description:
              "A bad field, or input that does not match the robot type's inputSchema (errors[].path names each place in the input); nothing created",
          },
          '409': {
            ...problem,
            description:
              "This API key's Idempotency-Key was used with a different body (robotId names that key's first robot)",
          },
          '413': problem,
          '415': problem,
          '503': {
            ...problem,
            description:
              'Temporal did not confirm the workflow start in time (Retry-After). robotId names the robot, which is kept: retry with the same Idempotency-Key to get it (200), never a second robot. No robotId: Temporal refused the start and nothing was made',
          },
        },
      },
      get: {
        summary: 'List robots, newest first',
        parameters: queryParameters(listRobotsQuery),
        responses: {
          '200': {
            description: 'A page of robots',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    items: { type: 'array', items: { $ref: '#/components/schemas/Robot' } },
                    nextCursor: { type: ['string', 'null'] },
                  },
                },
              },
            },
          },
          '400': problem,
        },
      },
    },
    '/v1/robots/{id}': {
      get: {
        summary: 'Get a robot (Redis, then Postgres, then Temporal)',
        parameters: [pathParameter('id', robotIdParams)],
        responses: { '200': { description: 'The robot', ...robot }, '400': problem, '404': problem },
      },
    },
  };
}

/** The robot's event stream (api/robot-stream.ts). */
export function robotEventPaths() {
  return {
    '/v1/robots/{id}/events': {
      get: {
        summary: 'Server-Sent Events: the robot now, then every update in order; `end` when it finishes',
        parameters: [pathParameter('id', uuid)],
        responses: {
          '200': {
            description: 'event: robot (data = Robot, id = update sequence) … event: end',
            content: { 'text/event-stream': {} },
          },
          '400': problem,
          '404': problem,
        },
      },
    },
  };
}

export const robotSchema = {
  type: 'object',
  properties: {
    robotId: uuid,
    type: { type: 'string' },
    typeVersion: { type: 'integer' },
    status: {
      type: 'string',
      enum: [...ROBOT_STATUSES],
    },
    priority: { type: 'string', enum: ['low', 'normal', 'high', 'critical'] },
    moduleName: { type: ['string', 'null'] },
    input: { type: 'object' },
    output: { type: ['object', 'null'] },
    progress: { type: ['object', 'null'] },
    routing: {
      type: 'array',
      description: 'Routing decisions: candidates with factors, scores and why each lost; the winner and why',
      items: { type: 'object' },
    },
    error: { type: ['string', 'null'] },
    processingTimeMs: { type: ['integer', 'null'] },
    retryCount: { type: 'integer' },
    completenessScore: { type: ['number', 'null'] },
    sla: {
      type: ['object', 'null'],
      description:
        'A robot with a deadline (docs/sla.md): at riskAt it is raised to critical and people are told; past the deadline a person must approve it',
      properties: {
        deadline: { type: 'string', format: 'date-time' },
        riskAt: { type: 'string', format: 'date-time' },
        state: { type: 'string', enum: [...SLA_STATES] },
      },
    },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
    links: {
      type: 'object',
      properties: { self: { type: 'string' }, temporalUi: { type: 'string' } },
    },
  },
};
