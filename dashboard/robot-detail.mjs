// One robot: summary, steps, routing decisions, input/output, error, and its Temporal Web UI link.
// Stays live while open through the shared tracker.

import { formatDuration, formatTime, h, jsonBlock, statusBadge } from './dom.mjs';

/**
 * @param {{ api: ReturnType<import('./api-client.mjs').createApiClient>,
 *   live: ReturnType<import('./robot-live.mjs').createLiveTracker> }} deps
 */
export function createRobotDetailView({ api, live }) {
  const container = /** @type {HTMLElement} */ (document.getElementById('robot-detail'));
  const title = /** @type {HTMLElement} */ (document.getElementById('robot-title'));
  const error = /** @type {HTMLElement} */ (document.getElementById('robot-error'));
  let currentId = /** @type {string | null} */ (null);

  live.subscribe((robot) => {
    if (robot.robotId === currentId) render(robot);
  });

  const render = (robot) => {
    title.textContent = `Robot ${robot.robotId}`;
    container.replaceChildren(
      summary(robot),
      section('Steps', stepsTable(robot.progress?.steps ?? [])),
      section('Routing', routingList(robot.routing ?? [])),
      section('Input', jsonBlock(robot.input)),
      section('Output', robot.output ? jsonBlock(robot.output) : h('p', {}, 'No output yet.')),
      section('Error', robot.error ? h('p', { class: 'error-text' }, robot.error) : h('p', {}, 'None.')),
    );
  };

  return {
    /** @param {string} robotId */
    async show(robotId) {
      currentId = robotId;
      error.textContent = '';
      title.textContent = `Robot ${robotId}`;
      container.replaceChildren(h('p', {}, 'Loading…'));
      try {
        const robot = await api.get(`/v1/robots/${encodeURIComponent(robotId)}`);
        if (currentId !== robotId) return;
        render(robot);
        live.track(robot);
      } catch (err) {
        container.replaceChildren();
        error.textContent =
          err.status === 404 ? 'No robot with this id.' : `Could not load the robot: ${err.message}`;
      }
    },
    hide() {
      currentId = null;
    },
  };
}

/** @param {string} heading @param {Node} content */
function section(heading, content) {
  return h('section', { class: 'detail-section' }, h('h3', {}, heading), content);
}

function summary(robot) {
  const progress = robot.progress;
  /** @type {[string, Node | string][]} */
  const entries = [
    ['Status', statusBadge(robot.status)],
    ['Type', `${robot.type} v${robot.typeVersion}`],
    ['Priority', robot.priority],
    ['Module', robot.moduleName ?? '—'],
    [
      'Progress',
      progress ? `${progress.stepsCompleted}/${progress.stepsTotal} steps (${progress.percent}%)` : '—',
    ],
    ['Processing time', formatDuration(robot.processingTimeMs)],
    ['Failovers', String(robot.retryCount ?? 0)],
    ['Created', formatTime(robot.createdAt)],
    ['Updated', formatTime(robot.updatedAt)],
  ];
  const list = h('dl', { class: 'summary' });
  for (const [term, value] of entries) list.append(h('dt', {}, term), h('dd', {}, value));
  const temporalUi = robot.links?.temporalUi;
  return h(
    'div',
    {},
    list,
    temporalUi
      ? h(
          'p',
          {},
          h(
            'a',
            { id: 'temporal-ui-link', href: temporalUi, target: '_blank', rel: 'noopener noreferrer' },
            'Open in the Temporal Web UI',
            h('span', { class: 'visually-hidden' }, ' (opens in a new tab)'),
          ),
        )
      : null,
  );
}

function stepsTable(steps) {
  if (steps.length === 0) return h('p', {}, 'No steps recorded yet.');
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { id: 'steps-table' },
      h('caption', { class: 'visually-hidden' }, 'Steps of this robot in order'),
      h(
        'thead',
        {},
        h('tr', {}, ...['Step', 'Kind', 'Status', 'Module', 'Duration', 'Error'].map(headerCell)),
      ),
      h(
        'tbody',
        {},
        ...steps.map((step) =>
          h(
            'tr',
            {},
            h('th', { scope: 'row' }, step.name),
            h('td', {}, step.kind),
            h('td', {}, statusBadge(step.status)),
            h('td', {}, step.moduleName ?? '—'),
            h('td', {}, formatDuration(step.durationMs)),
            h('td', {}, step.error ?? ''),
          ),
        ),
      ),
    ),
  );
}

const headerCell = (text) => h('th', { scope: 'col' }, text);

function routingList(decisions) {
  if (decisions.length === 0) return h('p', {}, 'No routing decision yet.');
  return h(
    'ol',
    { class: 'routing' },
    ...decisions.map((decision) =>
      h(
        'li',
        {},
        h(
          'p',
          {},
          h('strong', {}, decision.cause ?? 'decision'),
          decision.step ? ` (step ${decision.step})` : '',
          ': ',
          decision.winner ? `chose ${decision.winner}` : 'no eligible module',
          decision.reason ? ` — ${decision.reason}` : '',
          ` · ${formatTime(decision.decidedAt)}`,
        ),
        candidatesTable(decision),
      ),
    ),
  );
}

function candidatesTable(decision) {
  const candidates = decision.candidates ?? [];
  if (candidates.length === 0) return null;
  const score = (value) => (typeof value === 'number' ? value.toFixed(3) : '—');
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'compact' },
      h('caption', { class: 'visually-hidden' }, 'Candidate modules and their scores'),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ...['Module', 'Rank', 'Score', 'Performance', 'Capacity', 'Health', 'Type match', 'Why not'].map(
            headerCell,
          ),
        ),
      ),
      h(
        'tbody',
        {},
        ...candidates.map((candidate) =>
          h(
            'tr',
            {},
            h('th', { scope: 'row' }, candidate.moduleName),
            h('td', {}, candidate.rank ?? '—'),
            h('td', {}, score(candidate.score)),
            h('td', {}, score(candidate.factors?.performance)),
            h('td', {}, score(candidate.factors?.capacity)),
            h('td', {}, score(candidate.factors?.health)),
            h('td', {}, score(candidate.factors?.typeMatch)),
            h(
              'td',
              {},
              candidate.eligible === false
                ? (candidate.ineligibleReasons ?? []).join(', ') || 'not eligible'
                : (candidate.lostBecause ?? ''),
            ),
          ),
        ),
      ),
      decision.candidatesOmitted
        ? h(
            'tfoot',
            {},
            h('tr', {}, h('td', { colspan: '8' }, `${decision.candidatesOmitted} more not shown`)),
          )
        : null,
    ),
  );
}
