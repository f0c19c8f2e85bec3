import { BULK_ACTIONS } from '../../core/domain/bulk-operation.contract';
import { ROBOT_PRIORITIES } from '../../core/domain/robot';
import { bulkActionParams, bulkBody, bulkOperationParams } from '../bulk-robots.schemas';
import { jsonBody, pathParameter, problem } from './parts';

// OpenAPI paths of the bulk actions on robots (api/routes/bulk-robots.routes.ts, ADR 0049).

const count = { type: 'integer', minimum: 0 };

export const bulkOperationSchema = {
  type: 'object',
  description: 'A bulk operation and its progress (the bulkRobotsWorkflow of the same id in Temporal)',
  properties: {
    operationId: { type: 'string', pattern: '^bulk-[0-9a-f]{32}$' },
    action: { type: 'string', enum: [...BULK_ACTIONS] },
    priority: { type: 'string', enum: [...ROBOT_PRIORITIES], description: 'reprioritize: the new priority' },
    state: {
      type: 'string',
      enum: ['matching', 'running', 'completed', 'cancelled'],
      description: 'matching: reading the set; running: acting on it batch by batch',
    },
    matched: { ...count, description: 'Robots in the set (fixed when the operation read it)' },
    done: { ...count, description: 'Robots the action was applied to' },
    skipped: {
      ...count,
      description: 'Robots whose state refused the action (e.g. already finished): see `reasons`',
    },
    failed: {
      ...count,
      description: 'Robots the action could not reach (e.g. Temporal away): see `failures`',
    },
    reasons: {
      type: 'object',
      additionalProperties: { type: 'integer' },
      description: 'Skips and failures by reason',
    },
    failures: {
      type: 'array',
      description: 'The first robots that failed (at most 20)',
      items: {
        type: 'object',
        properties: { robotId: { type: 'string' }, result: { type: 'string' }, reason: { type: 'string' } },
      },
    },
    filter: {
      type: 'object',
      description: 'The filter as applied: `createdTo` is at most the time of the request',
    },
    startedAt: { type: ['string', 'null'], format: 'date-time' },
    closedAt: { type: ['string', 'null'], format: 'date-time' },
    links: { type: 'object', properties: { self: { type: 'string' } } },
  },
};

const operation = {
  'application/json': { schema: { $ref: '#/components/schemas/BulkOperation' } },
};

const requestKey = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description:
    'Names the operation: a repeat of the key by the same API key returns the same operation (200), never a second one; the same key with another request is 409.',
  schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,255}$' },
};

export function bulkRobotPaths() {
  return {
    '/v1/robots/bulk/{action}': {
      post: {
        summary:
          'Cancel, retry, resume or reprioritize every robot a filter matches, as one durable operation (dryRun: count only)',
        parameters: [pathParameter('action', bulkActionParams), requestKey],
        requestBody: jsonBody(bulkBody),
        responses: {
          '200': {
            description: 'A dry run (`dryRun`, `matched`, `limit`, `sample` of ids), or the repeat of a key',
            content: {
              'application/json': {
                schema: {
                  oneOf: [
                    { $ref: '#/components/schemas/BulkOperation' },
                    {
                      type: 'object',
                      properties: {
                        dryRun: { const: true },
                        action: { type: 'string', enum: [...BULK_ACTIONS] },
                        matched: count,
                        limit: { type: 'integer', description: 'BULK_MAX_ROBOTS' },
                        sample: { type: 'array', items: { type: 'string' } },
                        filter: { type: 'object' },
                      },
                    },
                  ],
                },
              },
            },
          },
          '202': { description: 'Started; follow `links.self` for its progress', content: operation },
          '400': { ...problem, description: 'Bad filter, action or visibility query' },
          '409': { ...problem, description: 'The Idempotency-Key was used for another request' },
          '422': {
            ...problem,
            description: 'The filter matches more than BULK_MAX_ROBOTS (`matched`, `limit`)',
          },
          '503': problem,
        },
      },
    },
    '/v1/robots/bulk/{operationId}': {
      get: {
        summary: 'A bulk operation: its state and counts',
        parameters: [pathParameter('operationId', bulkOperationParams)],
        responses: { '200': { description: 'OK', content: operation }, '400': problem, '404': problem },
      },
    },
    '/v1/robots/bulk/{operationId}/cancel': {
      post: {
        summary: 'Stop a bulk operation after the batch it is acting on',
        parameters: [pathParameter('operationId', bulkOperationParams)],
        responses: {
          '202': { description: 'Stopping; its counts say what it did', content: operation },
          '404': problem,
          '409': { ...problem, description: 'The operation has finished' },
        },
      },
    },
  };
}
