import { toTemporalSpec } from '../../api/schedule-spec';
import { scheduledRobotId } from '../../core/adapters/crypto/scheduled-robot-id';
import { cronProblem } from '../../core/domain/cron';
import {
  nominalTimeOfWorkflowId,
  robotScheduleDefinitionSchema,
  scheduleIdOf,
  temporalScheduleId,
} from '../../core/domain/robot-schedule';

describe('cron expressions', () => {
  it.each([
    '* * * * *',
    '*/15 * * * *',
    '0 9 * * MON-FRI',
    '30 2 1,15 * *',
    '0 0 1 jan,jul 0',
    '5-55/10 8-18 * 1-12 1-7',
    '@daily',
  ])('accepts %s', (expression) => {
    expect(cronProblem(expression)).toBeUndefined();
  });

  it.each([
    ['* * * *', /5 fields.*has 4/],
    ['* * * * * *', /5 fields.*has 6/],
    ['60 * * * *', /minute field: 60 is outside 0-59/],
    ['* 24 * * *', /hour field: 24 is outside 0-23/],
    ['* * 0 * *', /day of month field: 0 is outside 1-31/],
    ['* * * 13 *', /month field: 13 is outside 1-12/],
    ['* * * * funday', /day of week field: "funday" is not a day of week/],
    ['*/0 * * * *', /step "0" is not a positive number/],
    ['1-2-3 * * * *', /"1-2-3" is not a range/],
    ['@sometimes', /5 fields/],
  ])('refuses %s, naming the field', (expression, problem) => {
    expect(cronProblem(expression)).toMatch(problem);
  });
});

describe('schedule definitions', () => {
  const base = { type: 'demo', input: { text: 'x' } };

  it('fills the defaults', () => {
    expect(robotScheduleDefinitionSchema.parse({ ...base, cron: '0 9 * * *' })).toEqual({
      ...base,
      cron: '0 9 * * *',
      priority: 'normal',
      timeZone: 'UTC',
      overlap: 'skip',
      catchupWindow: '5m',
      jitter: '0s',
    });
  });

  it.each([
    [{ ...base }, /give one of cron, interval or calendar/],
    [
      { ...base, cron: '0 9 * * *', interval: { every: '1h' } },
      /give only one of cron, interval or calendar \(got cron, interval\)/,
    ],
    [{ ...base, cron: '0 9 * * *', timeZone: 'Nowhere/City' }, /unknown time zone "Nowhere\/City"/],
    [{ ...base, interval: { every: '500ms' } }, /from 1s/],
    [{ ...base, calendar: [{ month: 13 }] }, /too big|<=12/i],
    [{ ...base, calendar: [{ hour: { start: 5, end: 3 } }] }, /end must not be before start/],
    [{ ...base, cron: '0 9 * * *', sla: '400d' }, /from 1s to 365d/],
  ])('refuses %j', (definition, problem) => {
    const result = robotScheduleDefinitionSchema.safeParse(definition);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.message).join('; ')).toMatch(problem);
  });

  it("turns into Temporal's spec: names for months and weekdays, stepped ranges to the field's end", () => {
    const definition = robotScheduleDefinitionSchema.parse({
      ...base,
      calendar: [
        { minute: { start: 0, step: 15 }, hour: [9, { start: 13, end: 17 }], month: 2, dayOfWeek: [1, 5] },
      ],
      timeZone: 'Europe/Paris',
      jitter: '30s',
    });
    expect(toTemporalSpec(definition)).toEqual({
      timezone: 'Europe/Paris',
      jitter: 30_000,
      calendars: [
        {
          minute: { start: 0, end: 59, step: 15 },
          hour: [9, { start: 13, end: 17 }],
          month: 'FEBRUARY',
          dayOfWeek: ['MONDAY', 'FRIDAY'],
        },
      ],
    });
    const interval = robotScheduleDefinitionSchema.parse({
      ...base,
      interval: { every: '15m', offset: '5m' },
    });
    expect(toTemporalSpec(interval).intervals).toEqual([{ every: 900_000, offset: 300_000 }]);
  });
});

describe('schedule and robot ids', () => {
  it("are per deployment: another control queue's schedules are not this one's", () => {
    const id = temporalScheduleId('rpa-control', 'nightly');
    expect(id).toBe('rpa-control:robot-schedule:nightly');
    expect(scheduleIdOf('rpa-control', id)).toBe('nightly');
    expect(scheduleIdOf('rpa-control-b', id)).toBeUndefined();
    expect(scheduleIdOf('rpa-control', 'rpa-control:health-monitor')).toBeUndefined();
  });

  it('derive one robot id per schedule and nominal time', () => {
    const a = scheduledRobotId('q:robot-schedule:s', '2026-01-01T00:00:00Z');
    expect(a).toBe(scheduledRobotId('q:robot-schedule:s', '2026-01-01T00:00:00.000Z'));
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a).not.toBe(scheduledRobotId('q:robot-schedule:s', '2026-01-01T00:00:01Z'));
    expect(a).not.toBe(scheduledRobotId('q2:robot-schedule:s', '2026-01-01T00:00:00Z'));
  });

  it('read the nominal time from the id Temporal gives a firing', () => {
    expect(nominalTimeOfWorkflowId('q:robot-schedule:s-2026-12-06T15:22:46Z')).toBe(
      '2026-12-06T15:22:46.000Z',
    );
    expect(nominalTimeOfWorkflowId('q:robot-schedule:s')).toBeUndefined();
  });
});
