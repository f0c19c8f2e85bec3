import { ApplicationFailure } from '@temporalio/activity';
import { documentFailure } from '../../activities/ocr';
import {
  DocumentTooLongError,
  type OcrLimits,
  PageTooLargeError,
  recognizeDocument,
} from '../../activities/ocr-document';
import { TesseractPool } from '../../activities/ocr-pool';
import { PdfTimedOutError } from '../../activities/pdf-tools';
import { sniffMediaType } from '../../core/domain/document-types';
import { FAILURE_TYPES } from '../../core/domain/failure-types';
import { pdfWithPage, slowPdf, tiffWithPages } from '../support/poison-documents';

// Poison documents (issue 16): files of a few hundred bytes that claim huge pages, many pages, or
// cost minutes to draw. Each is refused from what it declares, before anything is rendered: the
// real pool starts its tesseract workers on the first page it gets, so none started means no page
// reached recognition.

const limits: OcrLimits = {
  maxDimension: 2500,
  maxPixels: 40_000_000,
  pdfDpi: 200,
  maxPages: 10,
  maxResultBytes: 200_000,
  pageTimeoutMs: 60_000,
};
let pool: TesseractPool;

beforeEach(() => {
  pool = new TesseractPool({ workers: 1, recyclePages: 100 });
});
afterEach(async () => {
  await pool.close();
});

const read = (bytes: Buffer, overrides: Partial<OcrLimits> = {}) => {
  const mediaType = sniffMediaType(bytes);
  if (!mediaType) throw new Error('not a document');
  return recognizeDocument(pool, bytes, mediaType, { ...limits, ...overrides });
};

async function refusal(bytes: Buffer, overrides: Partial<OcrLimits> = {}): Promise<Error> {
  const started = Date.now();
  const error = await read(bytes, overrides).then(
    () => new Error('the document was read'),
    (err: Error) => err,
  );
  expect(Date.now() - started).toBeLessThan(5_000);
  expect(pool.generations.started).toBe(0);
  return error;
}

describe('poison documents are refused before rendering', () => {
  it('a one-page PDF whose MediaBox is 200000 × 200000 pt', async () => {
    const bytes = pdfWithPage(200_000, 200_000);
    expect(bytes.length).toBeLessThan(1_000);
    const error = await refusal(bytes);
    expect(error).toBeInstanceOf(PageTooLargeError);
    expect(error.message).toBe(
      'page 1 is 200000 × 200000 pt: 555556 × 555556 px at 200 dpi, more than the limit of 40000000 pixels',
    );
  });

  it('a PDF page just under the limit at OCR_PDF_DPI is not refused for its size', async () => {
    // 2200 × 2200 pt at 200 dpi: 6111 × 6111 px = 37.3 M pixels, under 40 M. Blank: one OCR page.
    const result = await read(pdfWithPage(2200, 2200, ''));
    expect(result.pages.map((page) => page.source)).toEqual(['ocr']);
  }, 60_000);

  it('a TIFF whose header claims 200000 × 200000 pixels', async () => {
    const error = await refusal(tiffWithPages([{ width: 200_000, height: 200_000 }]));
    expect(error).toBeInstanceOf(PageTooLargeError);
    expect(error.message).toBe('page 1 is 200000 × 200000 px, more than the limit of 40000000 pixels');
  });

  it('a TIFF whose third page claims huge dimensions, refused before its first page is read', async () => {
    const small = { width: 64, height: 64 };
    const error = await refusal(tiffWithPages([small, small, { width: 100_000, height: 1_000 }]));
    expect(error).toBeInstanceOf(PageTooLargeError);
    expect(error.message).toBe('page 3 is 100000 × 1000 px, more than the limit of 40000000 pixels');
  });

  it('a TIFF with 2000 pages', async () => {
    const bytes = tiffWithPages(Array.from({ length: 2000 }, () => ({ width: 1, height: 1 })));
    expect(bytes.length).toBeLessThan(300_000);
    const error = await refusal(bytes);
    expect(error).toBeInstanceOf(DocumentTooLongError);
    expect(error.message).toBe('the document has 2000 pages; at most 10 are read');
  });

  it('a PDF page whose render runs past the page timeout', async () => {
    const bytes = slowPdf();
    expect(bytes.length).toBeLessThan(1_000);
    const error = await refusal(bytes, { pageTimeoutMs: 1_000 });
    expect(error).toBeInstanceOf(PdfTimedOutError);
    expect(error.message).toBe('pdftoppm took longer than 1000 ms on page 1');
  });
});

describe('a poison document fails the ocr step for good (not a module fault)', () => {
  it.each([
    ['PageTooLargeError', new PageTooLargeError('page 1 is too large'), FAILURE_TYPES.documentPageTooLarge],
    [
      'PdfTimedOutError',
      new PdfTimedOutError('pdftoppm took longer than 1000 ms on page 1'),
      FAILURE_TYPES.documentPageTimedOut,
    ],
    ['DocumentTooLongError', new DocumentTooLongError('too long'), FAILURE_TYPES.documentTooLong],
  ])('%s fails the step non-retryably', (_name, error, type) => {
    const failure = documentFailure(error, 'doc-1', 'application/pdf');
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure?.nonRetryable).toBe(true);
    expect(failure?.type).toBe(type);
    expect(failure?.message).toContain(error.message);
  });

  it('leaves other errors (a module fault) retryable', () => {
    expect(documentFailure(new Error('ECONNRESET'), 'doc-1', 'application/pdf')).toBeNull();
  });
});
