import { z } from 'zod';
import { problem, queryParameters } from './openapi-parts';
import { createKeyBody, keyIdParams, listAuditQuery, putSecretBody } from './schemas';

// The security part of the OpenAPI document: schemes, the key routes, and `security` on every
// operation (none on the open routes: everything outside /v1).

const authProblems = { '401': problem, '403': problem, '429': problem };
const keyView = { content: { 'application/json': { schema: { $ref: '#/components/schemas/ApiKey' } } } };

const secretPaths = {
  '/v1/secrets': {
    get: {
      summary: 'Secret names and metadata, never a value; admin',
      responses: { '200': { description: '{ items: {name, keyId, createdAt, updatedAt}[] }' } },
    },
    post: {
      summary: 'Store a secret (AES-256-GCM); replaces one of the same name; admin',
      requestBody: {
        required: true,
        content: { 'application/json': { schema: z.toJSONSchema(putSecretBody, { io: 'input' }) } },
      },
      responses: {
        '201': { description: 'Stored' },
        '200': { description: 'Replaced' },
        '400': problem,
        '503': problem,
      },
    },
  },
  '/v1/secrets/rotate': {
    post: {
      summary: 'Re-encrypt every secret under the first SECRETS_KEYS key; admin',
      responses: { '200': { description: '{ reEncrypted }' }, '503': problem },
    },
  },
  '/v1/secrets/{name}': {
    delete: {
      summary: 'Delete a secret; admin',
      parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
      responses: { '204': { description: 'Deleted' }, '404': problem },
    },
  },
};

const securityPaths = {
  ...secretPaths,
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
  '/v1/keys': {
    get: {
      summary: 'Every API key (never the key itself); admin',
      responses: { '200': { description: '{ items: ApiKey[] }' } },
    },
    post: {
      summary: 'Make an API key; the answer holds `key`, shown only this once; admin',
      requestBody: {
        required: true,
        content: { 'application/json': { schema: z.toJSONSchema(createKeyBody, { io: 'input' }) } },
      },
      responses: { '201': { description: 'The key, with `key`', ...keyView }, '400': problem },
    },
  },
  '/v1/keys/{id}': {
    delete: {
      summary: 'Revoke a key (every replica refuses it within API_KEY_CACHE_SECONDS); admin',
      parameters: [
        {
          name: 'id',
          in: 'path',
          required: true,
          schema: (z.toJSONSchema(keyIdParams) as unknown as { properties: { id: object } }).properties.id,
        },
      ],
      responses: { '200': { description: 'The revoked key', ...keyView }, '400': problem, '404': problem },
    },
  },
};

const schemas = {
  ApiKey: {
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
  },
};

type Operation = { security?: unknown; responses?: Record<string, unknown> };
interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown> };
}

/** Adds the key routes, the schemes and each operation's `security` and auth problems. */
export function withSecurity<T extends Document>(document: T): T & { security: object[] } {
  const paths: Record<string, Record<string, Operation>> = { ...document.paths, ...securityPaths };
  for (const [path, operations] of Object.entries(paths)) {
    for (const operation of Object.values(operations)) {
      if (path.startsWith('/v1/')) {
        operation.responses = { ...authProblems, ...operation.responses };
      } else {
        operation.security = [];
      }
    }
  }
  return {
    ...document,
    paths,
    security: [{ bearerAuth: [] }, { apiKeyHeader: [] }],
    components: {
      ...document.components,
      schemas: { ...document.components.schemas, ...schemas },
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer rpa_…' },
        apiKeyHeader: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
      },
    },
  };
}
