import {
  backfillScheduleBody,
  createScheduleBody,
  nextRunsQuery,
  scheduleNoteBody,
  triggerScheduleBody,
  updateScheduleBody,
} from '../schedule.schemas';
import { jsonBody, pathParameter, problem, queryParameters } from './parts';

// OpenAPI paths of robot schedules (api/routes/schedules.routes.ts). Reads need robots:read, every
// change admin.

const idParameter = pathParameter('id', { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' });
const schedule = {
  content: {
    'application/json': {
      schema: {
        type: 'object',
        description:
          'The definition (description, type, input, priority, sla, cron | interval | calendar, timeZone, overlap, catchupWindow, jitter) with id, temporalScheduleId, paused, note, lastError (why the orchestrator paused it), recentRuns [{nominalTime, startedAt, workflowId, robotId}], runningRuns, nextRunTimes, createdAt, updatedAt',
      },
    },
  },
};
const json = (description: string) => ({
  content: { 'application/json': { schema: { type: 'object', description } } },
});
const admin = '(admin)';

export function schedulePaths() {
  return {
    '/v1/schedules': {
      post: {
        summary: `Create a robot schedule: a Temporal Schedule whose firings make robots ${admin}`,
        requestBody: jsonBody(createScheduleBody),
        responses: {
          '201': { description: 'Created', ...schedule },
          '400': { ...problem, description: 'Bad field, cron, time zone, unknown robot type or input' },
          '409': { ...problem, description: 'A schedule has this id' },
          '413': problem,
          '415': problem,
        },
      },
      get: {
        summary: "This deployment's robot schedules (not the maintenance schedules)",
        responses: { '200': { description: 'The schedules', ...json('{ items: Schedule[] }') } },
      },
    },
    '/v1/schedules/{id}': {
      get: {
        summary: 'A schedule with its state, recent runs and next run times',
        parameters: [idParameter],
        responses: { '200': { description: 'The schedule', ...schedule }, '400': problem, '404': problem },
      },
      patch: {
        summary: `Change the given fields; a new cron, interval or calendar replaces the old one ${admin}`,
        parameters: [idParameter],
        requestBody: jsonBody(updateScheduleBody),
        responses: { '200': { description: 'Changed', ...schedule }, '400': problem, '404': problem },
      },
      delete: {
        summary: `Delete the schedule (robots it made stay) ${admin}`,
        parameters: [idParameter],
        responses: { '204': { description: 'Deleted' }, '404': problem },
      },
    },
    '/v1/schedules/{id}/pause': {
      post: {
        summary: `Pause with a note ${admin}`,
        parameters: [idParameter],
        requestBody: jsonBody(scheduleNoteBody, false),
        responses: { '200': { description: 'Paused', ...schedule }, '400': problem, '404': problem },
      },
    },
    '/v1/schedules/{id}/resume': {
      post: {
        summary: `Resume with a note (clears lastError) ${admin}`,
        parameters: [idParameter],
        requestBody: jsonBody(scheduleNoteBody, false),
        responses: { '200': { description: 'Resumed', ...schedule }, '400': problem, '404': problem },
      },
    },
    '/v1/schedules/{id}/trigger': {
      post: {
        summary: `Fire once now (also when paused) ${admin}`,
        parameters: [idParameter],
        requestBody: jsonBody(triggerScheduleBody, false),
        responses: {
          '202': { description: 'Requested', ...json('{ id, triggered: true }') },
          '404': problem,
        },
      },
    },
    '/v1/schedules/{id}/backfill': {
      post: {
        summary: `Fire for every nominal time of a past range: one robot per time, none made twice ${admin}`,
        parameters: [idParameter],
        requestBody: jsonBody(backfillScheduleBody),
        responses: {
          '202': { description: 'Requested', ...json('{ id, runs }: the firings the range holds') },
          '400': problem,
          '404': problem,
          '422': { ...problem, description: 'The range holds more than 500 firings' },
        },
      },
    },
    '/v1/schedules/{id}/next': {
      get: {
        summary: 'The next N times the spec names (jitter applied), paused or not',
        parameters: [idParameter, ...queryParameters(nextRunsQuery)],
        responses: {
          '200': { description: 'The times', ...json('{ items: string[] } (ISO 8601)') },
          '400': problem,
          '404': problem,
        },
      },
    },
  };
}
