import sharp, { type Metadata } from 'sharp';
import {
  DocumentTooLargeError,
  UnprocessableDocumentError,
  UnsupportedDocumentTypeError,
} from '../core/domain/document-errors';
import type { DocumentStore } from '../core/domain/document-store';
import {
  countPdfPages,
  DOCUMENT_MEDIA_TYPES,
  type DocumentMediaType,
  isImage,
  sanitiseFileName,
  sniffMediaType,
} from '../core/domain/document-types';
import { NotFoundError, ValidationError } from '../core/domain/errors';
import type { DocumentsRepository } from '../db/documents.repository';
import type { DocumentRow } from '../db/schema';
import { type DocumentView, toDocumentView } from '../db/views/document.view';
import type { UploadedFile } from './multipart-upload';

export interface DocumentLimits {
  maxBytes: number;
  maxPixels: number;
}

interface Dimensions {
  width: number | null;
  height: number | null;
  pages: number | null;
}

/** Width, height and pages from the image header; nothing is decoded. */
async function imageDimensions(bytes: Buffer, maxPixels: number): Promise<Dimensions> {
  let meta: Metadata;
  try {
    // limitInputPixels is checked at decode time, and metadata() does not decode: the check is ours.
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw new UnprocessableDocumentError(
      'unreadable-document',
      `The image header cannot be read: ${(err as Error).message}`,
    );
  }
  const { width, height } = meta;
  if (!width || !height) {
    throw new UnprocessableDocumentError('unreadable-document', 'The image declares no width or height.');
  }
  if (width * height > maxPixels) {
    throw new UnprocessableDocumentError(
      'image-too-large',
      `The image declares ${width}×${height} pixels, more than the limit of ${maxPixels}.`,
      { width, height, maxPixels },
    );
  }
  return { width, height, pages: meta.pages ?? 1 };
}

export class DocumentsService {
  constructor(
    private readonly repository: DocumentsRepository,
    private readonly store: DocumentStore,
    private readonly limits: DocumentLimits,
  ) {}

  async upload(file: UploadedFile): Promise<{ document: DocumentView; deduplicated: boolean }> {
    const originalName =
      file.fileName === null || file.fileName === '' ? null : sanitiseFileName(file.fileName);
    if (file.fileName && originalName === null) {
      throw new ValidationError('file name: a path, "..", or control characters are not allowed', {
        errors: [{ field: 'file.filename', message: 'must be a plain file name' }],
      });
    }
    const { bytes } = file;
    if (bytes.length > this.limits.maxBytes) {
      throw new DocumentTooLargeError(`The document is larger than ${this.limits.maxBytes} bytes.`);
    }
    if (bytes.length === 0) throw new UnprocessableDocumentError('empty-document', 'The file is empty.');
    const mediaType: DocumentMediaType | null = sniffMediaType(bytes);
    if (!mediaType) {
      throw new UnsupportedDocumentTypeError(
        `The file is not one of ${DOCUMENT_MEDIA_TYPES.join(', ')} (judged by its content, not its name).`,
        { accepted: DOCUMENT_MEDIA_TYPES },
      );
    }
    const dimensions: Dimensions = isImage(mediaType)
      ? await imageDimensions(bytes, this.limits.maxPixels)
      : { width: null, height: null, pages: countPdfPages(bytes) };
    const { sha256, created } = await this.store.put(bytes);
    const row = await this.repository.insert({
      sha256,
      mediaType,
      sizeBytes: bytes.length,
      ...dimensions,
      originalName,
    });
    return { document: toDocumentView(row), deduplicated: !created };
  }

  async get(documentId: string): Promise<DocumentView> {
    return toDocumentView(await this.row(documentId));
  }

  async content(documentId: string): Promise<{ document: DocumentView; bytes: Buffer }> {
    const row = await this.row(documentId);
    const bytes = await this.store.get(row.sha256);
    if (!bytes) throw new Error(`document ${documentId}: bytes ${row.sha256} missing from the store`);
    return { document: toDocumentView(row), bytes };
  }

  private async row(documentId: string): Promise<DocumentRow> {
    const row = await this.repository.findById(documentId);
    if (!row) throw new NotFoundError(`no document ${documentId}`);
    return row;
  }
}
