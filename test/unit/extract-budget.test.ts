import { ApplicationFailure } from '@temporalio/activity';
import { createExtractActivities, EXTRACT_TIME_BUDGET_MS } from '../../activities/extract';
import { FAILURE_TYPES } from '../../core/domain/failure-types';
import { ExtractionBudgetExceeded, extractInvoice, type TextLine } from '../../core/domain/invoice-rules';
import type { StepInput } from '../../core/domain/step-activity.contract';

// The extract step's time budget (issue 16): past it the step fails for good, never half-read.

const invoice = 'ACME Ltd\nInvoice No: 7\nDate: 2024-03-15\nWidget 2 x 10.00 20.00\nTotal 20.00 EUR';
const lines = (text: string): TextLine[] => text.split('\n').map((line) => ({ text: line }));

const stepInput = (text: string): StepInput => ({
  robotId: 'r',
  step: { name: 'extract-fields', kind: 'extract', params: {}, timeoutSeconds: 60 },
  input: {},
  previous: { ocr: { text } },
});

describe('extractInvoice with a budget', () => {
  it('reads as without one while the budget lasts', () => {
    expect(extractInvoice(lines(invoice), { budgetSpent: () => false })).toEqual(
      extractInvoice(lines(invoice)),
    );
  });

  it('stops at the first line read once it is spent', () => {
    let asked = 0;
    const spentAfterThree = () => ++asked > 3;
    expect(() => extractInvoice(lines(invoice), { budgetSpent: spentAfterThree })).toThrow(
      ExtractionBudgetExceeded,
    );
    expect(asked).toBe(4);
  });
});

describe('the extract step', () => {
  it('fails for good (ExtractionTimedOut) past its budget', async () => {
    const { extract } = createExtractActivities({ timeBudgetMs: 0 });
    const text = Array.from({ length: 2_000 }, (_, i) => `Widget ${i} 1 10.00 10.00`).join('\n');
    const failure = await extract(stepInput(text)).then(
      () => null,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: FAILURE_TYPES.extractionTimedOut, nonRetryable: true });
    expect((failure as Error).message).toMatch(/ran past its 0 ms budget over 2000 lines/);
  });

  it('reads a whole invoice within the default budget', async () => {
    expect(EXTRACT_TIME_BUDGET_MS).toBeLessThan(10_000);
    const output = await createExtractActivities().extract(stepInput(invoice));
    expect(output).toMatchObject({ completenessScore: 1, lineItemsMatchTotal: true });
  });
});
