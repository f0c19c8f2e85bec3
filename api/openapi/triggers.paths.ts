import { z } from 'zod';
import { createTriggerBody, triggerName, updateTriggerBody } from '../../core/domain/trigger';
import { jsonBody, pathParameter, problem } from './parts';

// OpenAPI paths of inbound webhook triggers (api/routes/triggers.routes.ts, api/routes/hooks.routes.ts).

const name = pathParameter('name', z.object({ name: triggerName }));

const trigger = {
  description:
    'The trigger: triggerId, name, robotType, priority, inputMapping, hookPath, createdAt, updatedAt',
};

const signatureHeaders = ['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((header) => ({
  name: header,
  in: 'header',
  required: true,
  schema: { type: 'string' },
  description: {
    'webhook-id': 'The message id: one robot per id, a repeat gets the same robot',
    'webhook-timestamp': 'Unix seconds; within HOOK_TOLERANCE_SECONDS (300) of the server clock',
    'webhook-signature': 'Space-separated `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`',
  }[header],
}));

export function triggerPaths() {
  return {
    '/v1/triggers': {
      get: {
        summary: 'Inbound webhook triggers, without their secrets; admin',
        responses: { '200': { description: '{ items: Trigger[] }' } },
      },
      post: {
        summary: 'Make a trigger; its signing secret is in this answer only; admin',
        requestBody: jsonBody(createTriggerBody),
        responses: {
          '201': { description: 'The trigger and its `secret` (whsec_…), shown once' },
          '400': problem,
          '409': problem,
          '503': problem,
        },
      },
    },
    '/v1/triggers/{name}': {
      get: {
        summary: 'One trigger, without its secret; admin',
        parameters: [name],
        responses: { '200': trigger, '404': problem },
      },
      patch: {
        summary: 'Change robot type, priority or mapping; set or rotate the secret (then shown once); admin',
        parameters: [name],
        requestBody: jsonBody(updateTriggerBody),
        responses: { '200': trigger, '400': problem, '404': problem },
      },
      delete: {
        summary: 'Delete a trigger: its hook answers 404 from then on; admin',
        parameters: [name],
        responses: { '204': { description: 'Deleted' }, '404': problem },
      },
    },
    '/hooks/{name}': {
      post: {
        summary: 'A signed webhook (Standard Webhooks) that starts one robot per webhook-id; no API key',
        parameters: [name, ...signatureHeaders],
        requestBody: { required: true, content: { 'application/json': { schema: {} } } },
        responses: {
          '202': {
            description: '{ robotId, trigger, links.robot }; the same for a repeat of an accepted webhook-id',
          },
          '400': problem,
          '401': problem,
          '404': problem,
          '409': problem,
          '413': problem,
          '422': problem,
          '429': problem,
        },
      },
    },
  };
}
