// Steps: the step catalog (GET /v1/step-kinds): every kind a robot type may use, built-in or custom
// (declared by a module), with the modules serving it and the schemas of what it takes. An index
// table first, then one card per kind; #steps/<kind> opens the view at that kind's card.
// Fields the catalog gained with custom kinds (version, description, input and output schemas, a
// module's kindVersion) are shown when the server sends them.

import { h, plural } from './dom.mjs';
import { focusCard, reconcileCards } from './keyed-cards.mjs';
import { refresher } from './refresher.mjs';
import { schemaSection } from './schema-view.mjs';

const REFRESH_MS = 10_000;

/** @param {{ api: ReturnType<import('./api-client.mjs').createApiClient> }} deps */
export function createStepsView({ api }) {
  const body = /** @type {HTMLTableSectionElement} */ (document.getElementById('kinds-body'));
  const list = /** @type {HTMLElement} */ (document.getElementById('kinds-list'));
  const status = /** @type {HTMLElement} */ (document.getElementById('kinds-status'));
  const error = /** @type {HTMLElement} */ (document.getElementById('kinds-error'));
  /** The kind to bring into view once loaded (from #steps/<kind>); cleared once shown. */
  let target = /** @type {string | undefined} */ (undefined);

  const load = async () => {
    try {
      const { items } = await api.get('/v1/step-kinds');
      error.textContent = '';
      body.replaceChildren(...items.map(indexRow));
      reconcileCards(list, items, { key: (kind) => kind.name, render: kindCard });
      const custom = items.filter((kind) => !kind.builtIn).length;
      status.textContent = `${items.length} step kinds: ${items.length - custom} built-in, ${custom} custom.`;
      if (target) focusCard(list, 'data-kind', target);
      target = undefined;
    } catch (err) {
      error.textContent = `Could not load the step catalog: ${err.message}`;
    }
  };

  const refresh = refresher(load, REFRESH_MS);

  return {
    /** @param {string} [kind] */
    show(kind) {
      target = kind;
      refresh.start();
    },
    hide: refresh.stop,
  };
}

/** Where a step of this kind runs, in the words the table uses. */
const runsOnText = (kind) => (kind.runsOn === 'workflow' ? 'workflow' : 'module');

/** The modules that would pick a step of this kind up now; workflow kinds need none. */
function servedBy(kind) {
  if (kind.runsOn === 'workflow') return 'the workflow';
  const live = (kind.modules ?? []).filter((module) => module.live && module.isActive && !module.draining);
  if (live.length === 0) return h('span', { class: 'badge badge-down' }, 'no live module');
  return live.map((module) => `${module.name} (${plural(module.replicas, 'replica')})`).join(', ');
}

function indexRow(kind) {
  return h(
    'tr',
    { 'data-kind': kind.name },
    h('th', { scope: 'row' }, h('a', { href: `#steps/${encodeURIComponent(kind.name)}` }, kind.name)),
    h('td', {}, kind.builtIn ? 'built-in' : 'custom'),
    h('td', {}, runsOnText(kind)),
    h('td', {}, kind.version ?? '—'),
    h('td', {}, servedBy(kind)),
    h('td', {}, kind.description ?? ''),
  );
}

function kindCard(kind) {
  const secretParams = kind.secretParams ?? [];
  /** @type {[string, string][]} */
  const facts = [
    ['Kind', kind.builtIn ? 'built-in' : 'custom (declared by a module)'],
    [
      'Runs on',
      kind.runsOn === 'workflow'
        ? 'the workflow (no module needed)'
        : 'a module: one activity named by the kind on the module’s queue',
    ],
    ['Version', kind.version ?? '—'],
    ['Secret params', secretParams.length > 0 ? secretParams.join(', ') : 'none'],
  ];
  const summary = h('dl', { class: 'summary' });
  for (const [term, value] of facts) summary.append(h('dt', {}, term), h('dd', {}, value));
  const key = kind.name;
  return h(
    'li',
    { 'data-kind': kind.name },
    h(
      'article',
      { 'aria-labelledby': `kind-title-${key}` },
      h(
        'h3',
        { id: `kind-title-${key}`, tabindex: '-1' },
        h('code', {}, kind.name),
        ' ',
        h(
          'span',
          { class: `badge ${kind.builtIn ? 'badge-builtin' : 'badge-custom'}` },
          kind.builtIn ? 'built-in' : 'custom',
        ),
        kind.version ? h('span', { class: 'version' }, ` v${kind.version}`) : null,
      ),
      kind.description ? h('p', { class: 'description' }, kind.description) : null,
      summary,
      kind.runsOn === 'workflow' ? null : modulesSection(kind),
      schemaSection('Params', kind.paramsSchema, {
        key: `${key}:params`,
        secretParams,
        openText: 'No params schema: any params object is accepted.',
      }),
      kind.inputSchema === undefined
        ? null
        : schemaSection('Input', kind.inputSchema, {
            key: `${key}:input`,
            openText: 'Reads any robot data (no input schema declared).',
          }),
      kind.outputSchema === undefined
        ? null
        : schemaSection('Output', kind.outputSchema, {
            key: `${key}:output`,
            openText: 'Returns any JSON object (no output schema declared).',
          }),
    ),
  );
}

function modulesSection(kind) {
  const modules = kind.modules ?? [];
  if (modules.length === 0) {
    return h(
      'section',
      { class: 'schema' },
      h('h4', {}, 'Modules'),
      h('p', { class: 'warning' }, 'No module serves this kind: robots reaching a step of it wait pending.'),
    );
  }
  return h(
    'section',
    { class: 'schema' },
    h('h4', {}, 'Modules'),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'compact kind-modules' },
        h('caption', { class: 'visually-hidden' }, `Modules serving ${kind.name}`),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ...['Module', 'Module version', 'Kind version', 'Live', 'Replicas', 'State'].map((text) =>
              h('th', { scope: 'col' }, text),
            ),
          ),
        ),
        h(
          'tbody',
          {},
          ...modules.map((module) =>
            h(
              'tr',
              { 'data-module': module.name },
              h('th', { scope: 'row' }, module.name),
              h('td', {}, module.version ?? '—'),
              h('td', {}, module.kindVersion ?? '—'),
              h(
                'td',
                {},
                h(
                  'span',
                  { class: `badge ${module.live ? 'badge-up' : 'badge-down'}` },
                  module.live ? 'live' : 'not live',
                ),
              ),
              h('td', {}, String(module.replicas ?? 0)),
              h('td', {}, moduleState(module)),
            ),
          ),
        ),
      ),
    ),
  );
}

function moduleState(module) {
  const words = [module.isActive === false ? 'inactive' : 'active'];
  if (module.draining) words.push('draining');
  return words.join(', ');
}
