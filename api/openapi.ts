import { z } from 'zod';
import { ROBOT_STATUSES } from '../core/robot';
import { SLA_STATES } from '../core/sla';
import { robotControlPaths } from './openapi-control';
import { problem, queryParameters } from './openapi-parts';
import { robotTypePaths } from './openapi-robot-types';
import {
  createRobotBody,
  createSubscriptionBody,
  listAlertsQuery,
  listEmailsQuery,
  listModulesQuery,
  listRobotsQuery,
  moduleHeartbeatBody,
  performanceReportFields,
  registerModuleBody,
  robotIdParams,
} from './schemas';

// Built from the same zod schemas the routes parse with, so the document cannot drift from validation.

const robot = { content: { 'application/json': { schema: { $ref: '#/components/schemas/Robot' } } } };
const moduleResponse = { content: { 'application/json': { schema: { type: 'object' } } } };
const moduleNameParameter = { name: 'name', in: 'path', required: true, schema: { type: 'string' } };

export function buildOpenApiDocument(version: string) {
  return {
    openapi: '3.1.0',
    info: { title: 'rpa-orchestrator API', version, description: 'Robots as durable Temporal workflows.' },
    paths: {
      '/v1/robots': {
        post: {
          summary: 'Create a robot',
          parameters: [
            {
              name: 'Idempotency-Key',
              in: 'header',
              required: false,
              schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,255}$' },
            },
          ],
          requestBody: {
            required: true,
            content: { 'application/json': { schema: z.toJSONSchema(createRobotBody, { io: 'input' }) } },
          },
          responses: {
            '201': { description: 'Created', ...robot },
            '200': { description: 'Repeat of an Idempotency-Key: the same robot', ...robot },
            '400': {
              ...problem,
              description:
                "A bad field, or input that does not match the robot type's inputSchema (errors[].path names each place in the input); nothing created",
            },
            '409': problem,
            '413': problem,
            '415': problem,
            '503': problem,
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
          parameters: [
            {
              name: 'id',
              in: 'path',
              required: true,
              schema: (z.toJSONSchema(robotIdParams) as unknown as { properties: { id: object } }).properties
                .id,
            },
          ],
          responses: { '200': { description: 'The robot', ...robot }, '400': problem, '404': problem },
        },
      },
      '/v1/modules': {
        post: {
          summary: 'Register an external module (or update it; a new major version is 409)',
          requestBody: {
            required: true,
            content: { 'application/json': { schema: z.toJSONSchema(registerModuleBody, { io: 'input' }) } },
          },
          responses: {
            '201': { description: 'Registered', ...moduleResponse },
            '200': { description: 'Updated', ...moduleResponse },
            '400': problem,
            '409': problem,
          },
        },
        get: {
          summary:
            "Modules with live replicas, capacity, in-flight, circuit, robots routed; with robotType, each one's score",
          parameters: queryParameters(listModulesQuery),
          responses: { '200': { description: '{ items: Module[] }' }, '400': problem },
        },
      },
      '/v1/modules/{name}': {
        get: {
          summary: 'One module',
          parameters: [moduleNameParameter, ...queryParameters(listModulesQuery)],
          responses: { '200': { description: 'The module', ...moduleResponse }, '404': problem },
        },
        delete: {
          summary: 'Deactivate: no robot is routed to it any more',
          parameters: [moduleNameParameter],
          responses: { '200': { description: 'The module', ...moduleResponse }, '404': problem },
        },
      },
      '/v1/modules/{name}/drain': {
        post: {
          summary: 'Stop routing new robots to it; robots already there finish',
          parameters: [moduleNameParameter],
          responses: { '200': { description: 'The module', ...moduleResponse }, '404': problem },
        },
      },
      '/v1/modules/{name}/resume': {
        post: {
          summary: 'Undo drain',
          parameters: [moduleNameParameter],
          responses: { '200': { description: 'The module', ...moduleResponse }, '404': problem },
        },
      },
      '/v1/modules/{name}/heartbeat': {
        post: {
          summary: "An external module replica's liveness (every few seconds)",
          parameters: [moduleNameParameter],
          requestBody: {
            required: true,
            content: { 'application/json': { schema: z.toJSONSchema(moduleHeartbeatBody, { io: 'input' }) } },
          },
          responses: {
            '200': { description: 'The module', ...moduleResponse },
            '400': problem,
            '404': problem,
          },
        },
      },
      '/v1/robots/{id}/events': {
        get: {
          summary: 'Server-Sent Events: the robot now, then every update in order; `end` when it finishes',
          parameters: [
            {
              name: 'id',
              in: 'path',
              required: true,
              schema: { type: 'string', format: 'uuid' },
            },
          ],
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
      '/v1/reports/performance': {
        get: {
          summary:
            'Per robot type and per module: throughput, latency percentiles, success rate of robots finished in [from, to)',
          parameters: queryParameters(performanceReportFields),
          responses: {
            '200': { description: '{from, to, robotTypes: {name: Summary}, modules: {name: Summary}}' },
            '400': problem,
          },
        },
      },
      '/v1/alerts': {
        get: {
          summary: 'Alerts, newest first (firing and resolved), cursor-paginated',
          parameters: queryParameters(listAlertsQuery),
          responses: { '200': { description: '{items: Alert[], nextCursor}' }, '400': problem },
        },
      },
      '/v1/mailboxes': {
        get: {
          summary:
            'Email-intake mailboxes (MAILBOXES, without passwords) with their monitor: status, UID checkpoint, last message, failures, alerts',
          responses: {
            '200': {
              description:
                '{items: [{name, host, port, secure, user, folder, robotType, processed, processedFolder, expectedHeartbeatSeconds, pollIntervalSeconds, failuresBeforeAlert, monitor: {workflowId, status, checkpoint: {uidValidity, lastUid}, watchingSince, lastMessageAt, lastCheckAt, messagesReceived, consecutiveFailures, lastError, alerts: {silent, unreachable}} | null, monitorError?}]}',
            },
          },
        },
      },
      '/v1/emails': {
        get: {
          summary:
            'Outbox: emails sent by send-email steps (recipients, subject, robot, step, message id, sent at), newest first, cursor-paginated; robots:read',
          parameters: queryParameters(listEmailsQuery),
          responses: { '200': { description: '{items: SentEmail[], nextCursor}' }, '400': problem },
        },
      },
      '/v1/notifications/subscriptions': {
        post: {
          summary:
            'Subscribe a webhook (`url`) or an email address (`channel: email`, `target`) to robot/alert events; a webhook subscription shows its signing secret once',
          requestBody: {
            required: true,
            content: {
              'application/json': { schema: z.toJSONSchema(createSubscriptionBody, { io: 'input' }) },
            },
          },
          responses: {
            '201': { description: 'Subscription (a webhook one with its secret)' },
            '400': problem,
            '422': {
              ...problem,
              description: 'Webhook target refused, or email without SMTP_URL configured',
            },
          },
        },
        get: { summary: 'Subscriptions (without secrets)', responses: { '200': { description: '{items}' } } },
      },
      '/v1/notifications/subscriptions/{id}': {
        delete: {
          summary: 'Remove a subscription',
          responses: { '204': { description: 'Removed' }, '404': problem },
        },
      },
      '/v1/notifications/subscriptions/{id}/deliveries': {
        get: {
          summary: 'Last 100 deliveries with attempts and last status',
          responses: { '200': { description: '{items}' } },
        },
      },
      ...robotControlPaths(problem),
      ...robotTypePaths(problem),
      '/v1/documents': {
        post: {
          summary:
            'Upload a document (PNG, JPEG, TIFF or PDF, judged by its bytes) as multipart field "file"',
          requestBody: {
            required: true,
            content: {
              'multipart/form-data': {
                schema: {
                  type: 'object',
                  required: ['file'],
                  properties: { file: { type: 'string', format: 'binary' } },
                },
              },
            },
          },
          responses: {
            '201': {
              description: 'Document metadata, with deduplicated: true when the bytes were already stored',
            },
            '400': problem,
            '413': problem,
            '415': problem,
            '422': problem,
          },
        },
      },
      '/v1/documents/{id}': {
        get: {
          summary: 'Document metadata',
          parameters: [
            { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } },
          ],
          responses: { '200': { description: 'Document' }, '400': problem, '404': problem },
        },
      },
      '/v1/documents/{id}/content': {
        get: {
          summary: 'The document bytes, with their media type',
          parameters: [
            { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } },
          ],
          responses: { '200': { description: 'The bytes' }, '400': problem, '404': problem },
        },
      },
      '/health': {
        get: {
          summary: 'Dependencies (database, cache, temporal, modules) with status and latency',
          responses: { '200': { description: 'All up' }, '503': { description: 'Degraded or unavailable' } },
        },
      },
      '/health/live': {
        get: { summary: 'Liveness: the process answers', responses: { '200': { description: 'Alive' } } },
      },
      '/health/ready': {
        get: {
          summary: 'Readiness, from the last background probe (O(1))',
          responses: {
            '200': { description: 'ok or degraded (cache or modules down)' },
            '503': { description: 'unavailable (Postgres or Temporal down)' },
          },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics (text format)',
          responses: { '200': { description: 'text/plain; version=0.0.4', content: { 'text/plain': {} } } },
        },
      },
      '/openapi.json': {
        get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1' } } },
      },
    },
    components: {
      schemas: {
        Problem: {
          type: 'object',
          required: ['type', 'title', 'status'],
          properties: {
            type: { type: 'string' },
            title: { type: 'string' },
            status: { type: 'integer' },
            detail: { type: 'string' },
            requestId: { type: 'string' },
            errors: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  field: { type: 'string' },
                  path: {
                    type: 'string',
                    description: 'JSON Pointer into the robot input (inputSchema errors)',
                  },
                  message: { type: 'string' },
                },
              },
            },
          },
        },
        ControlResult: {
          type: 'object',
          description: 'Accepted: the robot acts on it; its status changes as its workflow does',
          properties: {
            robotId: { type: 'string', format: 'uuid' },
            action: { type: 'string', enum: ['cancel', 'pause', 'resume', 'retry', 'approve', 'reject'] },
            status: { type: 'string', enum: [...ROBOT_STATUSES] },
            effect: { type: 'string', description: 'What the robot does next, in words' },
            runId: { type: 'string', description: 'retry: the new run' },
            links: { type: 'object', properties: { self: { type: 'string' } } },
          },
        },
        Robot: {
          type: 'object',
          properties: {
            robotId: { type: 'string', format: 'uuid' },
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
              description:
                'Routing decisions: candidates with factors, scores and why each lost; the winner and why',
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
        },
      },
    },
  };
}
