import { createSubscriptionBody } from '../schemas';
import { jsonBody, problem } from './parts';

// OpenAPI paths of the notification subscriptions (api/routes/notifications.routes.ts).

export function notificationPaths() {
  return {
    '/v1/notifications/subscriptions': {
      post: {
        summary:
          'Subscribe a webhook (`url`) or an email address (`channel: email`, `target`) to robot/alert events; a webhook subscription shows its signing secret once',
        requestBody: jsonBody(createSubscriptionBody),
        responses: {
          '201': { description: 'Subscription (a webhook one with its secret)' },
          '400': problem,
          '422': {
            ...problem,
            description: 'Webhook target refused, or email without SMTP_URL configured',
          },
        },
      },
      get: { summary: 'Subscriptions (without secrets)', responses: { '200': { description: '{items}' } } },
    },
    '/v1/notifications/subscriptions/{id}': {
      delete: {
        summary: 'Remove a subscription',
        responses: { '204': { description: 'Removed' }, '404': problem },
      },
    },
    '/v1/notifications/subscriptions/{id}/deliveries': {
      get: {
        summary: 'Last 100 deliveries with attempts and last status',
        responses: { '200': { description: '{items}' } },
      },
    },
  };
}
