import { listEmailsQuery } from '../schemas';
import { problem, queryParameters } from './parts';

// OpenAPI paths of the outbox (api/routes/emails.routes.ts).

export function emailPaths() {
  return {
    '/v1/emails': {
      get: {
        summary:
          'Outbox: emails of send-email steps (recipients, subject, robot, step, message id, status sent | sending — sending: in flight, or its outcome unknown —, sent at), newest first, cursor-paginated; robots:read',
        parameters: queryParameters(listEmailsQuery),
        responses: { '200': { description: '{items: SentEmail[], nextCursor}' }, '400': problem },
      },
    },
  };
}
