// Schedules: every robot schedule (GET /v1/schedules) with when it fires, its state (an error the
// orchestrator paused it with stands out), its next run and the robots its recent firings made,
// with pause, resume and run-now buttons (these need an admin key; the API refuses others).

import { announce, formatTime, h, plural, statusBadge } from './dom.mjs';
import { refresher } from './refresher.mjs';

const REFRESH_MS = 5000;

/** @param {{ api: ReturnType<import('./api-client.mjs').createApiClient> }} deps */
export function createSchedulesView({ api }) {
  const body = /** @type {HTMLTableSectionElement} */ (document.getElementById('schedules-body'));
  const status = /** @type {HTMLElement} */ (document.getElementById('schedules-status'));
  const error = /** @type {HTMLElement} */ (document.getElementById('schedules-error'));

  const load = async () => {
    try {
      const { items } = await api.get('/v1/schedules');
      error.textContent = '';
      body.replaceChildren(...items.map((schedule) => row(schedule, act)));
      if (items.length === 0) {
        body.append(
          h(
            'tr',
            {},
            h(
              'td',
              { colspan: '7' },
              'No schedules. Create one with rpa schedules create or POST /v1/schedules.',
            ),
          ),
        );
      }
      const failing = items.filter((schedule) => schedule.lastError).length;
      status.textContent = `${plural(items.length, 'schedule')}${failing > 0 ? `; ${failing} paused by an error.` : '.'}`;
    } catch (err) {
      error.textContent = `Could not load schedules: ${err.message}`;
    }
  };

  /** @param {string} id @param {'pause' | 'resume' | 'trigger'} action */
  const act = async (id, action) => {
    try {
      await api.post(`/v1/schedules/${encodeURIComponent(id)}/${action}`, {});
      announce(`Schedule ${id}: ${action === 'trigger' ? 'run requested' : `${action}d`}.`);
      await load();
    } catch (err) {
      error.textContent = `Could not ${action} schedule ${id}: ${err.message}`;
    }
  };

  const refresh = refresher(load, REFRESH_MS);
  return { show: refresh.start, hide: refresh.stop };
}

function whenText(schedule) {
  if (schedule.cron) return `cron ${schedule.cron}`;
  if (schedule.interval) return `every ${schedule.interval.every}`;
  return `calendar, ${plural(schedule.calendar?.length ?? 0, 'rule')}`;
}

function stateCell(schedule) {
  if (schedule.lastError) {
    return h('td', { class: 'coverage-warning' }, statusBadge('error'), ` ${schedule.lastError}`);
  }
  return h(
    'td',
    {},
    statusBadge(schedule.paused ? 'paused' : 'active'),
    schedule.note ? ` ${schedule.note}` : '',
  );
}

function recentRobots(schedule) {
  const runs = schedule.recentRuns.slice(-3).reverse();
  if (runs.length === 0) return h('td', {}, 'none yet');
  return h(
    'td',
    {},
    ...runs.flatMap((run, index) => [
      index > 0 ? ', ' : '',
      run.robotId
        ? h(
            'a',
            { href: `#robot/${run.robotId}`, title: `nominal ${run.nominalTime}` },
            formatTime(run.nominalTime),
          )
        : formatTime(run.startedAt),
    ]),
  );
}

function row(schedule, act) {
  const button = (label, action) =>
    h(
      'button',
      { type: 'button', class: 'secondary', 'data-action': action, onclick: () => act(schedule.id, action) },
      label,
    );
  return h(
    'tr',
    { 'data-schedule': schedule.id },
    h(
      'th',
      { scope: 'row' },
      schedule.id,
      schedule.description ? h('div', { class: 'hint' }, schedule.description) : '',
      h(
        'div',
        {},
        h('a', { href: schedule.links.temporalUi, target: '_blank', rel: 'noopener' }, 'Temporal UI'),
      ),
    ),
    h('td', {}, h('a', { href: `#robot-types/${encodeURIComponent(schedule.type)}` }, schedule.type)),
    h('td', {}, whenText(schedule), ` (${schedule.timeZone}; overlap ${schedule.overlap})`),
    stateCell(schedule),
    h('td', {}, formatTime(schedule.nextRunTimes[0])),
    recentRobots(schedule),
    h(
      'td',
      {},
      schedule.paused ? button('Resume', 'resume') : button('Pause', 'pause'),
      ' ',
      button('Run now', 'trigger'),
    ),
  );
}
