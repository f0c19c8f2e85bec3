import { existsSync } from 'node:fs';
import path from 'node:path';
import { createExtractActivities } from '../../activities/extract';
import {
  DocumentTooLongError,
  type OcrLimits,
  type OcrResult,
  recognizeDocument,
} from '../../activities/ocr-document';
import { ENG_LANG_PATH, TesseractPool } from '../../activities/ocr-pool';
import { UnreadableImageError } from '../../activities/page-images';
import { UnreadablePdfError } from '../../activities/pdf-tools';
import { sniffMediaType } from '../../core/domain/document-types';
import type { Extraction } from '../../core/domain/invoice-rules';
import type { StepDefinition } from '../../core/domain/robot-types';
import { ocrPages } from '../../core/observability/metrics';
import { type ExpectedInvoice, expectedInvoices, fixture, truncated } from '../support/document-samples';

// Real tesseract.js (one worker, as on a small module), real sharp and poppler, on the committed
// fixtures: each is read once in beforeAll and the tests look at the results.

const limits: OcrLimits = {
  maxDimension: 2500,
  maxPixels: 40_000_000,
  pdfDpi: 200,
  maxPages: 10,
  maxResultBytes: 200_000,
  pageTimeoutMs: 60_000,
};
// Recycle every 3 pages, so the 8 pages below run on three generations of workers.
const pool = new TesseractPool({ workers: 1, recyclePages: 3 });
const results = new Map<string, OcrResult>();
const invoices = expectedInvoices();

const read = (bytes: Buffer, overrides: Partial<OcrLimits> = {}) => {
  const mediaType = sniffMediaType(bytes);
  if (!mediaType) throw new Error('not a document');
  return recognizeDocument(pool, bytes, mediaType, { ...limits, ...overrides });
};

beforeAll(async () => {
  for (const invoice of invoices) results.set(invoice.file, await read(fixture(invoice.file)));
}, 240_000);

afterAll(async () => {
  await pool.close();
});

const result = (invoice: ExpectedInvoice): OcrResult => {
  const found = results.get(invoice.file);
  if (!found) throw new Error(`no OCR result for ${invoice.file}`);
  return found;
};

describe('ocr on the fixtures', () => {
  it.each(invoices.map((invoice) => [invoice.file, invoice] as const))(
    '%s: text has the vendor and the invoice number',
    (_file, invoice) => {
      const { text, confidence } = result(invoice);
      expect(text).toContain(invoice.vendor);
      expect(text).toContain(invoice.invoiceNumber);
      expect(confidence).toBeGreaterThan(60);
    },
  );

  it('reads a PDF text layer without OCR, and renders and OCRs both pages of a scanned PDF', () => {
    const textPdf = result(invoices.find((i) => i.file === 'invoice-text.pdf') as ExpectedInvoice);
    expect(textPdf.pages.map((page) => page.source)).toEqual(['text-layer']);
    const scanned = result(invoices.find((i) => i.file === 'invoice-scanned-2p.pdf') as ExpectedInvoice);
    expect(scanned.pageCount).toBe(2);
    expect(scanned.pages.map((page) => page.source)).toEqual(['ocr', 'ocr']);
    expect(scanned.pages[1]?.lines.map((line) => line.text)).toContain('Total: EUR 845.75');
  });

  it('gives every OCR line and word a confidence and a box inside the original image', () => {
    const png = result(invoices.find((i) => i.file === 'invoice-sans.png') as ExpectedInvoice);
    const lines = png.pages[0]?.lines ?? [];
    expect(lines.length).toBeGreaterThan(8);
    for (const line of lines) {
      expect(line.confidence).toBeGreaterThanOrEqual(0);
      expect(line.confidence).toBeLessThanOrEqual(100);
      const [x0, y0, x1, y1] = line.box ?? [];
      expect(x0).toBeLessThan(x1 as number);
      expect(y0).toBeLessThan(y1 as number);
      expect(x1).toBeLessThanOrEqual(1240);
      for (const [text, confidence, ...box] of line.words ?? []) {
        expect(line.text).toContain(text);
        expect(confidence).toBeGreaterThan(0);
        expect(box).toHaveLength(4);
      }
    }
    const total = lines.find((line) => line.text.startsWith('Total'));
    expect(total?.words?.map(([text]) => text)).toEqual(['Total:', '1,234.50', 'EUR']);
  });

  it('recycles its workers every OCR_RECYCLE_PAGES pages, terminating the old ones', () => {
    // 7 OCR pages (the text-layer PDF needs none) at 3 pages per generation.
    expect(pool.generations).toEqual({ started: 3, live: 1 });
  });

  it('drops word boxes, keeping lines, when the result would be over its size budget', async () => {
    const small = await read(fixture('receipt.jpg'), { maxResultBytes: 500 });
    expect(small.wordsOmitted).toBe(true);
    expect(small.pages[0]?.lines.every((line) => line.words === undefined)).toBe(true);
    expect(small.text).toContain('R-1029');
  }, 60_000);

  it('uses the eng data shipped in node_modules and writes no traineddata cache', () => {
    expect(ENG_LANG_PATH).toContain(path.join('node_modules', '@tesseract.js-data', 'eng'));
    expect(existsSync(path.join(ENG_LANG_PATH, 'eng.traineddata.gz'))).toBe(true);
    expect(existsSync(path.join(process.cwd(), 'eng.traineddata'))).toBe(false);
  });
});

describe('extract on the OCR of the fixtures', () => {
  const { extract } = createExtractActivities();
  const step: StepDefinition = {
    name: 'extract-fields',
    kind: 'extract',
    params: { from: 'read-document' },
    timeoutSeconds: 60,
  };

  it.each(invoices.map((invoice) => [invoice.file, invoice] as const))(
    '%s: vendor, invoice number, date, total and currency are right',
    async (_file, invoice) => {
      const output = (await extract({
        robotId: 'r',
        step,
        input: {},
        previous: { 'read-document': { ...result(invoice) } },
      })) as unknown as Extraction;
      const { fields } = output;
      expect({
        vendor: fields.vendor?.value,
        invoiceNumber: fields.invoiceNumber?.value,
        date: fields.date?.value,
        total: fields.total?.value,
        currency: fields.currency?.value,
      }).toEqual({
        vendor: invoice.vendor,
        invoiceNumber: invoice.invoiceNumber,
        date: invoice.date,
        total: invoice.total,
        currency: invoice.currency,
      });
      for (const field of Object.values(fields)) expect(field?.confidence).toBeGreaterThan(0.4);
      expect(output.completenessScore).toBe(1);
      expect(output.lineItems.length).toBeGreaterThan(0);
    },
  );
});

describe('ocr refuses files it cannot read', () => {
  it('an image whose pixel data is cut off (counted as an OCR page error)', async () => {
    const errors = async () =>
      (await ocrPages.get()).values.find((v) => v.labels.source === 'ocr' && v.labels.outcome === 'error')
        ?.value ?? 0;
    const before = await errors();
    await expect(read(truncated(fixture('invoice-sans.png')))).rejects.toThrow(UnreadableImageError);
    await expect(read(truncated(fixture('receipt.jpg')))).rejects.toThrow(UnreadableImageError);
    expect(await errors()).toBe(before + 2);
  });

  it('a corrupt PDF', async () => {
    const broken = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.from('this is not a pdf body')]);
    await expect(read(broken)).rejects.toThrow(UnreadablePdfError);
  });

  it('a PDF over OCR_MAX_PAGES', async () => {
    await expect(read(fixture('invoice-scanned-2p.pdf'), { maxPages: 1 })).rejects.toThrow(
      DocumentTooLongError,
    );
  });
});
