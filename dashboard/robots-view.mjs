// The robots table: filters, cursor paging ("More"), rows that follow their robot live, and the
// form that creates a robot.

import { announce, formatTime, h, statusBadge } from './dom.mjs';

const PAGE_SIZE = 20;

/**
 * @param {{ api: ReturnType<import('./api-client.mjs').createApiClient>,
 *   live: ReturnType<import('./robot-live.mjs').createLiveTracker> }} deps
 */
export function createRobotsView({ api, live }) {
  const body = /** @type {HTMLTableSectionElement} */ (document.getElementById('robots-body'));
  const more = /** @type {HTMLButtonElement} */ (document.getElementById('robots-more'));
  const empty = /** @type {HTMLElement} */ (document.getElementById('robots-empty'));
  const error = /** @type {HTMLElement} */ (document.getElementById('robots-error'));
  const filters = /** @type {HTMLFormElement} */ (document.getElementById('robot-filters'));
  const types = /** @type {HTMLDataListElement} */ (document.getElementById('robot-types'));
  /** @type {Map<string, HTMLTableRowElement>} */
  const rows = new Map();
  /** @type {Map<string, string>} last status seen per robot, to announce only changes */
  const statuses = new Map();
  let cursor = /** @type {string | null} */ (null);
  let loaded = false;

  const currentFilters = () => {
    const data = new FormData(filters);
    return { status: String(data.get('status') ?? ''), type: String(data.get('type') ?? '').trim() };
  };

  const matchesFilters = (robot) => {
    const { status, type } = currentFilters();
    return (!status || robot.status === status) && (!type || robot.type === type);
  };

  const rememberType = (type) => {
    if ([...types.options].some((option) => option.value === type)) return;
    types.append(h('option', { value: type }));
  };

  const renderRow = (robot) => {
    const shortId = robot.robotId.slice(0, 8);
    const percent = robot.progress?.percent ?? (robot.status === 'completed' ? 100 : 0);
    const row = /** @type {HTMLTableRowElement} */ (
      h(
        'tr',
        { 'data-robot-id': robot.robotId, 'data-status': robot.status },
        h(
          'th',
          { scope: 'row' },
          h('a', { href: `#robot/${robot.robotId}`, title: robot.robotId, class: 'mono' }, shortId),
        ),
        h('td', {}, robot.type),
        h('td', { class: 'status-cell' }, statusBadge(robot.status)),
        h('td', {}, robot.priority),
        h('td', {}, robot.moduleName ?? '—'),
        h(
          'td',
          {},
          h('progress', { max: '100', value: String(percent), 'aria-label': `${shortId} progress` }),
          ` ${percent}%`,
        ),
        h('td', {}, formatTime(robot.createdAt)),
      )
    );
    return row;
  };

  /** Puts the robot's latest state in its row (new rows go on top only when created here). */
  const upsert = (robot, { prepend = false } = {}) => {
    rememberType(robot.type);
    const existing = rows.get(robot.robotId);
    const row = renderRow(robot);
    if (existing) existing.replaceWith(row);
    else if (prepend) body.prepend(row);
    else body.append(row);
    rows.set(robot.robotId, row);
    const before = statuses.get(robot.robotId);
    if (before && before !== robot.status)
      announce(`Robot ${robot.robotId.slice(0, 8)} is now ${robot.status}.`);
    statuses.set(robot.robotId, robot.status);
    empty.hidden = rows.size > 0;
    live.track(robot);
  };

  live.subscribe((robot) => {
    if (rows.has(robot.robotId)) upsert(robot);
  });

  const load = async ({ reset }) => {
    error.textContent = '';
    if (reset) {
      live.clear();
      rows.clear();
      statuses.clear();
      body.replaceChildren();
      cursor = null;
    }
    const { status, type } = currentFilters();
    const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (status) query.set('status', status);
    if (type) query.set('type', type);
    if (cursor) query.set('cursor', cursor);
    body.closest('table')?.setAttribute('aria-busy', 'true');
    try {
      const page = await api.get(`/v1/robots?${query}`);
      for (const robot of page.items) upsert(robot);
      loaded = true;
      cursor = page.nextCursor ?? null;
      more.hidden = cursor === null;
      empty.hidden = rows.size > 0;
    } catch (err) {
      error.textContent = `Could not load robots: ${err.message}`;
    } finally {
      body.closest('table')?.setAttribute('aria-busy', 'false');
    }
  };

  filters.addEventListener('submit', (event) => {
    event.preventDefault();
    void load({ reset: true });
  });
  document.getElementById('filter-status')?.addEventListener('change', () => void load({ reset: true }));
  more.addEventListener('click', () => void load({ reset: false }));

  setupCreateForm({ api, onCreated: (robot) => matchesFilters(robot) && upsert(robot, { prepend: true }) });

  return {
    // Rows stay live on their own; the list loads again only if it never loaded (no key yet).
    show() {
      if (!loaded) void load({ reset: true });
    },
    hide() {},
    reload: () => load({ reset: true }),
  };
}

/** A fresh Idempotency-Key; getRandomValues also works where randomUUID does not (plain http). */
function newIdempotencyKey() {
  if (typeof crypto.randomUUID === 'function' && window.isSecureContext)
    return `dashboard-${crypto.randomUUID()}`;
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `dashboard-${[...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join('')}`;
}

/** @param {{ api: any, onCreated: (robot: any) => void }} deps */
function setupCreateForm({ api, onCreated }) {
  const form = /** @type {HTMLFormElement} */ (document.getElementById('new-robot-form'));
  const error = /** @type {HTMLElement} */ (document.getElementById('new-robot-error'));
  const inputField = /** @type {HTMLTextAreaElement} */ (document.getElementById('new-robot-input'));
  const submit = /** @type {HTMLButtonElement} */ (form.querySelector('button[type="submit"]'));
  // One key per intended robot: a retry after a network error or a key prompt cannot create a
  // second robot. Editing the form means another robot, so it gets a new key.
  let key = newIdempotencyKey();
  form.addEventListener('input', () => {
    key = newIdempotencyKey();
  });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    inputField.removeAttribute('aria-invalid');
    const data = new FormData(form);
    const type = String(data.get('type') ?? '').trim();
    let input;
    try {
      input = JSON.parse(String(data.get('input') ?? '') || '{}');
    } catch (err) {
      inputField.setAttribute('aria-invalid', 'true');
      error.textContent = `Input is not valid JSON: ${err.message}`;
      return;
    }
    if (input === null || typeof input !== 'object' || Array.isArray(input)) {
      inputField.setAttribute('aria-invalid', 'true');
      error.textContent = 'Input must be a JSON object, e.g. {"text": "…"}.';
      return;
    }
    submit.disabled = true;
    try {
      const robot = await api.post(
        '/v1/robots',
        { type, input, priority: String(data.get('priority') ?? 'normal') },
        { 'idempotency-key': key },
      );
      key = newIdempotencyKey();
      announce(`Robot ${robot.robotId.slice(0, 8)} created (${robot.status}).`);
      onCreated(robot);
    } catch (err) {
      error.textContent = `Could not create the robot: ${err.message}`;
    } finally {
      submit.disabled = false;
    }
  });
}
