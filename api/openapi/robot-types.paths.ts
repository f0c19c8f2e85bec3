import { robotTypeRegistrationSchema } from '../../core/domain/robot-types';
import { jsonBody, pathParameter, problem } from './parts';

// OpenAPI paths of the robot type registry (api/routes/robot-types.routes.ts).

const nameParameter = pathParameter('name', { type: 'string' });
const robotType = {
  content: {
    'application/json': {
      schema: {
        type: 'object',
        description:
          'The definition (name, version, description, inputSchema, sla, maxPendingSeconds, retentionDays, steps) with builtIn and createdAt (null for built-in types)',
      },
    },
  },
};
const items = {
  content: { 'application/json': { schema: { type: 'object', description: '{ items: RobotType[] }' } } },
};

export function robotTypePaths() {
  return {
    '/v1/robot-types': {
      post: {
        summary: 'Register a robot type (a JSON pipeline); each registration of a name is its next version',
        requestBody: jsonBody(robotTypeRegistrationSchema),
        responses: {
          '201': { description: 'Registered', ...robotType },
          '400': problem,
          '409': { ...problem, description: 'A built-in type has this name' },
          '413': problem,
          '415': problem,
        },
      },
      get: {
        summary: 'Built-in types and the newest version of each registered one',
        responses: { '200': { description: 'The types', ...items } },
      },
    },
    '/v1/robot-types/{name}': {
      get: {
        summary: 'The current version of a type',
        parameters: [nameParameter],
        responses: { '200': { description: 'The type', ...robotType }, '400': problem, '404': problem },
      },
    },
    '/v1/robot-types/{name}/versions': {
      get: {
        summary: 'Every version of a type, newest first',
        parameters: [nameParameter],
        responses: { '200': { description: 'The versions', ...items }, '400': problem, '404': problem },
      },
    },
  };
}
