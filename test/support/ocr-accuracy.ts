import { readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { FIXTURES_DIR } from './document-samples';

// How well an OCR engine reads: the character error rate against the fixtures' known text, shared by
// bench/ocr-native.ts and the engines' tests so both count errors the same way.

/** Whitespace runs become one space: CER counts characters read, not the layout's padding. */
export const normalize = (text: string) => text.replace(/\s+/g, ' ').trim();

/** Edit distance (insert, delete, substitute each cost 1), two rows of memory. */
export function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** Character error rate of `text` against the already normalised `truth`. */
export const characterErrorRate = (text: string, truth: string) =>
  levenshtein(normalize(text), truth) / truth.length;

/** The committed image fixtures (PDFs are poppler's part, not OCR's) with their known lines. */
export function imageFixtures(): { file: string; lines: string[] }[] {
  const expected = JSON.parse(readFileSync(path.join(FIXTURES_DIR, 'expected.json'), 'utf8')) as {
    file: string;
    lines: string[];
  }[];
  return expected.filter((entry) => /\.(png|jpe?g|tiff?)$/.test(entry.file));
}

/**
 * Clean fixtures read perfectly with every engine; a degraded copy (a 40% size fax-like scan, blurred,
 * JPEG at quality 30) gives the error rates something to differ on.
 */
export async function degradedScan(bytes: Buffer): Promise<Buffer> {
  const { width = 1240 } = await sharp(bytes).metadata();
  return sharp(bytes)
    .resize({ width: Math.round(width * 0.4) })
    .blur(0.7)
    .jpeg({ quality: 30 })
    .toBuffer();
}
