// A five-field cron expression (minute hour day-of-month month day-of-week), checked before Temporal
// sees it, so a typo is a 400 that names the field instead of the server's generic parse error.
// Pure: the API validates with it; Temporal itself parses and runs the expression.

const FIELDS = [
  { name: 'minute', min: 0, max: 59, names: [] as string[] },
  { name: 'hour', min: 0, max: 23, names: [] as string[] },
  { name: 'day of month', min: 1, max: 31, names: [] as string[] },
  {
    name: 'month',
    min: 1,
    max: 12,
    names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'],
  },
  // 7 is Sunday too, as in Vixie cron.
  { name: 'day of week', min: 0, max: 7, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
] as const;

const SHORTHANDS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

function fieldValue(text: string, field: (typeof FIELDS)[number]): number | undefined {
  if (/^\d{1,2}$/.test(text)) return Number(text);
  const index = (field.names as readonly string[]).indexOf(text.toLowerCase());
  return index < 0 ? undefined : index + field.min;
}

function partProblem(part: string, field: (typeof FIELDS)[number]): string | undefined {
  const [range = '', step, extra] = part.split('/');
  if (extra !== undefined) return `"${part}" has more than one "/"`;
  if (step !== undefined && !/^[1-9]\d{0,2}$/.test(step)) return `step "${step}" is not a positive number`;
  if (range === '*') return undefined;
  const [from = '', to, more] = range.split('-');
  if (more !== undefined) return `"${range}" is not a range`;
  for (const end of to === undefined ? [from] : [from, to]) {
    const value = fieldValue(end, field);
    if (value === undefined) return `"${end}" is not a ${field.name}`;
    if (value < field.min || value > field.max)
      return `${value} is outside ${field.min}-${field.max} for the ${field.name}`;
  }
  return undefined;
}

/** Why the expression is not one we accept, or undefined when it is. */
export function cronProblem(expression: string): string | undefined {
  const text = expression.trim();
  if (SHORTHANDS.has(text.toLowerCase())) return undefined;
  const parts = text.split(/\s+/);
  if (parts.length !== FIELDS.length) {
    return `a cron expression has 5 fields (minute hour day-of-month month day-of-week), this one has ${parts.length}`;
  }
  for (const [index, field] of FIELDS.entries()) {
    for (const part of (parts[index] ?? '').split(',')) {
      const problem = partProblem(part, field);
      if (problem) return `${field.name} field: ${problem}`;
    }
  }
  return undefined;
}
