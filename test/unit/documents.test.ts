import { mkdtemp, readdir, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LocalDocumentStore, sha256Of } from '../../core/adapters/fs/document-store.local';
import { countPdfPages, sanitiseFileName, sniffMediaType } from '../../core/domain/document-types';
import { fixture, pngDeclaring } from '../support/document-samples';

describe('sniffMediaType', () => {
  it('knows PNG, JPEG, TIFF and PDF by their bytes', () => {
    expect(sniffMediaType(fixture('invoice-sans.png'))).toBe('image/png');
    expect(sniffMediaType(fixture('receipt.jpg'))).toBe('image/jpeg');
    expect(sniffMediaType(fixture('invoice.tiff'))).toBe('image/tiff');
    expect(sniffMediaType(Buffer.from([0x4d, 0x4d, 0x00, 0x2a, 0, 0, 0, 8]))).toBe('image/tiff');
    expect(sniffMediaType(fixture('invoice-text.pdf'))).toBe('application/pdf');
  });

  it('refuses everything else, whatever it claims to be', () => {
    expect(sniffMediaType(Buffer.from('Invoice 42, total 10 EUR'))).toBeNull();
    expect(sniffMediaType(Buffer.from('GIF89a......'))).toBeNull();
    expect(sniffMediaType(Buffer.from([0x89, 0x50, 0x4e, 0x47]))).toBeNull(); // a cut PNG signature
    expect(sniffMediaType(Buffer.alloc(0))).toBeNull();
    expect(sniffMediaType(Buffer.from('PK\u0003\u0004 a zip named invoice.pdf'))).toBeNull();
  });
});

describe('sanitiseFileName', () => {
  it.each([
    '../../etc/passwd',
    '..\\..\\windows\\win.ini',
    '/etc/passwd',
    'C:evil.png',
    'a/b.png',
    '..',
    '.',
    'invoice\u0000.png',
    'line\nbreak.png',
    '   ',
  ])('refuses %j', (name) => {
    expect(sanitiseFileName(name)).toBeNull();
  });

  it('keeps a plain name, trimmed, without bidi overrides, at most 255 characters', () => {
    expect(sanitiseFileName(' Rechnung März 2024.pdf ')).toBe('Rechnung März 2024.pdf');
    expect(sanitiseFileName('invoice\u202Egnp.exe')).toBe('invoicegnp.exe');
    expect(sanitiseFileName(`${'x'.repeat(300)}.png`)).toHaveLength(255);
  });
});

describe('countPdfPages', () => {
  it('counts page objects, not the page tree', () => {
    expect(countPdfPages(fixture('invoice-scanned-2p.pdf'))).toBe(2);
    expect(countPdfPages(fixture('invoice-text.pdf'))).toBe(1);
    expect(countPdfPages(Buffer.from('%PDF-1.7 nothing here'))).toBeNull();
  });
});

describe('LocalDocumentStore', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'rpa-docs-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('stores by SHA-256, once, and reads back the same bytes', async () => {
    const store = new LocalDocumentStore(root);
    const bytes = pngDeclaring(10, 10);
    const first = await store.put(bytes);
    const again = await store.put(Buffer.from(bytes));
    expect(first).toEqual({ sha256: sha256Of(bytes), created: true });
    expect(again).toEqual({ sha256: first.sha256, created: false });
    expect(await store.exists(first.sha256)).toBe(true);
    expect((await store.get(first.sha256))?.equals(bytes)).toBe(true);
    const dir = path.join(root, first.sha256.slice(0, 2), first.sha256.slice(2, 4));
    // One file, no temp file left behind.
    expect(await readdir(dir)).toEqual([first.sha256]);
  });

  it('answers null for an unknown key and refuses keys that are not hex digests', async () => {
    const store = new LocalDocumentStore(root);
    expect(await store.get('0'.repeat(64))).toBeNull();
    expect(await store.exists('0'.repeat(64))).toBe(false);
    await expect(store.get('../../etc/passwd')).rejects.toThrow('not a sha256 key');
  });

  it('concurrent puts of the same bytes leave one whole file', async () => {
    const store = new LocalDocumentStore(root);
    const bytes = fixture('receipt.jpg');
    const results = await Promise.all(Array.from({ length: 5 }, () => store.put(bytes)));
    expect(new Set(results.map((r) => r.sha256)).size).toBe(1);
    expect((await store.get(sha256Of(bytes)))?.equals(bytes)).toBe(true);
  });

  it('removes bytes stored before the given time only; a put of the same bytes counts as stored now', async () => {
    const store = new LocalDocumentStore(root);
    const bytes = pngDeclaring(12, 12);
    const { sha256 } = await store.put(bytes);
    const file = path.join(root, sha256.slice(0, 2), sha256.slice(2, 4), sha256);
    const hourAgo = new Date(Date.now() - 3_600_000);
    const twoHoursAgo = new Date(Date.now() - 7_200_000);
    await utimes(file, twoHoursAgo, twoHoursAgo);
    // An upload of the same bytes, racing retention: its put marks them as just stored.
    expect(await store.put(Buffer.from(bytes))).toEqual({ sha256, created: false });
    expect(await store.remove(sha256, hourAgo)).toBe(false);
    expect(await store.exists(sha256)).toBe(true);
    await utimes(file, twoHoursAgo, twoHoursAgo);
    expect(await store.remove(sha256, hourAgo)).toBe(true);
    expect(await store.exists(sha256)).toBe(false);
    // Gone already: nothing to remove, no error.
    expect(await store.remove(sha256, hourAgo)).toBe(false);
    await expect(store.remove('../x', hourAgo)).rejects.toThrow('not a sha256 key');
  });
});
