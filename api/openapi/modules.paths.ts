import { z } from 'zod';
import {
  listModulesQuery,
  moduleHeartbeatBody,
  moduleReplicaParams,
  registerModuleBody,
  stepDeclarationBody,
} from '../schemas';
import { jsonBody, pathParameter, problem, queryParameters } from './parts';

// OpenAPI paths of the module registry (api/routes/modules.routes.ts).

const moduleResponse = { content: { 'application/json': { schema: { type: 'object' } } } };
const { $schema: _dialect, ...declaration } = z.toJSONSchema(stepDeclarationBody, { io: 'output' });
/** A declaration as stored: every field present, defaults filled in. */
const storedDeclaration = { ...declaration, required: Object.keys(declaration.properties ?? {}) };
/** A registration's answer: the module, and its declarations as stored (defaults filled in). */
const registeredResponse = {
  content: {
    'application/json': {
      schema: {
        type: 'object',
        required: ['name', 'version', 'steps'],
        properties: {
          steps: { type: 'array', items: storedDeclaration },
        },
      },
    },
  },
};
const heartbeatResponse = {
  content: {
    'application/json': {
      schema: {
        type: 'object',
        required: ['heartbeatSeconds', 'ttlSeconds'],
        properties: {
          heartbeatSeconds: { type: 'integer', description: 'Beat this often (MODULE_HEARTBEAT_SECONDS)' },
          ttlSeconds: {
            type: 'integer',
            description:
              'A replica counts as live this long after its last beat (MODULE_REPLICA_TTL_SECONDS)',
          },
        },
      },
    },
  },
};
const nameParameter = pathParameter('name', { type: 'string' });
const theModule = { '200': { description: 'The module', ...moduleResponse }, '404': problem };

export function modulePaths() {
  return {
    '/v1/modules': {
      post: {
        summary:
          'Register an external module and the step kinds it serves (or update it; a new major version of the module, or of a custom kind another active module declares, is 409)',
        requestBody: jsonBody(registerModuleBody),
        responses: {
          '201': { description: 'Registered', ...registeredResponse },
          '200': { description: 'Updated', ...registeredResponse },
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
          '200': { description: 'The module, with the heartbeat cadence', ...heartbeatResponse },
          '400': problem,
          '404': problem,
          '503': {
            ...problem,
            description: 'The module state store (Redis) is away: not recorded, beat again',
          },
        },
      },
    },
    '/v1/modules/{name}/replicas/{replicaId}': {
      delete: {
        summary:
          'Deregister one replica at once (a module shutting down); a replica already gone is not an error',
        parameters: [nameParameter, pathParameter('replicaId', moduleReplicaParams)],
        responses: {
          '204': { description: 'Deregistered' },
          '400': problem,
          '404': problem,
          '503': {
            ...problem,
            description: 'The module state store (Redis) is away: the replica expires by its TTL',
          },
        },
      },
    },
  };
}
