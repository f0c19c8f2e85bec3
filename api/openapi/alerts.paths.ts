import { listAlertsQuery } from '../schemas';
import { problem, queryParameters } from './parts';

// OpenAPI paths of the alerts (api/routes/alerts.routes.ts).

export function alertPaths() {
  return {
    '/v1/alerts': {
      get: {
        summary: 'Alerts, newest first (firing and resolved), cursor-paginated',
        parameters: queryParameters(listAlertsQuery),
        responses: { '200': { description: '{items: Alert[], nextCursor}' }, '400': problem },
      },
    },
  };
}
