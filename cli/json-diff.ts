import { stableStringify } from '../core/domain/stable-json';

/** Indented JSON with sorted keys, so a diff shows what changed and not where keys happen to sit. */
export function canonicalLines(value: unknown): string[] {
  if (value === undefined) return [];
  return JSON.stringify(JSON.parse(stableStringify(value)), null, 2).split('\n');
}

/**
 * A line diff (longest common subsequence): `-` lines only in `before`, `+` only in `after`,
 * two-space lines in both. Definitions are at most a few hundred lines, so the quadratic table is cheap.
 */
export function lineDiff(before: string[], after: string[]): string[] {
  const n = before.length;
  const m = after.length;
  const table = new Uint32Array((n + 1) * (m + 1));
  // Length of the longest common subsequence of before[i..] and after[j..].
  const common = (i: number, j: number): number => table[i * (m + 1) + j] ?? 0;
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      table[i * (m + 1) + j] =
        before[i] === after[j] ? common(i + 1, j + 1) + 1 : Math.max(common(i + 1, j), common(i, j + 1));
    }
  }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && before[i] === after[j]) {
      out.push(`  ${before[i]}`);
      i++;
      j++;
    } else if (i < n && (j === m || common(i + 1, j) >= common(i, j + 1))) {
      // Removals before additions, as in a unified diff.
      out.push(`- ${before[i]}`);
      i++;
    } else {
      out.push(`+ ${after[j]}`);
      j++;
    }
  }
  return out;
}
