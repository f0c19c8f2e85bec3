import { completenessFromOutput } from '../../core/domain/completeness';
import {
  currencyIn,
  extractInvoice,
  lineItemParts,
  parseAmount,
  parseDate,
  type TextLine,
} from '../../core/domain/invoice-rules';

const lines = (text: string, confidence?: number): TextLine[] =>
  text.split('\n').map((line) => (confidence === undefined ? { text: line } : { text: line, confidence }));

describe('parseAmount', () => {
  it.each([
    ['1,234.50', 1234.5],
    ['1.234,50', 1234.5],
    ['1 234,50', 1234.5],
    ['89.90', 89.9],
    ['12', 12],
    ['2,000.00', 2000],
    ['-0.02', -0.02],
  ])('%s → %d', (text, value) => {
    expect(parseAmount(text)).toBe(value);
  });
});

describe('parseDate', () => {
  it.each([
    ['Date: 2024-03-15', '2024-03-15', false],
    ['Date: 15.03.2024', '2024-03-15', false],
    ['Date: 02/11/2024', '2024-11-02', true],
    ['Date: 03/15/2024', '2024-03-15', false],
    ['Invoice Date: March 15, 2024', '2024-03-15', false],
    ['issued 15 Mar 2024', '2024-03-15', false],
    ['1st February 2025', '2025-02-01', false],
  ])('%s → %s', (text, iso, ambiguous) => {
    expect(parseDate(text)).toEqual({ iso, ambiguous });
  });

  it('refuses impossible dates', () => {
    expect(parseDate('2024-02-30')).toBeNull();
    expect(parseDate('31.31.2024')).toBeNull();
    expect(parseDate('Phone 0171 555 0000')).toBeNull();
  });
});

describe('currencyIn', () => {
  it('prefers an ISO code, else a symbol', () => {
    expect(currencyIn('Total: 1,234.50 EUR')).toBe('EUR');
    expect(currencyIn('TOTAL: $89.90')).toBe('USD');
    expect(currencyIn('Total £12.40')).toBe('GBP');
    expect(currencyIn('Total 12.40')).toBeNull();
  });
});

describe('extractInvoice', () => {
  const invoice = `ACME Supplies Ltd
12 Harbour Road, Dublin
INVOICE
Invoice No: INV-2024-0042
Date: 2024-03-15
Description Qty Unit Price Amount
Printer paper A4 10 25.00 250.00
Toner cartridge 4 246.13 984.52
Subtotal: 1,234.52
Total: 1,234.52 EUR`;

  it('finds vendor, number, date, total, currency and line items, with confidences', () => {
    const result = extractInvoice(lines(invoice, 90));
    expect(result.documentType).toBe('invoice');
    expect(result.fields.vendor).toMatchObject({ value: 'ACME Supplies Ltd', confidence: 0.63 });
    expect(result.fields.invoiceNumber).toMatchObject({ value: 'INV-2024-0042', confidence: 0.81 });
    expect(result.fields.date?.value).toBe('2024-03-15');
    expect(result.fields.total).toMatchObject({ value: 1234.52, line: 'Total: 1,234.52 EUR' });
    expect(result.fields.currency?.value).toBe('EUR');
    expect(result.lineItems).toEqual([
      { description: 'Printer paper A4', quantity: 10, unitPrice: 25, amount: 250, confidence: 0.81 },
      { description: 'Toner cartridge', quantity: 4, unitPrice: 246.13, amount: 984.52, confidence: 0.81 },
    ]);
    expect(result.lineItemsMatchTotal).toBe(true);
    expect(result.completenessScore).toBe(1);
    expect(result.missing).toEqual([]);
  });

  it('never takes the subtotal for the total, and prefers "amount due" over a plain total', () => {
    const result = extractInvoice(
      lines('Shop\nInvoice No: 7\nSubtotal 90.00\nTotal 100.00\nAmount due: 80.00 USD'),
    );
    expect(result.fields.total?.value).toBe(80);
    expect(extractInvoice(lines('Shop\nSubtotal 90.00')).fields.total).toBeNull();
  });

  it('takes a labelled vendor over the first line', () => {
    expect(extractInvoice(lines('INVOICE\nVendor: Blue Bottle Inc\nTotal 3.00')).fields.vendor?.value).toBe(
      'Blue Bottle Inc',
    );
  });

  it('skips rows whose quantity × price is not the amount', () => {
    expect(extractInvoice(lines('Shop\nWidget 2 x 10.00 25.00\nTotal 25.00')).lineItems).toEqual([]);
  });

  it('scores completeness by the weights of the fields found', () => {
    // Invoice: vendor 0.25, number 0.2, date 0.15, total 0.3, currency 0.1.
    const partial = extractInvoice(lines('ACME Ltd\nINVOICE\nTotal 10.00'));
    expect(partial.missing).toEqual(['invoiceNumber', 'date', 'currency']);
    expect(partial.completenessScore).toBe(0.55);
    expect(extractInvoice(lines('INVOICE')).completenessScore).toBe(0);
  });

  it('treats a receipt as one (no invoice number required)', () => {
    const result = extractInvoice(lines('Corner Cafe\nRECEIPT\nDate: 07.06.2024\nTotal: GBP 12.40'));
    expect(result.documentType).toBe('receipt');
    expect(result.missing).toEqual([]);
    expect(result.completenessScore).toBe(1);
  });
});

describe('lineItemParts', () => {
  // The regex it replaced (cubic on crafted lines): safe on these short lines, and the reference
  // for which split of a line is taken.
  const OLD_ITEM =
    /^(.*[A-Za-z].*?)\s+(\d+(?:[.,]\d+)?)\s*(?:x|×|@)?\s+(\d[\d,.\s]*[.,]\d{2})\s+(\d[\d,.\s]*[.,]\d{2})$/;
  const WORDS = [
    'Widget',
    'A4',
    'x',
    '×',
    '@',
    '2',
    '2x',
    '3@',
    '1.5',
    '10.00',
    '1',
    '000.00',
    '0,50',
    '.00',
    '12,5',
    'Model',
    '1.234,50',
    'v2',
  ];

  it.each([
    ['Printer paper A4 10 25.00 250.00', ['Printer paper A4', '10', '25.00', '250.00']],
    ['Widget 2 x 10.00 20.00', ['Widget', '2', '10.00', '20.00']],
    ['Widget 2x 10.00 20.00', ['Widget', '2', '10.00', '20.00']],
    ['Bolts 3 @ 1 234,50 3 703,50', ['Bolts', '3', '1 234,50', '3 703,50']],
  ])('%s', (line, [description, quantity, unitPrice, amount]) => {
    expect(lineItemParts(line)).toEqual({ description, quantity, unitPrice, amount });
  });

  it('splits every generated line as the old regex did', () => {
    // A fixed linear-congruential sequence: the same lines on every run.
    let seed = 42;
    const pick = (words: string[]) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return words[seed % words.length] ?? '';
    };
    const CENTS = ['10.00', '000.00', '0,50', '.00', '1.234,50', '1', '2'];
    const LENGTHS = ['1', '2', '3', '4', '5', '6'];
    const differing: { line: string; was: unknown; is: unknown }[] = [];
    let items = 0;
    for (let i = 0; i < 20_000; i++) {
      const words = Array.from({ length: Number(pick(LENGTHS)) }, () => pick(WORDS));
      // Most lines end like an item does, so the splits are what gets compared.
      const line = [...words, pick(CENTS), pick(CENTS), pick(CENTS)].join(' ');
      const old = OLD_ITEM.exec(line);
      const was = old ? { description: old[1], quantity: old[2], unitPrice: old[3], amount: old[4] } : null;
      const is = lineItemParts(line);
      if (JSON.stringify(was) !== JSON.stringify(is)) differing.push({ line, was, is });
      if (old) items++;
    }
    expect(differing.slice(0, 5)).toEqual([]);
    expect(items).toBeGreaterThan(3_000);
  });
});

describe('completenessFromOutput', () => {
  it('takes the last step output that reports a score in 0..1', () => {
    expect(completenessFromOutput({ ocr: { text: 'x' }, extract: { completenessScore: 0.75 } })).toBe(0.75);
    expect(completenessFromOutput({ a: { completenessScore: 0.2 }, b: { completenessScore: 0.9 } })).toBe(
      0.9,
    );
    expect(completenessFromOutput({ a: { completenessScore: 7 } })).toBeUndefined();
    expect(completenessFromOutput({ a: { summary: 'x' } })).toBeUndefined();
    expect(completenessFromOutput(undefined)).toBeUndefined();
  });
});
