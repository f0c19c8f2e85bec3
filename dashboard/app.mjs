// Entry point: builds the views and switches between them by URL hash (#robots, #robot/<id>,
// #modules, #steps, #steps/<kind>, #robot-types, #robot-types/<name>, #schedules, #approvals, #metrics, #alerts,
// #outbox), so views can be bookmarked and Back works.

import { createAlertsView } from './alerts-view.mjs';
import { createApiClient } from './api-client.mjs';
import { createApprovalsView } from './approvals-view.mjs';
import { startHealthStrip } from './health-strip.mjs';
import { askForKey } from './key-dialog.mjs';
import { startMetrics } from './metrics-view.mjs';
import { createModulesView } from './modules-view.mjs';
import { createOutboxView } from './outbox-view.mjs';
import { createRobotDetailView } from './robot-detail.mjs';
import { createLiveTracker } from './robot-live.mjs';
import { createRobotTypesView } from './robot-types-view.mjs';
import { createRobotsView } from './robots-view.mjs';
import { createSchedulesView } from './schedules-view.mjs';
import { createStepsView } from './steps-view.mjs';

const api = createApiClient({ askForKey });
const live = createLiveTracker(api);
const noop = { show() {}, hide() {} };
/** @type {Record<string, { show(arg?: string): unknown, hide(): void }>} */
const views = {
  robots: createRobotsView({ api, live }),
  robot: createRobotDetailView({ api, live }),
  modules: createModulesView({ api }),
  steps: createStepsView({ api }),
  'robot-types': createRobotTypesView({ api }),
  schedules: createSchedulesView({ api }),
  approvals: createApprovalsView({ api }),
  metrics: noop,
  alerts: createAlertsView({ api }),
  outbox: createOutboxView({ api }),
};
let current = '';
let currentArg = /** @type {string | undefined} */ (undefined);

function route({ focus }) {
  const [name = 'robots', arg] = location.hash.replace(/^#\/?/, '').split('/');
  const view = name in views ? name : 'robots';
  if (current && current !== view) views[current]?.hide();
  for (const panel of document.querySelectorAll('[data-view-panel]')) {
    /** @type {HTMLElement} */ (panel).hidden = panel.getAttribute('data-view-panel') !== view;
  }
  for (const link of document.querySelectorAll('nav [data-view]')) {
    const active = link.getAttribute('data-view') === (view === 'robot' ? 'robots' : view);
    if (active) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  current = view;
  currentArg = arg ? decodeURIComponent(arg) : undefined;
  views[view]?.show(currentArg);
  // Move focus to the new view's heading so keyboard and screen-reader users land in it.
  if (focus) document.querySelector(`[data-view-panel="${view}"] h2`)?.focus();
}

window.addEventListener('hashchange', () => route({ focus: true }));
document.getElementById('change-key')?.addEventListener('click', () => {
  api.changeKey().then(
    () => views[current]?.show(currentArg),
    () => undefined,
  );
});

startHealthStrip();
startMetrics(api);
route({ focus: false });
