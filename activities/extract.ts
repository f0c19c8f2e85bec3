import { ApplicationFailure } from '@temporalio/activity';
import { FAILURE_TYPES } from '../core/domain/failure-types';
import { type DocumentKind, extractInvoice, type TextLine } from '../core/domain/invoice-rules';
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

export function createExtractActivities() {
  return {
    /**
     * Invoice / receipt fields from the OCR step's output by the rules of core/domain/invoice-rules.ts.
     * Pure and deterministic: a retry returns the same fields.
     */
    async extract(input: StepInput): Promise<StepOutput> {
      const kind = input.step.params.documentType;
      if (kind !== undefined && !KINDS.includes(kind as DocumentKind)) {
        throw ApplicationFailure.nonRetryable(
          `step parameter documentType must be one of ${KINDS.join(', ')}`,
          FAILURE_TYPES.invalidStepDefinition,
        );
      }
      const extraction = extractInvoice(
        linesOf(ocrOutput(input)),
        kind ? { documentType: kind as DocumentKind } : {},
      );
      return { ...extraction };
    },
  };
}
