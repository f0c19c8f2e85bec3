// Outbox: the emails send-email steps sent (GET /v1/emails), newest first, optionally of one robot,
// paged with the API's cursor ("More"). Refreshed while shown, so a demo robot's reply appears
// without a reload. A server without that API answers 404 and the view says so.

import { formatTime, h } from './dom.mjs';
import { refresher } from './refresher.mjs';

const REFRESH_MS = 10_000;
const PAGE_SIZE = 50;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** @param {{ api: ReturnType<import('./api-client.mjs').createApiClient> }} deps */
export function createOutboxView({ api }) {
  const body = /** @type {HTMLTableSectionElement} */ (document.getElementById('outbox-body'));
  const status = /** @type {HTMLElement} */ (document.getElementById('outbox-status'));
  const error = /** @type {HTMLElement} */ (document.getElementById('outbox-error'));
  const filters = /** @type {HTMLFormElement} */ (document.getElementById('outbox-filters'));
  const robotField = /** @type {HTMLInputElement} */ (document.getElementById('outbox-robot'));
  const more = /** @type {HTMLButtonElement} */ (document.getElementById('outbox-more'));
  /** @type {string | null} */
  let cursor = null;

  /** @param {{ reset: boolean }} options */
  const load = async ({ reset }) => {
    const robotId = robotField.value.trim();
    if (robotId && !UUID.test(robotId)) {
      error.textContent = 'Robot id must be a UUID, e.g. one from the Robots view.';
      return;
    }
    const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (robotId) query.set('robotId', robotId);
    if (!reset && cursor) query.set('cursor', cursor);
    body.closest('table')?.setAttribute('aria-busy', 'true');
    try {
      const page = await api.get(`/v1/emails?${query}`);
      error.textContent = '';
      if (reset) body.replaceChildren();
      body.append(...page.items.map(row));
      cursor = page.nextCursor ?? null;
      more.hidden = cursor === null;
      const shown = body.rows.length;
      status.textContent =
        shown === 0 ? 'No emails sent yet.' : `${shown} sent email${shown === 1 ? '' : 's'}.`;
    } catch (err) {
      if (reset) body.replaceChildren();
      more.hidden = true;
      if (err.status === 404) {
        error.textContent = '';
        status.textContent = 'The outbox is not available on this server (no /v1/emails API).';
        return;
      }
      error.textContent = `Could not load the outbox: ${err.message}`;
    } finally {
      body.closest('table')?.setAttribute('aria-busy', 'false');
    }
  };

  filters.addEventListener('submit', (event) => {
    event.preventDefault();
    void load({ reset: true });
  });
  more.addEventListener('click', () => void load({ reset: false }));

  // Refresh only the first page: a person paging back through "More" keeps what they loaded.
  const refresh = refresher(
    () => load({ reset: true }),
    REFRESH_MS,
    () => cursor === null,
  );

  return { show: refresh.start, hide: refresh.stop };
}

function row(email) {
  return h(
    'tr',
    { 'data-message-id': email.messageId },
    h('td', {}, formatTime(email.sentAt)),
    h('th', { scope: 'row' }, email.subject),
    h('td', {}, email.recipients.join(', ')),
    h(
      'td',
      {},
      h(
        'a',
        { href: `#robot/${email.robotId}`, title: email.robotId, class: 'mono' },
        email.robotId.slice(0, 8),
      ),
    ),
    h('td', {}, email.step),
    h('td', { class: 'mono' }, email.messageId),
  );
}
