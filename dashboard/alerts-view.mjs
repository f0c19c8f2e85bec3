// Alerts: GET /v1/alerts?status= (rules evaluated by the API, see docs/api.md). A server without
// that API answers 404 and the view says alerts are not available.

import { formatTime, h, statusBadge } from './dom.mjs';
import { refresher } from './refresher.mjs';

const REFRESH_MS = 10_000;

/** @param {{ api: ReturnType<import('./api-client.mjs').createApiClient> }} deps */
export function createAlertsView({ api }) {
  const body = /** @type {HTMLTableSectionElement} */ (document.getElementById('alerts-body'));
  const status = /** @type {HTMLElement} */ (document.getElementById('alerts-status'));
  const error = /** @type {HTMLElement} */ (document.getElementById('alerts-error'));
  const filter = /** @type {HTMLSelectElement} */ (document.getElementById('alert-status'));

  const load = async () => {
    const query = new URLSearchParams({ limit: '50' });
    if (filter.value) query.set('status', filter.value);
    try {
      const page = await api.get(`/v1/alerts?${query}`);
      error.textContent = '';
      body.replaceChildren(...page.items.map(row));
      const which = filter.value || 'recorded';
      status.textContent = page.items.length === 0 ? `No ${which} alerts.` : `${page.items.length} ${which}.`;
    } catch (err) {
      body.replaceChildren();
      if (err.status === 404) {
        error.textContent = '';
        status.textContent = 'Alerts are not available on this server (no /v1/alerts API).';
        return;
      }
      error.textContent = `Could not load alerts: ${err.message}`;
    }
  };

  filter.addEventListener('change', () => void load());

  const refresh = refresher(load, REFRESH_MS);

  return { show: refresh.start, hide: refresh.stop };
}

/** @param {number | null | undefined} value */
const num = (value) => (typeof value === 'number' ? String(Math.round(value * 1000) / 1000) : '—');

function row(alert) {
  return h(
    'tr',
    { 'data-alert-id': alert.alertId },
    h('th', { scope: 'row' }, alert.rule),
    h('td', {}, alert.subject),
    h('td', {}, statusBadge(alert.severity)),
    h('td', {}, statusBadge(alert.status)),
    h('td', {}, `${num(alert.value)} / ${num(alert.threshold)}`),
    h('td', {}, alert.message ?? ''),
    h('td', {}, formatTime(alert.firedAt)),
    h('td', {}, formatTime(alert.resolvedAt)),
  );
}
