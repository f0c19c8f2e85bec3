import { ApplicationFailure, Context } from '@temporalio/activity';
import { FAILURE_TYPES } from '../core/domain/failure-types';
import type { StepInput, StepOutput } from '../core/domain/step-activity.contract';

function textField(input: Record<string, unknown>, field: string): string {
  const value = input[field];
  if (typeof value !== 'string') {
    throw ApplicationFailure.nonRetryable(
      `input field "${field}" must be a string`,
      FAILURE_TYPES.invalidRobotInput,
    );
  }
  return value;
}

function stringList(value: unknown, what: string): string[] {
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw ApplicationFailure.nonRetryable(
      `step parameter ${what} must be a list of strings`,
      FAILURE_TYPES.invalidStepDefinition,
    );
  }
  return value;
}

/** `record[path]`, else the dotted path followed through nested objects. */
function valueAt(record: Record<string, unknown>, path: string): unknown {
  if (path in record) return record[path];
  let current: unknown = record;
  for (const key of path.split('.')) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** Per category, how many of its keywords the (lower-cased) text contains. */
function keywordHits(text: string, categories: Record<string, unknown>): Record<string, number> {
  const scores: Record<string, number> = {};
  for (const [category, keywords] of Object.entries(categories)) {
    scores[category] = stringList(keywords, `categories.${category}`).filter((word) =>
      text.includes(word.toLowerCase()),
    ).length;
  }
  return scores;
}

/** Pure, deterministic steps: retrying them can never duplicate a side effect. */
export function createBasicStepActivities() {
  return {
    /**
     * Checks required fields of the robot input, or with `params.from` of an earlier step's output
     * (dotted paths reach into it: `fields.total`).
     */
    async validate({ step, input, previous }: StepInput): Promise<StepOutput> {
      const required = stringList(step.params.required ?? [], 'required');
      const from = step.params.from;
      const subject = from === undefined ? input : previous[String(from)];
      if (!subject) {
        throw ApplicationFailure.nonRetryable(
          `step parameter from: no earlier step named ${JSON.stringify(from)}`,
          FAILURE_TYPES.invalidStepDefinition,
        );
      }
      const missing = required.filter((field) => {
        const value = valueAt(subject, field);
        return value === undefined || value === null || value === '';
      });
      if (missing.length > 0) {
        throw ApplicationFailure.nonRetryable(
          from === undefined
            ? `missing required input field(s): ${missing.join(', ')}`
            : `step ${String(from)} did not find required field(s): ${missing.join(', ')}`,
          from === undefined ? FAILURE_TYPES.invalidRobotInput : FAILURE_TYPES.incompleteResult,
          { missing },
        );
      }
      return { valid: true, checked: required };
    },

    async classify({ step, input }: StepInput): Promise<StepOutput> {
      const text = textField(input, String(step.params.field ?? 'text')).toLowerCase();
      const scores = keywordHits(text, (step.params.categories ?? {}) as Record<string, unknown>);
      const ranked = Object.entries(scores).sort(([a, x], [b, y]) => y - x || a.localeCompare(b));
      const [best, hits] = ranked[0] ?? ['unknown', 0];
      const total = ranked.reduce((sum, [, n]) => sum + n, 0);
      return {
        category: hits > 0 ? best : 'unknown',
        confidence: total > 0 ? Number((hits / total).toFixed(3)) : 0,
        scores,
      };
    },

    /**
     * Does nothing, optionally for a while: holds the module `params.ms` or `input.holdMs`
     * milliseconds, heartbeating each second so a dead worker is noticed within the heartbeat timeout.
     */
    async noop({ step, input }: StepInput): Promise<StepOutput> {
      const holdMs = Number(step.params.ms ?? input.holdMs ?? 0);
      if (!Number.isFinite(holdMs) || holdMs < 0 || holdMs > 3_600_000) {
        throw ApplicationFailure.nonRetryable(
          'hold time must be 0..3600000 ms',
          FAILURE_TYPES.invalidStepDefinition,
        );
      }
      const context = Context.current();
      for (let left = holdMs; left > 0; left -= 1000) {
        context.heartbeat({ leftMs: left });
        await context.sleep(Math.min(1000, left));
      }
      return { heldMs: holdMs, attempt: context.info.attempt };
    },

    async transform({ step, input, previous }: StepInput): Promise<StepOutput> {
      const fields = stringList(step.params.fields ?? [], 'fields');
      const text = fields.map((field) => textField(input, field)).join('\n');
      const words = text.split(/\s+/).filter(Boolean);
      const category = Object.values(previous).find(
        (output) => typeof output.category === 'string',
      )?.category;
      return {
        summary: words.length > 20 ? `${words.slice(0, 20).join(' ')}…` : words.join(' '),
        wordCount: words.length,
        characters: text.length,
        category: category ?? null,
      };
    },
  };
}
