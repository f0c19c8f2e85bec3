// Modules: load-balancer score, health, live replicas, in-flight/capacity, circuit and draining,
// refreshed while the view is open.

import { h, statusBadge } from './dom.mjs';
import { refresher } from './refresher.mjs';

const REFRESH_MS = 5000;

/** @param {{ api: ReturnType<import('./api-client.mjs').createApiClient> }} deps */
export function createModulesView({ api }) {
  const body = /** @type {HTMLTableSectionElement} */ (document.getElementById('modules-body'));
  const error = /** @type {HTMLElement} */ (document.getElementById('modules-error'));
  const filters = /** @type {HTMLFormElement} */ (document.getElementById('module-filters'));
  const robotTypeInput = /** @type {HTMLInputElement} */ (document.getElementById('module-robot-type'));

  const load = async () => {
    const robotType = robotTypeInput.value.trim();
    const query = robotType ? `?${new URLSearchParams({ robotType })}` : '';
    try {
      const { items } = await api.get(`/v1/modules${query}`);
      error.textContent = '';
      body.replaceChildren(...items.map(row));
      if (items.length === 0) body.append(h('tr', {}, h('td', { colspan: '10' }, 'No modules registered.')));
    } catch (err) {
      error.textContent = `Could not load modules: ${err.message}`;
    }
  };

  filters.addEventListener('submit', (event) => {
    event.preventDefault();
    void load();
  });

  const refresh = refresher(load, REFRESH_MS);

  return { show: refresh.start, hide: refresh.stop };
}

function row(module) {
  const live = module.live ?? {};
  const utilisation = typeof live.utilisation === 'number' ? ` (${Math.round(live.utilisation * 100)}%)` : '';
  return h(
    'tr',
    { 'data-module': module.name },
    h('th', { scope: 'row' }, module.name, module.isActive === false ? ' (inactive)' : ''),
    h('td', {}, module.version),
    h('td', {}, statusBadge(module.healthStatus)),
    h(
      'td',
      {},
      typeof module.performanceScore === 'number' ? module.performanceScore.toFixed(2) : '—',
      module.performanceTier ? ` ${module.performanceTier}` : '',
    ),
    h('td', {}, routingScore(module.routing)),
    h('td', {}, String(live.replicas ?? 0)),
    h('td', {}, `${live.inFlight ?? 0} / ${live.capacity ?? 0}${utilisation}`),
    h('td', {}, statusBadge(module.circuit)),
    h('td', {}, module.draining ? 'yes' : 'no'),
    h('td', {}, (module.supportedRobotTypes ?? []).join(', ')),
  );
}

/** The load balancer's view of this module for the chosen robot type (absent without one). */
function routingScore(candidate) {
  if (!candidate) return '—';
  if (!candidate.eligible) return `not eligible: ${(candidate.ineligibleReasons ?? []).join(', ')}`;
  // rank exists only inside one selection; the list scores each module alone.
  return typeof candidate.rank === 'number'
    ? `${candidate.score.toFixed(3)} (rank ${candidate.rank})`
    : candidate.score.toFixed(3);
}
