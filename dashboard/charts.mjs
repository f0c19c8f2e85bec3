// Inline SVG charts: a sparkline for a series, bars for a breakdown. No library: a path and a few
// rectangles are all these need, and the page's CSP allows no third-party script anyway.

import { h, svg } from './dom.mjs';

const WIDTH = 240;
const HEIGHT = 60;

/**
 * `slots` fixes the x scale (the samples kept), so the line grows in from the right as samples
 * arrive instead of stretching two points across the whole width.
 * @param {{ id: string, title: string, points: (number | null)[], format: (value: number) => string,
 *   max?: number, slots: number }} chart
 */
export function sparkline({ id, title, points, format, max, slots }) {
  const values = points.filter((value) => value !== null && Number.isFinite(value));
  const latest = [...points].reverse().find((value) => value !== null && Number.isFinite(value));
  const top = max ?? (Math.max(...values, 0) * 1.1 || 1);
  const step = WIDTH / Math.max(slots - 1, 1);
  const offset = Math.max(slots - points.length, 0);
  let d = '';
  let penDown = false;
  /** @type {SVGElement[]} */
  const dots = [];
  points.forEach((value, index) => {
    if (value === null || !Number.isFinite(value)) {
      penDown = false; // a gap: no data for this interval
      return;
    }
    const x = ((offset + index) * step).toFixed(1);
    const y = (HEIGHT - 2 - (Math.min(value, top) / top) * (HEIGHT - 4)).toFixed(1);
    d += `${penDown ? 'L' : 'M'}${x},${y} `;
    penDown = true;
    // A point with no neighbour draws no line: mark it so a lone sample is still visible.
    const next = points[index + 1];
    const previousValue = index > 0 ? points[index - 1] : null;
    if ((previousValue === null || previousValue === undefined) && (next === null || next === undefined)) {
      dots.push(svg('circle', { cx: x, cy: y, r: '2.5', class: 'dot' }));
    }
  });
  const latestText = latest === undefined ? 'no data yet' : format(latest);
  const range =
    values.length > 0 ? `; range ${format(Math.min(...values))} to ${format(Math.max(...values))}` : '';
  return h(
    'figure',
    { class: 'chart', id },
    h('figcaption', {}, h('span', {}, title), h('strong', {}, latestText)),
    svg(
      'svg',
      {
        viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
        role: 'img',
        'aria-label': `${title}: latest ${latestText}${range}, over the last ${points.length} samples`,
        preserveAspectRatio: 'none',
      },
      svg('line', {
        x1: '0',
        y1: String(HEIGHT - 1),
        x2: String(WIDTH),
        y2: String(HEIGHT - 1),
        class: 'axis',
      }),
      d ? svg('path', { d: d.trim(), class: 'line', fill: 'none' }) : null,
      ...dots,
    ),
  );
}

/** @param {{ id: string, title: string, values: Record<string, number> }} chart */
export function bars({ id, title, values }) {
  const entries = Object.entries(values).sort(([a], [b]) => a.localeCompare(b));
  const top = Math.max(...entries.map(([, value]) => value), 1);
  const rowHeight = 18;
  const labelWidth = 110;
  const height = Math.max(entries.length, 1) * rowHeight;
  const summary = entries.length > 0 ? entries.map(([key, value]) => `${key} ${value}`).join(', ') : 'none';
  return h(
    'figure',
    { class: 'chart', id },
    h('figcaption', {}, h('span', {}, title)),
    svg(
      'svg',
      { viewBox: `0 0 ${WIDTH + labelWidth} ${height}`, role: 'img', 'aria-label': `${title}: ${summary}` },
      ...entries.flatMap(([key, value], index) => {
        const y = index * rowHeight;
        const width = Math.max((value / top) * (WIDTH - 40), value > 0 ? 2 : 0);
        return [
          svg('text', { x: '0', y: String(y + 13), class: 'bar-label' }, key),
          svg('rect', {
            x: String(labelWidth),
            y: String(y + 3),
            width: width.toFixed(1),
            height: String(rowHeight - 6),
            class: `bar bar-${key.replace(/[^a-z_-]/gi, '')}`,
          }),
          svg(
            'text',
            { x: (labelWidth + width + 4).toFixed(1), y: String(y + 13), class: 'bar-value' },
            String(value),
          ),
        ];
      }),
    ),
  );
}
