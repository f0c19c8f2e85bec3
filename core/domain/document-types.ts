// What a document is, decided from its bytes: never from its name or the declared content type.

export const DOCUMENT_MEDIA_TYPES = ['image/png', 'image/jpeg', 'image/tiff', 'application/pdf'] as const;
export type DocumentMediaType = (typeof DOCUMENT_MEDIA_TYPES)[number];

const startsWith = (bytes: Uint8Array, signature: readonly number[], offset = 0) =>
  bytes.length >= offset + signature.length && signature.every((byte, i) => bytes[offset + i] === byte);

/** The media type from the file's magic bytes, or null for anything this project does not take. */
export function sniffMediaType(bytes: Uint8Array): DocumentMediaType | null {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  // Little-endian "II*\0" and big-endian "MM\0*" TIFF.
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) {
    return 'image/tiff';
  }
  // "%PDF-" may follow up to 1024 bytes of junk (PDF 1.7, 7.5.2 and common reader practice).
  const head = Buffer.from(bytes.subarray(0, 1024)).toString('latin1');
  if (head.includes('%PDF-')) return 'application/pdf';
  return null;
}

export function isImage(mediaType: DocumentMediaType): boolean {
  return mediaType !== 'application/pdf';
}

export const FILE_NAME_MAX = 255;

/**
 * A file name as sent by a client, made safe to show: refused (null) if it tries a path trick
 * (a directory part, `..`, a drive letter, NUL or other control characters), trimmed otherwise.
 * The result is only ever displayed or sent back in Content-Disposition, never used as a path.
 */
export function sanitiseFileName(name: string): string | null {
  if ([...name].some((char) => (char.codePointAt(0) ?? 0) < 0x20 || char === '\u007f')) return null;
  if (/[/\\]/.test(name) || /^[a-z]:/i.test(name)) return null;
  const trimmed = name.normalize('NFC').trim();
  if (trimmed === '' || trimmed === '.' || trimmed === '..') return null;
  // Bidirectional overrides make "invoice‮fdp.exe" look like another name.
  const visible = trimmed.replace(/[\u202a-\u202e\u2066-\u2069]/g, '');
  return [...visible].slice(0, FILE_NAME_MAX).join('');
}

/** Counts the pages of a PDF without a parser: exact for plain files, null when they are hidden. */
export function countPdfPages(bytes: Uint8Array): number | null {
  // Page objects inside compressed object streams are invisible here; the OCR step counts those.
  const matches = Buffer.from(bytes)
    .toString('latin1')
    .match(/\/Type\s*\/Page(?![a-zA-Z])/g);
  return matches && matches.length > 0 ? matches.length : null;
}
