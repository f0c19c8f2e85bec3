import { stepKindParams } from '../schemas';
import { pathParameter, problem } from './parts';

// OpenAPI paths of the step catalog (api/routes/step-kinds.routes.ts).

const stepKindSchema = {
  type: 'object',
  required: ['name', 'builtIn', 'runsOn', 'paramsSchema', 'secretParams', 'modules'],
  properties: {
    name: { type: 'string' },
    builtIn: { type: 'boolean' },
    runsOn: {
      type: 'string',
      enum: ['workflow', 'module'],
      description: 'workflow: the workflow runs it itself; module: an activity on a module queue',
    },
    paramsSchema: { type: 'object', description: 'JSON Schema of the params ({} when unchecked)' },
    secretParams: {
      type: 'array',
      items: { type: 'string' },
      description: 'Params that may hold {"$secret": name} references',
    },
    modules: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          version: { type: 'string' },
          live: { type: 'boolean', description: 'At least one replica heartbeats' },
          replicas: { type: 'integer' },
          isActive: { type: 'boolean' },
          draining: { type: 'boolean' },
        },
      },
    },
  },
};

export function stepKindPaths() {
  return {
    '/v1/step-kinds': {
      get: {
        summary: 'The step catalog: each kind, its params schema, secret params and the modules serving it',
        responses: {
          '200': {
            description: '{ items: StepKind[] }',
            content: {
              'application/json': {
                schema: { type: 'object', properties: { items: { type: 'array', items: stepKindSchema } } },
              },
            },
          },
        },
      },
    },
    '/v1/step-kinds/{kind}': {
      get: {
        summary: 'One step kind',
        parameters: [pathParameter('kind', stepKindParams)],
        responses: {
          '200': {
            description: 'The step kind',
            content: { 'application/json': { schema: stepKindSchema } },
          },
          '404': problem,
        },
      },
    },
  };
}
