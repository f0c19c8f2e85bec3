import { ApplicationFailure } from '@temporalio/activity';
import { FAILURE_TYPES } from '../core/domain/failure-types';
import {
  type DocumentKind,
  ExtractionBudgetExceeded,
  extractInvoice,
  type TextLine,
} from '../core/domain/invoice-rules';
import type { StepInput, StepOutput } from '../core/domain/step-activity.contract';

const KINDS: readonly DocumentKind[] = ['invoice', 'receipt'];

/** The OCR output to read: `previous[params.from]`, else the latest earlier step with a `text`. */
function ocrOutput({ step, previous }: StepInput): Record<string, unknown> {
  const from = step.params.from;
  if (from !== undefined) {
    const output = typeof from === 'string' ? previous[from] : undefined;
    if (!output) {
      throw ApplicationFailure.nonRetryable(
        `step parameter from: no earlier step named ${JSON.stringify(from)}`,
        FAILURE_TYPES.invalidStepDefinition,
      );
    }
    return output;
  }
  const output = Object.values(previous)
    .reverse()
    .find((candidate) => typeof candidate.text === 'string');
  if (!output) {
    throw ApplicationFailure.nonRetryable(
      'extract needs an earlier ocr step (no text to read)',
      FAILURE_TYPES.invalidStepDefinition,
    );
  }
  return output;
}

/** Lines with their OCR confidence when the output has pages of lines, else the text's lines. */
function linesOf(output: Record<string, unknown>): TextLine[] {
  const pages = output.pages;
  if (Array.isArray(pages)) {
    return pages.flatMap((page: { lines?: { text?: unknown; confidence?: unknown }[] }) =>
      (page.lines ?? [])
        .filter((line) => typeof line.text === 'string')
        .map((line) => ({
          text: line.text as string,
          ...(typeof line.confidence === 'number' ? { confidence: line.confidence } : {}),
        })),
    );
  }
  return String(output.text ?? '')
    .split('\n')
    .map((text) => ({ text }));
}

/**
 * How long the rules may run. They run on the module's main thread, which sends no heartbeat meanwhile,
 * so the budget stays well under STEP_HEARTBEAT_TIMEOUT_SECONDS (10 s): past it Temporal would take the
 * replica for dead and retry the step elsewhere, a module fault for what is the document's doing.
 */
export const EXTRACT_TIME_BUDGET_MS = 5_000;

export function createExtractActivities(options: { timeBudgetMs?: number } = {}) {
  const budgetMs = options.timeBudgetMs ?? EXTRACT_TIME_BUDGET_MS;
  return {
    /**
     * Invoice / receipt fields from the OCR step's output by the rules of core/domain/invoice-rules.ts.
     * Pure and deterministic: a retry returns the same fields. Past the time budget the step fails for
     * good (ExtractionTimedOut) rather than return what it had: a partial result would depend on the
     * machine's speed, and a retry would only spend the budget again on the same text.
     */
    async extract(input: StepInput): Promise<StepOutput> {
      const kind = input.step.params.documentType;
      if (kind !== undefined && !KINDS.includes(kind as DocumentKind)) {
        throw ApplicationFailure.nonRetryable(
          `step parameter documentType must be one of ${KINDS.join(', ')}`,
          FAILURE_TYPES.invalidStepDefinition,
        );
      }
      const lines = linesOf(ocrOutput(input));
      const deadline = performance.now() + budgetMs;
      try {
        const extraction = extractInvoice(lines, {
          ...(kind ? { documentType: kind as DocumentKind } : {}),
          budgetSpent: () => performance.now() > deadline,
        });
        return { ...extraction };
      } catch (err) {
        if (!(err instanceof ExtractionBudgetExceeded)) throw err;
        throw ApplicationFailure.nonRetryable(
          `extraction ran past its ${budgetMs} ms budget over ${lines.length} lines: the document's text is too large or built to be slow`,
          FAILURE_TYPES.extractionTimedOut,
        );
      }
    },
  };
}
