// Robot types: the current version of every type (GET /v1/robot-types) with its steps in order,
// its input schema and SLA, and for each module step which live modules would take it now (the
// step catalog and the module list). A step nobody would take gets a warning: robots of the type
// would wait `pending` there. #robot-types/<name> opens the view at that type's card.

import { formatTime, h, plural } from './dom.mjs';
import { focusCard, reconcileCards } from './keyed-cards.mjs';
import { refresher } from './refresher.mjs';
import { schemaSection } from './schema-view.mjs';
import { stepCoverage } from './step-coverage.mjs';

const REFRESH_MS = 10_000;

/** @param {{ api: ReturnType<import('./api-client.mjs').createApiClient> }} deps */
export function createRobotTypesView({ api }) {
  const list = /** @type {HTMLElement} */ (document.getElementById('types-list'));
  const status = /** @type {HTMLElement} */ (document.getElementById('types-status'));
  const error = /** @type {HTMLElement} */ (document.getElementById('types-error'));
  let target = /** @type {string | undefined} */ (undefined);

  const load = async () => {
    try {
      const [types, kinds, modules] = await Promise.all([
        api.get('/v1/robot-types'),
        api.get('/v1/step-kinds'),
        api.get('/v1/modules'),
      ]);
      error.textContent = '';
      const catalog = new Map(kinds.items.map((kind) => [kind.name, kind]));
      const moduleList = new Map(modules.items.map((module) => [module.name, module]));
      // Coverage goes into the item, so a card is rebuilt when a module comes or goes, not only
      // when the type changes.
      const items = types.items.map((type) => ({
        type,
        coverage: type.steps.map((step) => stepCoverage(step, type.name, catalog, moduleList)),
      }));
      reconcileCards(list, items, { key: (item) => item.type.name, render: typeCard });
      const waiting = items.filter((item) => item.coverage.some((entry) => entry.problem)).length;
      status.textContent =
        `${plural(items.length, 'robot type')}` +
        (waiting > 0 ? `; ${waiting} with a step no live module would take now.` : '.');
      if (target) focusCard(list, 'data-robot-type', target);
      target = undefined;
    } catch (err) {
      error.textContent = `Could not load robot types: ${err.message}`;
    }
  };

  const refresh = refresher(load, REFRESH_MS);

  return {
    /** @param {string} [name] */
    show(name) {
      target = name;
      refresh.start();
    },
    hide: refresh.stop,
  };
}

/** @param {{ type: any, coverage: import('./step-coverage.mjs').StepCoverage[] }} item */
function typeCard({ type, coverage }) {
  const uncovered = type.steps
    .map((step, index) => ({ step, problem: coverage[index]?.problem }))
    .filter((entry) => entry.problem);
  /** @type {[string, string][]} */
  const facts = [
    ['Version', String(type.version)],
    ['Registered', type.builtIn ? 'built in' : formatTime(type.createdAt)],
    ['SLA', type.sla ?? 'none'],
    [
      'Max pending',
      typeof type.maxPendingSeconds === 'number'
        ? `${formatSeconds(type.maxPendingSeconds)} per step (paused time aside), then a robot still waiting for a module fails`
        : 'no limit: a robot waits for a module as long as it takes',
    ],
  ];
  const summary = h('dl', { class: 'summary' });
  for (const [term, value] of facts) summary.append(h('dt', {}, term), h('dd', {}, value));
  return h(
    'li',
    { 'data-robot-type': type.name },
    h(
      'article',
      { 'aria-labelledby': `type-title-${type.name}` },
      h(
        'h3',
        { id: `type-title-${type.name}`, tabindex: '-1' },
        h('code', {}, type.name),
        ` v${type.version} `,
        h(
          'span',
          { class: `badge ${type.builtIn ? 'badge-builtin' : 'badge-custom'}` },
          type.builtIn ? 'built-in' : 'registered',
        ),
      ),
      type.description ? h('p', { class: 'description' }, type.description) : null,
      uncovered.length > 0
        ? h(
            'p',
            { class: 'warning', 'data-warning': '' },
            'Robots of this type would wait pending: no live module would take ',
            uncovered.map(({ step }) => `step ${step.name} (${step.kind})`).join(', '),
            '.',
          )
        : null,
      summary,
      h('h4', {}, 'Steps'),
      stepsTable(type, coverage),
      schemaSection('Input', type.inputSchema ?? {}, {
        key: `${type.name}:input`,
        openText: 'No input schema: robots may be created with any JSON object.',
      }),
    ),
  );
}

function stepsTable(type, coverage) {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'compact type-steps' },
      h('caption', { class: 'visually-hidden' }, `Steps of ${type.name} in order`),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ...['#', 'Step', 'Kind', 'Runs on', 'Timeout', 'Retry', 'Taken by'].map((text) =>
            h('th', { scope: 'col' }, text),
          ),
        ),
      ),
      h(
        'tbody',
        {},
        ...type.steps.map((step, index) => {
          const entry = coverage[index] ?? { runsOn: 'module', servers: [], problem: null };
          const onModule = entry.runsOn === 'module';
          return h(
            'tr',
            { 'data-step': step.name },
            h('td', {}, String(index + 1)),
            h('th', { scope: 'row' }, step.name),
            h('td', {}, h('a', { href: `#steps/${encodeURIComponent(step.kind)}` }, step.kind)),
            h('td', {}, entry.runsOn),
            // The workflow runs its own kinds (timers, waits): no activity timeout or retry applies.
            h('td', {}, onModule ? formatSeconds(step.timeoutSeconds ?? 60) : '—'),
            h('td', {}, onModule ? retryText(step.retry) : '—'),
            takenBy(entry, type),
          );
        }),
      ),
    ),
  );
}

/** @param {import('./step-coverage.mjs').StepCoverage} entry */
function takenBy(entry, type) {
  if (entry.runsOn === 'workflow') return h('td', {}, 'the workflow');
  if (!entry.problem) {
    return h(
      'td',
      {},
      entry.servers.map((server) => `${server.name} (${plural(server.replicas, 'replica')})`).join(', '),
    );
  }
  const after =
    typeof type.maxPendingSeconds === 'number'
      ? `, then fail after ${formatSeconds(type.maxPendingSeconds)}.`
      : '.';
  return h(
    'td',
    { class: 'coverage-warning' },
    h('span', { class: 'badge badge-warning' }, 'warning'),
    ` ${entry.problem} Robots would wait pending here${after}`,
  );
}

/** Without a policy, a module step gets 3 attempts from 1 s backing off to 20 s. */
function retryText(retry) {
  if (!retry) return 'default: 3 attempts, 1 s → 20 s';
  const coefficient = retry.backoffCoefficient ?? 2;
  return `${plural(retry.maximumAttempts, 'attempt')}, ${retry.initialIntervalSeconds ?? 1} s → ${retry.maximumIntervalSeconds ?? 20} s, ×${coefficient}`;
}

/** @param {number} seconds */
function formatSeconds(seconds) {
  if (seconds >= 3600 && seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds >= 60 && seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}
