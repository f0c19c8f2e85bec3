import { createTransport } from 'nodemailer';
import type { Config } from '../core/config';
import { LocalDocumentStore } from '../core/document-store';
import type { DatabaseHandle } from '../db/client';
import { DocumentsRepository } from '../db/documents.repository';
import { SentEmailsRepository } from '../db/sent-emails.repository';
import { createBasicStepActivities } from './basic-steps';
import { createEmailStepActivities } from './email-steps';
import { createExtractActivities } from './extract';
import { createOcrActivities } from './ocr';
import { TesseractPool } from './ocr-pool';
import type { StepActivities } from './types';

/** Word boxes are dropped from an ocr result past this size: it goes into workflow history. */
export const OCR_MAX_RESULT_BYTES = 256 * 1024;

export interface ModuleStepActivities {
  activities: Partial<StepActivities>;
  /** Stops what the steps started (the OCR workers). */
  close(): Promise<void>;
}

/** Every step a module worker runs by default, wired to its real dependencies. */
export function createModuleStepActivities(config: Config, database: DatabaseHandle): ModuleStepActivities {
  // One pool per module process; its workers start with the first ocr step.
  const engine = new TesseractPool({ workers: config.OCR_WORKERS, recyclePages: config.OCR_RECYCLE_PAGES });
  const documents = new DocumentsRepository(database.db, database.readDb);
  const store = new LocalDocumentStore(config.DOCUMENTS_DIR);
  return {
    activities: {
      ...createBasicStepActivities(),
      ...createOcrActivities({
        documents,
        store,
        engine,
        limits: {
          maxDimension: config.OCR_MAX_DIMENSION,
          maxPixels: config.DOCUMENT_MAX_PIXELS,
          pdfDpi: config.OCR_PDF_DPI,
          maxPages: config.OCR_MAX_PAGES,
          maxResultBytes: OCR_MAX_RESULT_BYTES,
        },
      }),
      ...createExtractActivities(),
      // Offered only with a relay: routing then sends send-email steps to modules that can send.
      ...(config.SMTP_URL
        ? createEmailStepActivities({
            transport: createTransport(config.SMTP_URL),
            from: config.SMTP_FROM,
            sentEmails: new SentEmailsRepository(database.db),
            attachments: { documents, store, maxBytes: config.EMAIL_ATTACHMENTS_MAX_BYTES },
          })
        : {}),
    },
    close: () => engine.close(),
  };
}
