/**
 * `{{ path.to.value }}` placeholders filled from robot data (input, previous step outputs). Small
 * on purpose: no logic, no partials. A placeholder with no value is an error, never an empty hole
 * in an email someone will read.
 */
const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g;

function lookup(data: unknown, path: string): unknown {
  let value: unknown = data;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

export class TemplateError extends Error {}

export function renderTemplate(
  template: string,
  data: unknown,
  escapeValue: (text: string) => string = (text) => text,
): string {
  const missing: string[] = [];
  const rendered = template.replace(PLACEHOLDER, (_match, path: string) => {
    const value = lookup(data, path);
    if (value === undefined || value === null) {
      missing.push(path);
      return '';
    }
    return escapeValue(typeof value === 'string' ? value : JSON.stringify(value));
  });
  if (missing.length > 0)
    throw new TemplateError(`no value for ${missing.map((m) => `{{${m}}}`).join(', ')}`);
  return rendered;
}

const WHOLE_PLACEHOLDER = /^\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}$/;

/**
 * A JSON value with templates in its strings. A string that is one placeholder and nothing else
 * takes the value itself (a number stays a number, an object an object); other strings are rendered.
 */
export function renderJson(value: unknown, data: unknown): unknown {
  if (typeof value === 'string') {
    const whole = WHOLE_PLACEHOLDER.exec(value);
    if (!whole) return renderTemplate(value, data);
    const path = whole[1] ?? '';
    const found = lookup(data, path);
    if (found === undefined || found === null) throw new TemplateError(`no value for {{${path}}}`);
    return found;
  }
  if (Array.isArray(value)) return value.map((item) => renderJson(item, data));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, renderJson(item, data)]));
  }
  return value;
}

export const escapeHtml = (text: string): string =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

/** Header values (subject, addresses) must stay on one line: CR/LF would inject headers. */
export const singleLine = (text: string): string =>
  Array.from(text, (c) => (c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f ? ' ' : c))
    .join('')
    .replace(/ {2,}/g, ' ')
    .trim();
