import { applyCorrections, approvalNeeded } from '../../core/domain/approval-condition';
import { createBuiltInRobotTypes, robotTypeDefinitionSchema } from '../../core/domain/robot-types';

describe('approvalNeeded', () => {
  const scored = (completenessScore: number) => ({ extract: { completenessScore }, check: { valid: true } });

  it('waits below the threshold, not at or above it', () => {
    expect(approvalNeeded({ completenessBelow: 0.8 }, scored(0.7))).toEqual({
      wait: true,
      reason: 'completeness 0.7 is below 0.8',
    });
    expect(approvalNeeded({ completenessBelow: 0.8 }, scored(0.8)).wait).toBe(false);
    expect(approvalNeeded({ completenessBelow: 0.8 }, scored(1)).wait).toBe(false);
  });

  it('waits without a condition, and when no step measured completeness', () => {
    expect(approvalNeeded(undefined, scored(1)).wait).toBe(true);
    expect(approvalNeeded({ completenessBelow: 0.5 }, { check: { valid: true } })).toEqual({
      wait: true,
      reason: 'no earlier step reported a completeness score',
    });
  });
});

describe('applyCorrections', () => {
  const extraction = {
    completenessScore: 0.7,
    fields: { vendor: { value: 'Acme', confidence: 0.9, line: 'Acme' }, total: null },
    missing: ['total'],
  };

  it('sets the fields in the extraction shape, marked corrected, and clears them from missing', () => {
    const corrected = applyCorrections(extraction, { total: 12.5, vendor: 'ACME Ltd' });
    expect(corrected).toEqual({
      completenessScore: 0.7,
      fields: {
        vendor: { value: 'ACME Ltd', confidence: 1, line: 'Acme', corrected: true },
        total: { value: 12.5, confidence: 1, line: '', corrected: true },
      },
      missing: [],
    });
    // The original output is left as it was.
    expect(extraction.fields.total).toBeNull();
  });

  it('works on an output without fields', () => {
    expect(applyCorrections({ text: 'x' }, { a: 1 })).toEqual({
      text: 'x',
      fields: { a: { value: 1, confidence: 1, line: '', corrected: true } },
    });
  });
});

describe('approval params at registration', () => {
  const parse = (params: unknown, before: unknown[] = []) =>
    robotTypeDefinitionSchema.safeParse({
      name: 'x',
      version: 1,
      steps: [...before, { name: 'review', kind: 'approval', params }],
    });

  it('accepts a threshold in (0, 1] and corrects naming an earlier step', () => {
    expect(parse({ when: { completenessBelow: 1 } }).success).toBe(true);
    expect(parse({ corrects: 'extract' }, [{ name: 'extract', kind: 'noop' }]).success).toBe(true);
  });

  it.each([
    [{ when: { completenessBelow: 0 } }],
    [{ when: {} }],
    [{ when: 'low' }],
    [{ corrects: 'review' }],
  ])('refuses %j', (params) => {
    expect(parse(params).success).toBe(false);
  });

  it('the built-in invoice-intake reviews below 0.8 by default and corrects its extraction', () => {
    const review = createBuiltInRobotTypes()
      .find('invoice-intake')
      ?.steps.find((step) => step.kind === 'approval');
    expect(review?.params).toEqual({ when: { completenessBelow: 0.8 }, corrects: 'extract-fields' });
  });

  it('INVOICE_APPROVAL_BELOW reaches the built-in definition the process makes, and only that one', () => {
    const type = createBuiltInRobotTypes({ invoiceApprovalBelow: 0.5 }).find('invoice-intake');
    expect(type?.steps.find((step) => step.kind === 'approval')?.params.when).toEqual({
      completenessBelow: 0.5,
    });
    expect(type?.description).toContain('below 0.5');
    // Nothing global was changed: another catalogue keeps the default.
    expect(createBuiltInRobotTypes().find('invoice-intake')?.description).toContain('below 0.8');
  });
});
