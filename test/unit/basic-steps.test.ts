import { ApplicationFailure } from '@temporalio/common';
import { createBasicStepActivities } from '../../activities/basic-steps';
import { createBuiltInRobotTypes } from '../../core/domain/robot-types';
import type { StepInput } from '../../core/domain/step-activity.contract';

const steps = createBasicStepActivities();
const builtIns = createBuiltInRobotTypes();
const demo = builtIns.find('demo');

function stepInput(
  name: string,
  input: Record<string, unknown>,
  previous: StepInput['previous'] = {},
): StepInput {
  const step = demo?.steps.find((candidate) => candidate.name === name);
  if (!step) throw new Error(`demo has no step ${name}`);
  return { robotId: 'r1', step, input, previous };
}

describe('validate', () => {
  it('passes when required fields are present', async () => {
    await expect(steps.validate(stepInput('validate-input', { text: 'hi' }))).resolves.toEqual({
      valid: true,
      checked: ['text'],
    });
  });

  it.each([[{}], [{ text: '' }], [{ text: null }]])('fails non-retryably on %j', async (input) => {
    const failure = await steps.validate(stepInput('validate-input', input)).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect((failure as ApplicationFailure).nonRetryable).toBe(true);
    expect((failure as ApplicationFailure).type).toBe('InvalidRobotInput');
    expect((failure as Error).message).toBe('missing required input field(s): text');
  });
});

describe('classify', () => {
  it('picks the category with most keyword hits, case-insensitively', async () => {
    const out = await steps.classify(stepInput('classify-text', { text: 'INVOICE 12, Total: 5 EUR' }));
    expect(out).toEqual({
      category: 'invoice',
      confidence: 1,
      scores: { invoice: 2, complaint: 0, order: 0 },
    });
  });

  it('answers unknown with zero confidence when nothing matches', async () => {
    const out = await steps.classify(stepInput('classify-text', { text: 'hello there' }));
    expect(out).toMatchObject({ category: 'unknown', confidence: 0 });
  });

  it('splits confidence between categories that both match', async () => {
    const out = await steps.classify(stepInput('classify-text', { text: 'refund for my order' }));
    expect(out).toMatchObject({ category: 'complaint', confidence: 0.5 });
  });

  it('rejects a non-string field', async () => {
    await expect(steps.classify(stepInput('classify-text', { text: 42 }))).rejects.toThrow(
      'input field "text" must be a string',
    );
  });
});

describe('transform', () => {
  it('summarises and carries the category of an earlier step', async () => {
    const out = await steps.transform(
      stepInput('summarize', { text: 'one two  three' }, { 'classify-text': { category: 'order' } }),
    );
    expect(out).toEqual({ summary: 'one two three', wordCount: 3, characters: 14, category: 'order' });
  });

  it('truncates long text to twenty words', async () => {
    const text = Array.from({ length: 30 }, (_, i) => `w${i}`).join(' ');
    const out = await steps.transform(stepInput('summarize', { text }));
    expect(String(out.summary).split(' ')).toHaveLength(20);
    expect(String(out.summary).endsWith('…')).toBe(true);
  });
});

describe('validate with params.from (invoice-intake check-fields)', () => {
  const check = builtIns.find('invoice-intake')?.steps.find((step) => step.name === 'check-fields');
  const run = (extracted: Record<string, unknown>) => {
    if (!check) throw new Error('invoice-intake has no check-fields step');
    return steps.validate({
      robotId: 'r1',
      step: check,
      input: {},
      previous: { 'extract-fields': extracted },
    });
  };
  const field = (value: unknown) => ({ value, confidence: 0.9, line: String(value) });

  it('passes when the earlier step found every required field', async () => {
    const fields = {
      vendor: field('ACME'),
      date: field('2024-03-15'),
      total: field(10),
      currency: field('EUR'),
    };
    await expect(run({ fields })).resolves.toMatchObject({ valid: true });
  });

  it('fails non-retryably naming the fields the earlier step did not find', async () => {
    const failure = await run({
      fields: { vendor: field('ACME'), date: null, total: field(10), currency: null },
    }).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({
      nonRetryable: true,
      type: 'IncompleteResult',
      message: 'step extract-fields did not find required field(s): fields.date, fields.currency',
    });
  });
});
