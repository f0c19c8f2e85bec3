// Writes the invoice and receipt fixtures of test/fixtures/documents (committed; rerun after a
// change: `npx tsx scripts/make-document-fixtures.ts`). Text is SVG rendered by sharp (librsvg with
// the system fonts: DejaVu, Liberation), PDFs by pdfkit, noise from a seeded generator so the files
// come out the same on every run.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import PDFDocument from 'pdfkit';
import sharp from 'sharp';

const OUT = path.resolve(__dirname, '..', 'test', 'fixtures', 'documents');
const WIDTH = 1240;

export interface InvoiceFixture {
  file: string;
  vendor: string;
  invoiceNumber: string;
  date: string;
  total: number;
  currency: string;
  lines: string[];
}

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function svgPage(lines: string[], font: string, size = 30): Buffer {
  const lineHeight = Math.round(size * 1.6);
  const height = 120 + lines.length * lineHeight;
  const text = lines
    .map((line, i) => `<text x="80" y="${100 + i * lineHeight}">${escapeXml(line)}</text>`)
    .join('');
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}">` +
      `<rect width="100%" height="100%" fill="white"/>` +
      `<g font-family="${font}" font-size="${size}" fill="#111">${text}</g></svg>`,
  );
}

/** Mulberry32: a tiny seeded generator, so the noisy fixture is reproducible. */
function random(seed: number) {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function withNoise(png: Buffer, seed: number, share: number): Promise<Buffer> {
  const { data, info } = await sharp(png).greyscale().raw().toBuffer({ resolveWithObject: true });
  const next = random(seed);
  for (let i = 0; i < data.length; i++) {
    if (next() < share) data[i] = next() < 0.5 ? 0 : 255;
  }
  return sharp(data, { raw: { width: info.width, height: info.height, channels: 1 } })
    .png()
    .toBuffer();
}

function invoiceLines(f: Omit<InvoiceFixture, 'file' | 'lines'>, body: string[]): string[] {
  return [f.vendor, ...body];
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const fixtures: InvoiceFixture[] = [];
  const add = (fixture: InvoiceFixture, bytes: Buffer) => {
    writeFileSync(path.join(OUT, fixture.file), bytes);
    fixtures.push(fixture);
  };

  const sans = {
    vendor: 'ACME Supplies Ltd',
    invoiceNumber: 'INV-2024-0042',
    date: '2024-03-15',
    total: 1234.5,
    currency: 'EUR',
  };
  const sansLines = invoiceLines(sans, [
    '12 Harbour Road, Dublin',
    'INVOICE',
    'Invoice No: INV-2024-0042',
    'Date: 2024-03-15',
    'Description          Qty   Unit Price   Amount',
    'Printer paper A4      10        25.00   250.00',
    'Toner cartridge        4       246.13   984.52',
    'Subtotal: 1,234.52',
    'Rounding: -0.02',
    'Total: 1,234.50 EUR',
  ]);
  add(
    { file: 'invoice-sans.png', ...sans, lines: sansLines },
    await sharp(svgPage(sansLines, 'DejaVu Sans')).png().toBuffer(),
  );

  const serif = {
    vendor: 'Northwind Traders',
    invoiceNumber: 'NW-7781',
    date: '2024-03-15',
    total: 560,
    currency: 'USD',
  };
  const serifLines = invoiceLines(serif, [
    '400 Market Street, Seattle',
    'INVOICE',
    'Invoice Number: NW-7781',
    'Invoice Date: March 15, 2024',
    'Consulting hours       8    70.00   560.00',
    'Amount Due: USD 560.00',
  ]);
  add(
    { file: 'invoice-serif-noise.png', ...serif, lines: serifLines },
    await withNoise(await sharp(svgPage(serifLines, 'DejaVu Serif')).png().toBuffer(), 42, 0.02),
  );

  const mono = {
    vendor: 'Globex Corporation',
    invoiceNumber: 'GX-55012',
    date: '2024-11-02',
    total: 89.9,
    currency: 'USD',
  };
  const monoLines = invoiceLines(mono, [
    'Invoice #: GX-55012',
    'Date: 02/11/2024',
    'Widget        2  x  44.95   89.90',
    'TOTAL: $89.90',
  ]);
  add(
    { file: 'invoice-mono-skewed.png', ...mono, lines: monoLines },
    await sharp(
      await sharp(svgPage(monoLines, 'Liberation Mono', 28))
        .png()
        .toBuffer(),
    )
      .rotate(2, { background: '#ffffff' })
      .flatten({ background: '#ffffff' })
      .png()
      .toBuffer(),
  );

  const receipt = {
    vendor: 'Corner Cafe',
    invoiceNumber: 'R-1029',
    date: '2024-06-07',
    total: 12.4,
    currency: 'GBP',
  };
  const receiptLines = invoiceLines(receipt, [
    'RECEIPT',
    'Receipt No: R-1029',
    'Date: 07.06.2024',
    'Flat white      2  x  3.20   6.40',
    'Croissant       2  x  3.00   6.00',
    'Total: GBP 12.40',
    'Thank you!',
  ]);
  add(
    { file: 'receipt.jpg', ...receipt, lines: receiptLines },
    await sharp(svgPage(receiptLines, 'DejaVu Sans', 30))
      .jpeg({ quality: 80 })
      .toBuffer(),
  );

  const tiff = {
    vendor: 'Initech GmbH',
    invoiceNumber: 'IT-3001',
    date: '2025-01-31',
    total: 2380,
    currency: 'EUR',
  };
  const tiffLines = invoiceLines(tiff, [
    'Invoice No: IT-3001',
    'Date: 31.01.2025',
    'Software licence       1   2,000.00   2,000.00',
    'VAT 19%: 380.00',
    'Total due: EUR 2,380.00',
  ]);
  add(
    { file: 'invoice.tiff', ...tiff, lines: tiffLines },
    await sharp(svgPage(tiffLines, 'Liberation Sans')).greyscale().tiff({ compression: 'lzw' }).toBuffer(),
  );

  // A scanned two-page PDF: page images only, no text layer, so the step must render and OCR.
  const scanned = {
    vendor: 'Umbrella Logistics',
    invoiceNumber: 'UL-2024-118',
    date: '2024-09-30',
    total: 845.75,
    currency: 'EUR',
  };
  const page1 = invoiceLines(scanned, [
    'INVOICE',
    'Invoice No: UL-2024-118',
    'Date: 2024-09-30',
    'Freight Hamburg-Lyon    1    800.00   800.00',
  ]);
  const page2 = ['Page 2', 'Fuel surcharge    1    45.75   45.75', 'Total: EUR 845.75'];
  const images = await Promise.all(
    [page1, page2].map((lines) => sharp(svgPage(lines, 'DejaVu Sans')).greyscale().png().toBuffer()),
  );
  add(
    { file: 'invoice-scanned-2p.pdf', ...scanned, lines: [...page1, ...page2] },
    await pdf((doc) => {
      images.forEach((image, i) => {
        if (i > 0) doc.addPage();
        doc.image(image, 0, 0, { width: doc.page.width });
      });
    }),
  );

  // A PDF with a text layer: the step reads its text and skips OCR.
  const text = {
    vendor: 'Stark Industries',
    invoiceNumber: 'SI-90210',
    date: '2024-12-24',
    total: 99.99,
    currency: 'USD',
  };
  const textLines = invoiceLines(text, [
    'INVOICE',
    'Invoice No: SI-90210',
    'Date: 2024-12-24',
    'Repulsor service   1   99.99   99.99',
    'Total: USD 99.99',
  ]);
  add(
    { file: 'invoice-text.pdf', ...text, lines: textLines },
    await pdf((doc) => {
      doc.font('Helvetica').fontSize(14);
      for (const line of textLines) doc.text(line);
    }),
  );

  writeFileSync(path.join(OUT, 'expected.json'), `${JSON.stringify(fixtures, null, 2)}\n`);
  process.stdout.write(`wrote ${fixtures.length} fixtures to ${OUT}\n`);
}

function pdf(draw: (doc: PDFKit.PDFDocument) => void): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // A fixed creation date keeps the bytes stable between runs.
    const doc = new PDFDocument({ size: 'A4', margin: 50, info: { CreationDate: new Date(0) } });
    const chunks: Buffer[] = [];
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
    draw(doc);
    doc.end();
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
