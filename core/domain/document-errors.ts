import { DomainError, UnavailableError } from './errors';

// Upload rejections; each maps to one stable problem type (api/middleware/problem.ts).

export class DocumentTooLargeError extends DomainError {
  readonly status = 413;
  readonly type = 'document-too-large';
}

export class UnsupportedDocumentTypeError extends DomainError {
  readonly status = 415;
  readonly type = 'unsupported-media-type';
}

/** The bytes are of an accepted type but cannot be taken: empty, unreadable header, too many pixels. */
export class UnprocessableDocumentError extends DomainError {
  readonly status = 422;
  constructor(
    readonly type: 'empty-document' | 'unreadable-document' | 'image-too-large',
    message: string,
    detail?: Record<string, unknown>,
  ) {
    super(message, detail);
  }
}

/**
 * The document store has no room for the bytes (ENOSPC, EDQUOT). Nothing of the upload is kept: no
 * partial file, no row. It is the operator's to fix (free space), so no Retry-After is promised.
 */
export class DocumentStoreFullError extends DomainError {
  readonly status = 507;
  readonly type = 'insufficient-storage';
}

/** The document store cannot be used now (read-only, I/O error, gone): a 503 like other outages. */
export class DocumentStoreUnavailableError extends UnavailableError {}
