// Caller-supplied text that ends up in logs, emails or the audit log must not carry terminal escape
// sequences, NULs, or invisible format characters (zero-width, bidi overrides) that disguise it.

const CONTROL_AND_FORMAT = /[\p{Cc}\p{Cf}]/gu;
const CONTROL_AND_FORMAT_BUT_WHITESPACE = /(?![\t\n\r])[\p{Cc}\p{Cf}]/gu;

/** Removes control and invisible format characters; tab, newline and CR survive unless `singleLine`. */
export function stripControlChars(text: string, options: { singleLine?: boolean } = {}): string {
  return text.replace(options.singleLine ? CONTROL_AND_FORMAT : CONTROL_AND_FORMAT_BUT_WHITESPACE, '');
}

/** The same, through every string of a JSON value (keys included). */
export function stripControlCharsDeep(value: unknown): unknown {
  if (typeof value === 'string') return stripControlChars(value);
  if (Array.isArray(value)) return value.map(stripControlCharsDeep);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [stripControlChars(key), stripControlCharsDeep(item)]),
    );
  }
  return value;
}
