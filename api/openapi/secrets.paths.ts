import { putSecretBody } from '../schemas';
import { jsonBody, pathParameter, problem } from './parts';

// OpenAPI paths of the secret store (api/routes/secrets.routes.ts).

export function secretPaths() {
  return {
    '/v1/secrets': {
      get: {
        summary: 'Secret names and metadata, never a value; admin',
        responses: { '200': { description: '{ items: {name, keyId, createdAt, updatedAt}[] }' } },
      },
      post: {
        summary: 'Store a secret (AES-256-GCM); replaces one of the same name; admin',
        requestBody: jsonBody(putSecretBody),
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
        parameters: [pathParameter('name', { type: 'string' })],
        responses: { '204': { description: 'Deleted' }, '404': problem },
      },
    },
  };
}
