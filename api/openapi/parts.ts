import { z } from 'zod';

// Pieces every paths file of the OpenAPI document uses.

export const problem = {
  description: 'RFC 9457 problem details',
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
};

export const problemSchema = {
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
};

/** A JSON request body from the same zod schema the route parses with. */
export function jsonBody(schema: z.ZodType, required = true) {
  return {
    required,
    content: { 'application/json': { schema: z.toJSONSchema(schema, { io: 'input' }) } },
  };
}

/** Query parameters from the same zod schema the route parses with. */
export function queryParameters(schema: z.ZodObject) {
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

/** A path parameter; its schema a JSON schema, or the property of the zod schema the route parses with. */
export function pathParameter(name: string, schema: object | z.ZodObject) {
  const property =
    schema instanceof z.ZodObject
      ? (z.toJSONSchema(schema) as { properties: Record<string, object> }).properties[name]
      : schema;
  return { name, in: 'path', required: true, schema: property };
}

export const uuid = { type: 'string', format: 'uuid' };
