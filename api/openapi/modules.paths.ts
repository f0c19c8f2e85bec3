import { listModulesQuery, moduleHeartbeatBody, registerModuleBody } from '../schemas';
import { jsonBody, pathParameter, problem, queryParameters } from './parts';

// OpenAPI paths of the module registry (api/routes/modules.routes.ts).

const moduleResponse = { content: { 'application/json': { schema: { type: 'object' } } } };
const nameParameter = pathParameter('name', { type: 'string' });
const theModule = { '200': { description: 'The module', ...moduleResponse }, '404': problem };

export function modulePaths() {
  return {
    '/v1/modules': {
      post: {
        summary: 'Register an external module (or update it; a new major version is 409)',
        requestBody: jsonBody(registerModuleBody),
        responses: {
          '201': { description: 'Registered', ...moduleResponse },
          '200': { description: 'Updated', ...moduleResponse },
          '400': problem,
          '409': problem,
        },
      },
      get: {
        summary:
          "Modules with live replicas, capacity, in-flight, circuit, robots routed; with robotType, each one's score",
        parameters: queryParameters(listModulesQuery),
        responses: { '200': { description: '{ items: Module[] }' }, '400': problem },
      },
    },
    '/v1/modules/{name}': {
      get: {
        summary: 'One module',
        parameters: [nameParameter, ...queryParameters(listModulesQuery)],
        responses: { ...theModule },
      },
      delete: {
        summary: 'Deactivate: no robot is routed to it any more',
        parameters: [nameParameter],
        responses: { ...theModule },
      },
    },
    '/v1/modules/{name}/drain': {
      post: {
        summary:
          "Stop routing new steps to it: steps running there finish, the robots' later steps go to other modules",
        parameters: [nameParameter],
        responses: { ...theModule },
      },
    },
    '/v1/modules/{name}/resume': {
      post: { summary: 'Undo drain', parameters: [nameParameter], responses: { ...theModule } },
    },
    '/v1/modules/{name}/heartbeat': {
      post: {
        summary: "An external module replica's liveness (every few seconds)",
        parameters: [nameParameter],
        requestBody: jsonBody(moduleHeartbeatBody),
        responses: {
          '200': { description: 'The module', ...moduleResponse },
          '400': problem,
          '404': problem,
        },
      },
    },
  };
}
