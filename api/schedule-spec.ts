import {
  type CalendarSpec,
  DAYS_OF_WEEK,
  type LooseRange,
  MONTHS,
  type ScheduleSpec,
} from '@temporalio/client';
import { parseDuration } from '../core/domain/durations';
import type { CalendarRule, RobotScheduleDefinition } from '../core/domain/robot-schedule';

// A schedule's "when" in Temporal's terms. The API speaks numbers for months (1-12) and weekdays
// (0 = Sunday); Temporal's TypeScript client wants their names.

type Field = CalendarRule['minute'];
type Range = { start: number; end?: number; step?: number };

/** `max`: where a stepped range without an end stops (`{start: 0, step: 15}` minutes: 0, 15, 30, 45). */
function mapField<U>(
  field: Field,
  max: number,
  name: (value: number) => U,
): LooseRange<U> | LooseRange<U>[] | '*' | undefined {
  if (field === undefined || field === '*') return field;
  const one = (value: number | Range): LooseRange<U> => {
    if (typeof value === 'number') return name(value);
    if (value.step !== undefined)
      return { start: name(value.start), end: name(value.end ?? max), step: value.step };
    return value.end === undefined
      ? { start: name(value.start) }
      : { start: name(value.start), end: name(value.end) };
  };
  return Array.isArray(field) ? field.map(one) : one(field);
}

const same = (value: number) => value;

function calendarSpec(rule: CalendarRule): CalendarSpec {
  const spec: CalendarSpec = {};
  const set = <K extends keyof CalendarSpec>(key: K, value: CalendarSpec[K] | undefined) => {
    if (value !== undefined) spec[key] = value;
  };
  set('second', mapField(rule.second, 59, same));
  set('minute', mapField(rule.minute, 59, same));
  set('hour', mapField(rule.hour, 23, same));
  set('dayOfMonth', mapField(rule.dayOfMonth, 31, same));
  set(
    'month',
    mapField(rule.month, 12, (value) => MONTHS[value - 1] ?? 'JANUARY'),
  );
  set(
    'dayOfWeek',
    mapField(rule.dayOfWeek, 6, (value) => DAYS_OF_WEEK[value] ?? 'SUNDAY'),
  );
  set('year', mapField(rule.year, 2200, same));
  set('comment', rule.comment);
  return spec;
}

export function toTemporalSpec(definition: RobotScheduleDefinition): ScheduleSpec {
  const base: ScheduleSpec = {
    timezone: definition.timeZone,
    jitter: parseDuration(definition.jitter) ?? 0,
  };
  if (definition.cron !== undefined) return { ...base, cronExpressions: [definition.cron] };
  if (definition.interval !== undefined) {
    return {
      ...base,
      intervals: [
        {
          every: parseDuration(definition.interval.every) ?? 60_000,
          offset: parseDuration(definition.interval.offset ?? '0s') ?? 0,
        },
      ],
    };
  }
  return { ...base, calendars: (definition.calendar ?? []).map(calendarSpec) };
}
