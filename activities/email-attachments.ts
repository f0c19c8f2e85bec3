import { ApplicationFailure } from '@temporalio/activity';
import type { DocumentStore } from '../core/domain/document-store';
import { FAILURE_TYPES, type FailureType } from '../core/domain/failure-types';
import { renderTemplate, singleLine } from '../core/domain/template';
import type { DocumentRow } from '../db/schema';

// send-email `params.attachments`: templated document ids, read from the document store with the
// media type and name stored at upload. Ids travel through the workflow, bytes never do.

export interface AttachmentDeps {
  documents: { findById(documentId: string): Promise<DocumentRow | null> };
  store: Pick<DocumentStore, 'get'>;
  /** The sum of the attachments' sizes per email (EMAIL_ATTACHMENTS_MAX_BYTES). */
  maxBytes: number;
}

export interface Attachment {
  filename: string;
  content: Buffer;
  contentType: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const EXTENSIONS: Record<string, string> = {
  'application/pdf': 'pdf',
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/tiff': 'tiff',
  'image/webp': 'webp',
};

const refuse = (message: string, type: FailureType) =>
  ApplicationFailure.nonRetryable(`send-email: ${message}`, type);

/** The attachments named by the step (none without `params.attachments`); a bad one fails the step for good. */
export async function loadAttachments(
  templates: unknown,
  data: unknown,
  deps: AttachmentDeps | null,
): Promise<Attachment[]> {
  if (templates === undefined) return [];
  if (!Array.isArray(templates) || !templates.every((entry) => typeof entry === 'string'))
    throw refuse(
      'parameter "attachments" must be a list of document ids',
      FAILURE_TYPES.invalidStepDefinition,
    );
  if (templates.length === 0) return [];
  if (!deps) throw refuse('this module has no document store for attachments', FAILURE_TYPES.noDocumentStore);
  const ids = templates.map((template) => singleLine(renderTemplate(template, data)));
  const attachments: Attachment[] = [];
  let total = 0;
  for (const id of ids) {
    if (!UUID.test(id))
      throw refuse(`attachment ${JSON.stringify(id)} is not a document id`, FAILURE_TYPES.documentNotFound);
    const row = await deps.documents.findById(id);
    if (!row) throw refuse(`attachment: no document ${id}`, FAILURE_TYPES.documentNotFound);
    total += row.sizeBytes;
    if (total > deps.maxBytes) {
      throw refuse(
        `attachments exceed ${deps.maxBytes} bytes (EMAIL_ATTACHMENTS_MAX_BYTES) at document ${id}`,
        FAILURE_TYPES.attachmentsTooLarge,
      );
    }
    const content = await deps.store.get(row.sha256);
    if (!content)
      throw refuse(`attachment ${id}: its content is not in the store`, FAILURE_TYPES.documentContentMissing);
    const extension = EXTENSIONS[row.mediaType] ?? 'bin';
    attachments.push({
      filename: row.originalName ?? `${id}.${extension}`,
      content,
      contentType: row.mediaType,
    });
  }
  return attachments;
}
