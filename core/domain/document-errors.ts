import { DomainError } from './errors';

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
