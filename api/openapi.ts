import { z } from 'zod';
import { createRobotBody, listRobotsQuery, robotIdParams } from './schemas';

// Built from the same zod schemas the routes parse with, so the document cannot drift from validation.

const problem = {
  description: 'RFC 9457 problem details',
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
};
const robot = { content: { 'application/json': { schema: { $ref: '#/components/schemas/Robot' } } } };

function queryParameters(schema: z.ZodObject) {
  const json = z.toJSONSchema(schema, { io: 'input' }) as {
    properties?: Record<string, object>;
    required?: string[];
  };
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({
    name,
    in: 'query',
    required: json.required?.includes(name) ?? false,
    schema: property,
  }));
}

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
            '400': problem,
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
      '/health': {
        get: {
          summary: 'Dependencies with status and latency',
          responses: { '200': { description: 'All up' }, '503': { description: 'Degraded' } },
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
                properties: { field: { type: 'string' }, message: { type: 'string' } },
              },
            },
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
              enum: ['queued', 'pending', 'running', 'paused', 'parked', 'completed', 'failed', 'cancelled'],
            },
            priority: { type: 'string', enum: ['low', 'normal', 'high', 'critical'] },
            moduleName: { type: ['string', 'null'] },
            input: { type: 'object' },
            output: { type: ['object', 'null'] },
            progress: { type: ['object', 'null'] },
            error: { type: ['string', 'null'] },
            processingTimeMs: { type: ['integer', 'null'] },
            retryCount: { type: 'integer' },
            completenessScore: { type: ['number', 'null'] },
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
