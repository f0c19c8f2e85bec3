import { ApplicationFailure, Context } from '@temporalio/activity';
import type { DocumentStore } from '../core/domain/document-store';
import { DOCUMENT_MEDIA_TYPES, type DocumentMediaType } from '../core/domain/document-types';
import { FAILURE_TYPES } from '../core/domain/failure-types';
import type { StepInput, StepOutput } from '../core/domain/step-activity.contract';
import type { DocumentRow } from '../db/schema';
import { DocumentTooLongError, type OcrLimits, PageTooLargeError, recognizeDocument } from './ocr-document';
import type { OcrEngine } from './ocr-pool';
import { UnreadableImageError } from './page-images';
import { PdfTimedOutError, UnreadablePdfError } from './pdf-tools';

export interface OcrDeps {
  documents: { findById(documentId: string): Promise<DocumentRow | null> };
  store: DocumentStore;
  engine: OcrEngine;
  limits: OcrLimits;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The document id from the robot input: `input[params.documentField ?? 'documentId']`. */
export function documentIdOf({ step, input }: Pick<StepInput, 'step' | 'input'>): string {
  const field = String(step.params.documentField ?? 'documentId');
  const id = input[field];
  if (typeof id !== 'string' || !UUID.test(id)) {
    throw ApplicationFailure.nonRetryable(
      `input field "${field}" must be a document id (upload the file with POST /v1/documents)`,
      FAILURE_TYPES.invalidRobotInput,
    );
  }
  return id;
}

/**
 * The step's failure when the document itself is the problem: non-retryable, so Temporal does not
 * retry it and the robot workflow neither fails it over nor counts it against the module's circuit
 * (workflows/robot/module-step.ts: a business failure is rethrown before recover()). Null for
 * anything else, which stays a retryable module fault.
 */
export function documentFailure(
  err: unknown,
  documentId: string,
  mediaType: string,
): ApplicationFailure | null {
  const fail = (type: string, message: string) => ApplicationFailure.nonRetryable(message, type);
  if (err instanceof UnreadableImageError || err instanceof UnreadablePdfError) {
    return fail(
      FAILURE_TYPES.unreadableDocument,
      `document ${documentId} (${mediaType}) cannot be read: ${err.message}`,
    );
  }
  if (err instanceof DocumentTooLongError) {
    return fail(FAILURE_TYPES.documentTooLong, `document ${documentId}: ${err.message}`);
  }
  if (err instanceof PageTooLargeError) {
    return fail(FAILURE_TYPES.documentPageTooLarge, `document ${documentId}: ${err.message}`);
  }
  if (err instanceof PdfTimedOutError) {
    return fail(FAILURE_TYPES.documentPageTimedOut, `document ${documentId}: ${err.message}`);
  }
  return null;
}

export function createOcrActivities({ documents, store, engine, limits }: OcrDeps) {
  return {
    /**
     * Text, lines and words of a stored document. Reads bytes by document id through the store
     * (never from workflow history), heartbeats while it works, and fails non-retryably when the
     * file itself is the problem (missing, corrupt, not an image, too long, a page too large or too
     * slow to render).
     */
    async ocr(stepInput: StepInput): Promise<StepOutput> {
      const documentId = documentIdOf(stepInput);
      const row = await documents.findById(documentId);
      if (!row)
        throw ApplicationFailure.nonRetryable(`no document ${documentId}`, FAILURE_TYPES.documentNotFound);
      if (!DOCUMENT_MEDIA_TYPES.includes(row.mediaType as DocumentMediaType)) {
        throw ApplicationFailure.nonRetryable(
          `document ${documentId} is ${row.mediaType}, which OCR does not read`,
          FAILURE_TYPES.unreadableDocument,
        );
      }
      const bytes = await store.get(row.sha256);
      if (!bytes) {
        throw ApplicationFailure.nonRetryable(
          `document ${documentId}: its content (sha256 ${row.sha256}) is not in the store`,
          FAILURE_TYPES.documentContentMissing,
        );
      }

      const context = Context.current();
      let progress = { page: 0, pages: row.pages ?? 0 };
      // A page can take seconds: beat between pages too, or a long page looks like a dead worker.
      const beat = () => context.heartbeat(progress);
      beat();
      const timer = setInterval(beat, 1000);
      try {
        const result = await recognizeDocument(
          engine,
          bytes,
          row.mediaType as DocumentMediaType,
          limits,
          (page, pages) => {
            progress = { page, pages };
            beat();
          },
        );
        return { documentId, ...result };
      } catch (err) {
        throw documentFailure(err, documentId, row.mediaType) ?? err;
      } finally {
        clearInterval(timer);
      }
    },
  };
}
