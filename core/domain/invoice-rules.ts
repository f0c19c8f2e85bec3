// Invoice and receipt fields from OCR text, by plain rules (documented in docs/extraction.md).
// Pure: no I/O, so every rule is unit-tested and the `extract` step is deterministic.

export type DocumentKind = 'invoice' | 'receipt';

export interface TextLine {
  text: string;
  /** OCR confidence of the line, 0–100 (100 for a PDF text layer). */
  confidence?: number;
}

export interface Field<T> {
  value: T;
  /** 0–1: how sure the rule is, times the OCR confidence of the line it came from. */
  confidence: number;
  /** The line the value was read from. */
  line: string;
}

export interface LineItem {
  description: string;
  quantity: number;
  unitPrice: number;
  amount: number;
  confidence: number;
}

export const FIELD_NAMES = ['vendor', 'invoiceNumber', 'date', 'total', 'currency'] as const;
export type FieldName = (typeof FIELD_NAMES)[number];

export interface Extraction {
  documentType: DocumentKind;
  fields: {
    vendor: Field<string> | null;
    invoiceNumber: Field<string> | null;
    /** ISO 8601 date (YYYY-MM-DD). */
    date: Field<string> | null;
    total: Field<number> | null;
    /** ISO 4217 code. */
    currency: Field<string> | null;
  };
  lineItems: LineItem[];
  /** Weighted share of the type's required fields that were found, 0–1. */
  completenessScore: number;
  missing: FieldName[];
  /** Whether the line items add up to the total (null without line items or total). */
  lineItemsMatchTotal: boolean | null;
}

/** Weight of each field in the completeness score; 0 = not required for that type. */
export const FIELD_WEIGHTS: Record<DocumentKind, Record<FieldName, number>> = {
  invoice: { vendor: 0.25, invoiceNumber: 0.2, date: 0.15, total: 0.3, currency: 0.1 },
  receipt: { vendor: 0.3, invoiceNumber: 0, date: 0.2, total: 0.4, currency: 0.1 },
};

const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;
const scaled = (rule: number, line: TextLine) => round(rule * ((line.confidence ?? 100) / 100));

// ---- time budget ---------------------------------------------------------------------------

/**
 * True once the caller's time budget is spent. The rules ask before each line they read; each rule is
 * linear in its line, so a budget overruns by at most the cost of one line.
 */
export type BudgetSpent = () => boolean;

export class ExtractionBudgetExceeded extends Error {
  constructor() {
    super('extraction stopped: its time budget was spent');
  }
}

/** Called before each line a rule reads: throws once the budget is spent, else true (so it reads in a filter). */
type Tick = () => true;

// ---- amounts ---------------------------------------------------------------------------------

const AMOUNT = /-?\d{1,3}(?:[,.\s]\d{3})+(?:[.,]\d{1,2})?(?!\d)|-?\d+(?:[.,]\d{1,2})?(?!\d)/g;

/** "1,234.50", "1.234,50", "1 234,50", "89.90", "12" → number; the last separator followed by 1–2 digits is the decimal one. */
export function parseAmount(text: string): number | null {
  const raw = text.replace(/\s/g, '');
  const decimal = /[.,](\d{1,2})$/.exec(raw);
  const integer = (decimal ? raw.slice(0, decimal.index) : raw).replace(/[.,]/g, '');
  if (!/^-?\d+$/.test(integer)) return null;
  return Number(`${integer}${decimal ? `.${decimal[1]}` : ''}`);
}

function amountsIn(text: string): number[] {
  return [...text.matchAll(AMOUNT)].map((m) => parseAmount(m[0])).filter((n): n is number => n !== null);
}

// ---- currency --------------------------------------------------------------------------------

const CODES = [
  'EUR',
  'USD',
  'GBP',
  'CHF',
  'JPY',
  'CAD',
  'AUD',
  'SEK',
  'NOK',
  'DKK',
  'PLN',
  'CZK',
  'INR',
  'CNY',
];
const SYMBOLS: Record<string, string> = { '€': 'EUR', $: 'USD', '£': 'GBP', '¥': 'JPY' };

export function currencyIn(text: string): string | null {
  const code = new RegExp(`\\b(${CODES.join('|')})\\b`).exec(text.toUpperCase());
  if (code?.[1]) return code[1];
  const symbol = /[€$£¥]/.exec(text);
  return symbol ? (SYMBOLS[symbol[0]] ?? null) : null;
}

// ---- dates -----------------------------------------------------------------------------------

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

function isoDate(year: number, month: number, day: number): string | null {
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day)
    return null;
  if (year < 1900 || year > 2200) return null;
  return date.toISOString().slice(0, 10);
}

/**
 * The first date in the text: 2024-03-15; 15.03.2024, 15/03/2024, 15-03-2024 (day first, unless
 * the middle number cannot be a month); March 15, 2024; 15 March 2024. `ambiguous` when both
 * orders were possible with a slash.
 */
export function parseDate(text: string): { iso: string; ambiguous: boolean } | null {
  const iso = /\b(\d{4})-(\d{1,2})-(\d{1,2})\b/.exec(text);
  if (iso) {
    const value = isoDate(Number(iso[1]), Number(iso[2]), Number(iso[3]));
    if (value) return { iso: value, ambiguous: false };
  }
  const numeric = /\b(\d{1,2})([./-])(\d{1,2})\2(\d{4})\b/.exec(text);
  if (numeric) {
    const [a, sep, b, year] = [Number(numeric[1]), numeric[2], Number(numeric[3]), Number(numeric[4])];
    const dayFirst = b <= 12 || a > 12 ? isoDate(year, b, a) : null;
    const value = dayFirst ?? isoDate(year, a, b);
    if (value) return { iso: value, ambiguous: sep === '/' && a <= 12 && b <= 12 && a !== b };
  }
  const month = '(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\\.?';
  const monthFirst = new RegExp(`\\b${month}\\s+(\\d{1,2})(?:st|nd|rd|th)?,?\\s+(\\d{4})\\b`, 'i').exec(text);
  if (monthFirst) {
    const value = isoDate(
      Number(monthFirst[3]),
      MONTHS.indexOf((monthFirst[1] ?? '').toLowerCase()) + 1,
      Number(monthFirst[2]),
    );
    if (value) return { iso: value, ambiguous: false };
  }
  const dayFirst = new RegExp(`\\b(\\d{1,2})(?:st|nd|rd|th)?\\.?\\s+${month}\\s+(\\d{4})\\b`, 'i').exec(text);
  if (dayFirst) {
    const value = isoDate(
      Number(dayFirst[3]),
      MONTHS.indexOf((dayFirst[2] ?? '').toLowerCase()) + 1,
      Number(dayFirst[1]),
    );
    if (value) return { iso: value, ambiguous: false };
  }
  return null;
}

// ---- the rules -------------------------------------------------------------------------------

const NUMBER_LABEL =
  /\b(?:invoice|inv|receipt|bill)\s*(?:no\b\.?|number|num\b\.?|nr\b\.?|#)\s*[:.#]?\s*([A-Z0-9][A-Z0-9\-/.]*)/i;
const DATE_LABEL = /\b(?:invoice\s+date|date\s+of\s+issue|issue\s+date|date|dated|issued)\b/i;
const TOTAL_LABELS: [RegExp, number][] = [
  [/\b(?:grand\s+total|total\s+due|amount\s+due|balance\s+due|total\s+amount|amount\s+payable)\b/i, 0.95],
  [/\btotal\b/i, 0.9],
];
// `(?:-\s*)?`, not `-?\s*`: two optional runs of spaces side by side backtrack quadratically.
const SUBTOTAL = /\bsub\s*(?:-\s*)?total\b/i;
const VENDOR_LABEL = /^(?:from|vendor|seller|supplier|sold\s+by|billed?\s+by)\s*:\s*(.+)$/i;
const NOT_VENDOR =
  /\b(?:invoice|receipt|date|total|page|tax|vat|bill\s+to|ship\s+to|description|qty|amount|subtotal)\b|:/i;

// ---- line items ------------------------------------------------------------------------------
//
// A line item reads `<description> <quantity> [x|×|@] <unit price> <amount>`. This was one regex,
// `^(.*[A-Za-z].*?)\s+(\d+(?:[.,]\d+)?)\s*(?:x|×|@)?\s+(\d[\d,.\s]*[.,]\d{2})\s+(\d[\d,.\s]*[.,]\d{2})$`,
// whose three ambiguous splits (description/quantity, unit price/amount, and the spaces inside
// amounts) backtrack cubically: a crafted 100 kB line held a module's thread for hours. The words
// are now walked once and the regex's own choices kept (test/unit/invoice-rules.test.ts compares
// the two on generated lines): the description's last ASCII letter as late as possible, then the
// shortest description; the longest unit price (so amounts with spaced thousands, "1 234,50", stay whole).

const NUMERIC_WORD = /^[\d.,]+$/;
const QUANTITY_WORD = /^\d+(?:[.,]\d+)?$/;
const QUANTITY_WITH_MARKER = /^\d+(?:[.,]\d+)?[x×@]$/;
const MARKERS = new Set(['x', '×', '@']);
const CENTS_END = /[.,]\d{2}$/;
const startsWithDigit = (word: string) => word.charCodeAt(0) >= 48 && word.charCodeAt(0) <= 57;

export interface LineItemParts {
  description: string;
  quantity: string;
  unitPrice: string;
  amount: string;
}

/** The parts of a line shaped like a line item (no arithmetic check), in time linear in the line. */
export function lineItemParts(text: string): LineItemParts | null {
  const words = text.trim().split(/\s+/);
  const n = words.length;
  const last = words[n - 1] ?? '';
  if (n < 4 || !CENTS_END.test(last)) return null;
  // The trailing run of numeric words holds the unit price and the amount.
  let numericFrom = n;
  while (numericFrom > 0 && NUMERIC_WORD.test(words[numericFrom - 1] ?? '')) numericFrom--;
  // The amount starts at the latest word after a word ending in cents (the unit price is greedy).
  let amountFrom = -1;
  for (let j = n - 1; j > numericFrom; j--) {
    if (startsWithDigit(words[j] ?? '') && CENTS_END.test(words[j - 1] ?? '')) {
      amountFrom = j;
      break;
    }
  }
  if (amountFrom < 0) return null;
  // Where the quantity may start, in the regex's order: after the latest word with a letter first,
  // earliest first; then after the word with the letter before it, up to where the last try began.
  const lettered: number[] = [];
  for (let i = 0; i < n; i++) if (/[A-Za-z]/.test(words[i] ?? '')) lettered.push(i);
  let upTo = n - 1;
  for (let k = lettered.length - 1; k >= 0; k--) {
    const from = (lettered[k] ?? 0) + 1;
    for (let q = from; q <= upTo; q++) {
      const word = words[q] ?? '';
      let quantity: string;
      let unitFrom: number;
      if (QUANTITY_WORD.test(word)) {
        quantity = word;
        unitFrom = MARKERS.has(words[q + 1] ?? '') ? q + 2 : q + 1;
      } else if (QUANTITY_WITH_MARKER.test(word)) {
        quantity = word.slice(0, -1);
        unitFrom = q + 1;
      } else continue;
      if (unitFrom < numericFrom || unitFrom >= amountFrom || !startsWithDigit(words[unitFrom] ?? ''))
        continue;
      return {
        description: words.slice(0, q).join(' '),
        quantity,
        unitPrice: words.slice(unitFrom, amountFrom).join(' '),
        amount: words.slice(amountFrom).join(' '),
      };
    }
    upTo = from - 1;
  }
  return null;
}

function findVendor(lines: TextLine[], tick: Tick): Field<string> | null {
  for (const line of lines) {
    tick();
    const labelled = VENDOR_LABEL.exec(line.text);
    if (labelled?.[1]) return { value: labelled[1].trim(), confidence: scaled(0.9, line), line: line.text };
  }
  // Otherwise the letterhead: the first line with words that is not a label or a number line.
  for (const line of lines.slice(0, 8)) {
    tick();
    const letters = line.text.match(/\p{L}/gu)?.length ?? 0;
    if (letters >= 3 && letters >= line.text.replace(/\s/g, '').length / 2 && !NOT_VENDOR.test(line.text)) {
      return { value: line.text.trim(), confidence: scaled(0.7, line), line: line.text };
    }
  }
  return null;
}

function findNumber(lines: TextLine[], tick: Tick): Field<string> | null {
  for (const line of lines) {
    tick();
    const match = NUMBER_LABEL.exec(line.text);
    const value = match?.[1]?.replace(/[.]$/, '');
    if (value && /\d/.test(value)) return { value, confidence: scaled(0.9, line), line: line.text };
  }
  return null;
}

function findDate(lines: TextLine[], tick: Tick): Field<string> | null {
  const labelled = lines.filter(
    (line) => tick() && DATE_LABEL.test(line.text) && !/\bdue\s+date\b/i.test(line.text),
  );
  for (const [candidates, rule] of [
    [labelled, 0.9],
    [lines, 0.6],
  ] as const) {
    for (const line of candidates) {
      tick();
      const date = parseDate(line.text);
      if (date)
        return {
          value: date.iso,
          confidence: scaled(date.ambiguous ? rule - 0.2 : rule, line),
          line: line.text,
        };
    }
  }
  return null;
}

function findTotal(lines: TextLine[], tick: Tick): { total: Field<number> | null; line: TextLine | null } {
  for (const [label, rule] of TOTAL_LABELS) {
    // The last matching line: totals come after the items they add up.
    const line = lines.filter((l) => tick() && label.test(l.text) && !SUBTOTAL.test(l.text)).at(-1);
    if (!line) continue;
    const after = line.text.slice((label.exec(line.text)?.index ?? 0) + 1);
    const amount = amountsIn(after).at(-1);
    if (amount !== undefined)
      return { total: { value: amount, confidence: scaled(rule, line), line: line.text }, line };
  }
  return { total: null, line: null };
}

function findCurrency(lines: TextLine[], totalLine: TextLine | null, tick: Tick): Field<string> | null {
  if (totalLine) {
    const code = currencyIn(totalLine.text);
    if (code) return { value: code, confidence: scaled(0.9, totalLine), line: totalLine.text };
  }
  for (const line of lines) {
    tick();
    const code = currencyIn(line.text);
    if (code) return { value: code, confidence: scaled(0.6, line), line: line.text };
  }
  return null;
}

function findLineItems(lines: TextLine[], tick: Tick): LineItem[] {
  const items: LineItem[] = [];
  for (const line of lines) {
    tick();
    if (TOTAL_LABELS.some(([label]) => label.test(line.text)) || SUBTOTAL.test(line.text)) continue;
    const parts = lineItemParts(line.text);
    if (!parts) continue;
    const [quantity, unitPrice, amount] = [parts.quantity, parts.unitPrice, parts.amount].map(parseAmount);
    if (quantity === null || unitPrice === null || amount === null || quantity === undefined) continue;
    if (unitPrice === undefined || amount === undefined) continue;
    // Only rows whose arithmetic holds: that is what tells an item from any line ending in numbers.
    if (Math.abs(quantity * unitPrice - amount) > 0.011 + amount * 0.001) continue;
    items.push({
      description: parts.description,
      quantity,
      unitPrice,
      amount,
      confidence: scaled(0.9, line),
    });
  }
  return items;
}

export function detectKind(lines: TextLine[]): DocumentKind {
  const text = lines.map((line) => line.text).join('\n');
  return /\breceipt\b/i.test(text) && !/\binvoice\b/i.test(text) ? 'receipt' : 'invoice';
}

export function completeness(kind: DocumentKind, found: Record<FieldName, boolean>): number {
  const weights = FIELD_WEIGHTS[kind];
  const required = FIELD_NAMES.filter((name) => weights[name] > 0);
  const total = required.reduce((sum, name) => sum + weights[name], 0);
  const got = required.filter((name) => found[name]).reduce((sum, name) => sum + weights[name], 0);
  return round(got / total, 3);
}

export function extractInvoice(
  input: TextLine[],
  options: { documentType?: DocumentKind; budgetSpent?: BudgetSpent } = {},
): Extraction {
  const { budgetSpent } = options;
  const tick: Tick = () => {
    if (budgetSpent?.()) throw new ExtractionBudgetExceeded();
    return true;
  };
  const lines = input
    .map((line) => ({ ...line, text: line.text.replace(/\s+/g, ' ').trim() }))
    .filter((line) => line.text !== '');
  const documentType = options.documentType ?? detectKind(lines);
  const { total, line: totalLine } = findTotal(lines, tick);
  const fields = {
    vendor: findVendor(lines, tick),
    invoiceNumber: findNumber(lines, tick),
    date: findDate(lines, tick),
    total,
    currency: findCurrency(lines, totalLine, tick),
  };
  const lineItems = findLineItems(lines, tick);
  const found = Object.fromEntries(FIELD_NAMES.map((name) => [name, fields[name] !== null])) as Record<
    FieldName,
    boolean
  >;
  const weights = FIELD_WEIGHTS[documentType];
  const itemsSum = round(lineItems.reduce((sum, item) => sum + item.amount, 0));
  return {
    documentType,
    fields,
    lineItems,
    completenessScore: completeness(documentType, found),
    missing: FIELD_NAMES.filter((name) => weights[name] > 0 && !found[name]),
    lineItemsMatchTotal: lineItems.length > 0 && total ? Math.abs(itemsSum - total.value) < 0.011 : null,
  };
}
