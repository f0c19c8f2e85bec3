// OpenAPI paths of the routes api/app.ts serves itself, outside /v1 and without a key: health,
// metrics and this document.

export function appPaths() {
  return {
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
  };
}
