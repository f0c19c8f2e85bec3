import type { DocumentRow } from '../schema';

/** A stored document as the API shows it, with the links to itself and its bytes. */
export interface DocumentView {
  documentId: string;
  sha256: string;
  mediaType: string;
  sizeBytes: number;
  width: number | null;
  height: number | null;
  pages: number | null;
  originalName: string | null;
  createdAt: string;
  links: { self: string; content: string };
}

export function toDocumentView(row: DocumentRow): DocumentView {
  return {
    documentId: row.documentId,
    sha256: row.sha256,
    mediaType: row.mediaType,
    sizeBytes: row.sizeBytes,
    width: row.width,
    height: row.height,
    pages: row.pages,
    originalName: row.originalName,
    createdAt: row.createdAt.toISOString(),
    links: {
      self: `/v1/documents/${row.documentId}`,
      content: `/v1/documents/${row.documentId}/content`,
    },
  };
}
