import { createKeyBody, keyIdParams } from '../schemas';
import { jsonBody, pathParameter, problem } from './parts';

// OpenAPI paths of the API keys (api/routes/keys.routes.ts), and the ApiKey schema.

const keyView = { content: { 'application/json': { schema: { $ref: '#/components/schemas/ApiKey' } } } };

export function keyPaths() {
  return {
    '/v1/keys': {
      get: {
        summary: 'Every API key (never the key itself); admin',
        responses: { '200': { description: '{ items: ApiKey[] }' } },
      },
      post: {
        summary: 'Make an API key; the answer holds `key`, shown only this once; admin',
        requestBody: jsonBody(createKeyBody),
        responses: { '201': { description: 'The key, with `key`', ...keyView }, '400': problem },
      },
    },
    '/v1/keys/{id}': {
      delete: {
        summary:
          'Revoke a key (every replica refuses it at once over Redis; without Redis within API_KEY_CACHE_SECONDS); admin',
        parameters: [pathParameter('id', keyIdParams)],
        responses: { '200': { description: 'The revoked key', ...keyView }, '400': problem, '404': problem },
      },
    },
  };
}

export const apiKeySchema = {
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid' },
    name: { type: 'string' },
    prefix: { type: 'string' },
    scopes: { type: 'array', items: { type: 'string' } },
    createdAt: { type: 'string', format: 'date-time' },
    expiresAt: { type: ['string', 'null'], format: 'date-time' },
    revokedAt: { type: ['string', 'null'], format: 'date-time' },
    lastUsedAt: { type: ['string', 'null'], format: 'date-time' },
    key: { type: 'string', description: 'only in the answer to POST /v1/keys' },
  },
};
