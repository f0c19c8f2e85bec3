import { pathParameter, problem, uuid } from './parts';

// OpenAPI paths of the documents (api/routes/documents.routes.ts).

const idParameter = pathParameter('id', uuid);

export function documentPaths() {
  return {
    '/v1/documents': {
      post: {
        summary: 'Upload a document (PNG, JPEG, TIFF or PDF, judged by its bytes) as multipart field "file"',
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
          '503': { ...problem, description: 'The document store cannot be used now; Retry-After' },
          '507': { ...problem, description: 'The document store is full; nothing of the upload was kept' },
        },
      },
    },
    '/v1/documents/{id}': {
      get: {
        summary: 'Document metadata',
        parameters: [idParameter],
        responses: { '200': { description: 'Document' }, '400': problem, '404': problem },
      },
    },
    '/v1/documents/{id}/content': {
      get: {
        summary: 'The document bytes, with their media type',
        parameters: [idParameter],
        responses: {
          '200': { description: 'The bytes' },
          '400': problem,
          '404': problem,
          '503': { ...problem, description: 'The document store cannot be read now; Retry-After' },
        },
      },
    },
  };
}
