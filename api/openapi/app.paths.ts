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
          '503': {
            description:
              'unavailable (Postgres or Temporal down), or the process is shutting down ("draining": true, from SIGTERM on)',
          },
        },
      },
    },
    '/metrics': {
      get: {
        summary: 'Prometheus metrics (text format)',
        description:
          'Open unless METRICS_TOKEN is set; then send "Authorization: Bearer <METRICS_TOKEN>" or an API key with the admin scope. Robot counts come from a background sample (METRICS_SAMPLE_SECONDS); a scrape queries no database.',
        responses: {
          '200': { description: 'text/plain; version=0.0.4', content: { 'text/plain': {} } },
          '401': { description: 'METRICS_TOKEN is set and neither it nor a valid API key was sent' },
          '403': { description: 'METRICS_TOKEN is set and the API key lacks the admin scope' },
        },
      },
    },
    '/openapi.json': {
      get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1' } } },
    },
  };
}
