import { EMAIL_ADDRESS } from '../../core/domain/smtp';
import { type BoundedOutcome, callBounded } from '../support/bounded-call';

// ReDoS (issue 16): the rules that read document text and addresses run on a module's main
// thread, so a crafted line that makes a regex backtrack stalls every step of that replica. Each
// case is a 100 kB line built to make the old pattern backtrack polynomially (hours for the line
// item, tens of seconds for the others); linear code reads it in milliseconds. The bound is generous
// on purpose: it tells linear from catastrophic, not fast from slow.

const KB100 = 100_000;
const BOUND_MS = 2_000;
// The deadline only keeps a catastrophic case from hanging the run; the assertion is BOUND_MS.
const DEADLINE_MS = 8_000;

function expectFast(outcome: BoundedOutcome): void {
  expect(
    outcome.finished ? `finished in ${Math.round(outcome.ms)} ms` : 'still running at the deadline',
  ).toMatch(/^finished/);
  expect(outcome.ms).toBeLessThan(BOUND_MS);
}

const fill = (unit: string, length: number) => unit.repeat(Math.ceil(length / unit.length));

describe('hostile 100 kB lines finish fast', () => {
  it('a line of amounts that is no line item (extractInvoice)', async () => {
    // Description, quantity, then amounts that never end the line as an amount must.
    const line = `Widget 1 ${fill('1.00 ', KB100)}x`;
    const outcome = await callBounded(
      'core/domain/invoice-rules.ts',
      'extractInvoice',
      [[{ text: line }]],
      DEADLINE_MS,
    );
    expectFast(outcome);
    expect(outcome.finished && (outcome.result as { lineItems: unknown[] }).lineItems).toEqual([]);
  });

  it('a line of spaced digits under a total label (extractInvoice)', async () => {
    const line = `Total ${fill('1 2 ', KB100)}x`;
    const outcome = await callBounded(
      'core/domain/invoice-rules.ts',
      'extractInvoice',
      [[{ text: line }]],
      DEADLINE_MS,
    );
    expectFast(outcome);
  });

  it('an address with a long dotted domain that ends badly (EMAIL_ADDRESS)', async () => {
    const outcome = await callBounded(
      'core/domain/smtp.ts',
      'EMAIL_ADDRESS',
      [`a@${fill('a.', KB100)} `],
      DEADLINE_MS,
    );
    expectFast(outcome);
    expect(outcome.finished && outcome.result).toBe(false);
  });

  it('an address of dots between two @ (EMAIL_ADDRESS)', async () => {
    const outcome = await callBounded(
      'core/domain/smtp.ts',
      'EMAIL_ADDRESS',
      [`a@${fill('.', KB100)}@`],
      DEADLINE_MS,
    );
    expectFast(outcome);
    expect(outcome.finished && outcome.result).toBe(false);
  });

  it('a text-layer line of spaces before a word (textLayerLines)', async () => {
    const outcome = await callBounded(
      'activities/ocr-document.ts',
      'textLayerLines',
      [`${fill(' ', KB100)}x`],
      DEADLINE_MS,
    );
    expectFast(outcome);
    expect(outcome.finished && outcome.result).toEqual([{ text: 'x', confidence: 100, box: null }]);
  });
});

describe('EMAIL_ADDRESS', () => {
  // The pattern it replaced (quadratic on long domains), the reference on short strings.
  const OLD = /^[^\s@<>,;"]+@[^\s@<>,;"]+\.[^\s@<>,;"]+$/;

  it('accepts and refuses every short string as the old pattern did', () => {
    const alphabet = ['a', '.', '@', ' ', '<'];
    const differing: string[] = [];
    let accepted = 0;
    // Every string of up to 7 characters over the alphabet.
    const walk = (prefix: string) => {
      if (OLD.test(prefix) !== EMAIL_ADDRESS.test(prefix)) differing.push(prefix);
      if (OLD.test(prefix)) accepted++;
      if (prefix.length < 7) for (const c of alphabet) walk(prefix + c);
    };
    walk('');
    expect(differing).toEqual([]);
    expect(accepted).toBeGreaterThan(100);
    expect(EMAIL_ADDRESS.test('ops@example.com')).toBe(true);
    expect(EMAIL_ADDRESS.test('ops@example')).toBe(false);
  });
});
