import { readFileSync } from 'node:fs';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import PDFDocument from 'pdfkit';

// Sample files for document tests: the committed invoice fixtures, and hostile files made here.

export const FIXTURES_DIR = path.resolve(__dirname, '..', 'fixtures', 'documents');

export interface ExpectedInvoice {
  file: string;
  vendor: string;
  invoiceNumber: string;
  date: string;
  total: number;
  currency: string;
}

export const expectedInvoices = (): ExpectedInvoice[] =>
  JSON.parse(readFileSync(path.join(FIXTURES_DIR, 'expected.json'), 'utf8')) as ExpectedInvoice[];

export const fixture = (file: string): Buffer => readFileSync(path.join(FIXTURES_DIR, file));

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = (CRC_TABLE[(c ^ byte) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/**
 * A valid-looking grayscale PNG of a few hundred bytes that declares `width`×`height` pixels: a
 * decompression bomb when the numbers are large (its one IDAT holds a single row).
 */
export function pngDeclaring(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.writeUInt8(8, 8); // bit depth
  ihdr.writeUInt8(0, 9); // grayscale
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(Math.min(width, 1024) + 1))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** The first `share` of a real PNG: its header is intact, its pixel data cut off. */
export function truncated(bytes: Buffer, share = 0.3): Buffer {
  return bytes.subarray(0, Math.floor(bytes.length * share));
}

/** A PDF whose text layer holds these lines (read without OCR): invoices made to measure in tests. */
export function textPdf(lines: string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const doc = new PDFDocument({ size: 'A4', margin: 50, info: { CreationDate: new Date(0) } });
    const chunks: Buffer[] = [];
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
    doc.font('Helvetica').fontSize(14);
    for (const line of lines) doc.text(line);
    doc.end();
  });
}
