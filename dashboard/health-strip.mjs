// The health strip: /health/ready's components, refreshed every few seconds on every view.

import { announce, h } from './dom.mjs';

const REFRESH_MS = 5000;

export function startHealthStrip() {
  const body = /** @type {HTMLElement} */ (document.getElementById('health-body'));
  let lastStatus = '';

  const load = async () => {
    let report;
    try {
      // Open like /metrics (no key); 503 still carries the report.
      const response = await fetch('/health/ready', { headers: { accept: 'application/json' } });
      report = await response.json();
    } catch {
      body.replaceChildren(h('span', { class: 'chip chip-down' }, 'API unreachable'));
      return;
    }
    const components = Object.entries(report.components ?? {}).map(([name, component]) =>
      h(
        'span',
        { class: `chip chip-${component.status}`, title: component.error ?? '' },
        `${name}: ${component.status}`,
        typeof component.live === 'number' ? ` (${component.live} live)` : '',
        ` · ${component.latencyMs} ms`,
        component.error ? h('span', { class: 'visually-hidden' }, ` — ${component.error}`) : '',
      ),
    );
    body.replaceChildren(
      h('strong', { class: `chip chip-overall chip-${report.status}` }, `API ${report.status}`),
      ...components,
    );
    if (lastStatus && lastStatus !== report.status) announce(`System health is now ${report.status}.`);
    lastStatus = report.status;
  };

  void load();
  window.setInterval(() => {
    if (!document.hidden) void load();
  }, REFRESH_MS);
}
