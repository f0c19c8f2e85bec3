import { stepKindParams } from '../schemas';
import { pathParameter, problem } from './parts';

// OpenAPI paths of the step catalog (api/routes/step-kinds.routes.ts).

const stepKindSchema = {
  type: 'object',
  required: [
    'name',
    'builtIn',
    'runsOn',
    'version',
    'description',
    'paramsSchema',
    'inputSchema',
    'outputSchema',
    'secretParams',
    'modules',
  ],
  properties: {
    name: { type: 'string' },
    builtIn: { type: 'boolean' },
    version: {
      type: 'string',
      description:
        "The kind's contract version: the highest an active module declares (a built-in kind: the built-in steps' version)",
    },
    description: { type: 'string' },
    runsOn: {
      type: 'string',
      enum: ['workflow', 'module'],
      description: 'workflow: the workflow runs it itself; module: an activity on a module queue',
    },
    paramsSchema: { type: 'object', description: 'JSON Schema of the params ({} when unchecked)' },
    inputSchema: { type: 'object', description: 'JSON Schema of the robot data the step reads' },
    outputSchema: { type: 'object', description: "JSON Schema of the step's output" },
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
          version: { type: 'string', description: "The module build's version" },
          kindVersion: {
            type: ['string', 'null'],
            description:
              'The kind version it declared; null when it lists a built-in kind undeclared (supportedSteps)',
          },
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
        summary:
          'The step catalog: built-in kinds, then every custom kind a module declared; schemas, secret params and the modules serving each',
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
