// Small DOM helpers. Everything is built with createElement and textContent, never innerHTML, so
// robot data (inputs, errors, module names) can never turn into markup or script.

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * Creates an element. `attrs` keys starting with `on` add listeners; `false`/null values are skipped.
 * @param {string} tag
 * @param {Record<string, unknown>} [attrs]
 * @param {...(Node | string | number | null | undefined | false)} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  applyAttrs(element, attrs);
  append(element, children);
  return element;
}

/**
 * Creates an SVG element (charts).
 * @param {string} tag
 * @param {Record<string, unknown>} [attrs]
 * @param {...(Node | string | null | undefined | false)} children
 * @returns {SVGElement}
 */
export function svg(tag, attrs = {}, ...children) {
  const element = /** @type {SVGElement} */ (document.createElementNS(SVG_NS, tag));
  applyAttrs(element, attrs);
  append(element, children);
  return element;
}

/** @param {Element} element @param {Record<string, unknown>} attrs */
function applyAttrs(element, attrs) {
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      element.addEventListener(key.slice(2).toLowerCase(), /** @type {EventListener} */ (value));
    } else {
      element.setAttribute(key, value === true ? '' : String(value));
    }
  }
}

/** @param {Element} element @param {unknown[]} children */
function append(element, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
}

/** @param {number | null | undefined} ms */
export function formatDuration(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** @param {string | null | undefined} iso */
export function formatTime(iso) {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

/** A status word as a badge; the word itself is the text, so colour is never the only cue. */
export function statusBadge(status) {
  return h('span', { class: `badge badge-${String(status).replace(/[^a-z_-]/gi, '')}` }, String(status));
}

/** @param {number} count @param {string} noun */
export const plural = (count, noun) => `${count} ${noun}${count === 1 ? '' : 's'}`;

/** @param {unknown} value */
export function jsonBlock(value) {
  return h('pre', { class: 'json', tabindex: '0' }, JSON.stringify(value ?? null, null, 2));
}

/** Announces a short message to screen readers through the page's polite live region. */
export function announce(message) {
  const region = document.getElementById('announcer');
  if (region) region.textContent = message;
}
