// Approvals inbox, coded against the control branch's API: GET /v1/approvals,
// POST /v1/robots/:id/approve {fields?, comment?}, POST /v1/robots/:id/reject {comment?}.
// A server without that API answers 404: the view says so instead of showing an error.

import { announce, formatTime, h, jsonBlock, statusBadge } from './dom.mjs';
import { refresher } from './refresher.mjs';

const REFRESH_MS = 10_000;

/** @param {{ api: ReturnType<import('./api-client.mjs').createApiClient> }} deps */
export function createApprovalsView({ api }) {
  const list = /** @type {HTMLElement} */ (document.getElementById('approvals-list'));
  const status = /** @type {HTMLElement} */ (document.getElementById('approvals-status'));
  const error = /** @type {HTMLElement} */ (document.getElementById('approvals-error'));
  // Refreshing while someone types a comment would wipe it: skip refreshes while a form has focus.
  const busy = () =>
    list.contains(document.activeElement) && document.activeElement?.matches('input, textarea');

  const load = async () => {
    try {
      const page = await api.get('/v1/approvals?limit=50');
      error.textContent = '';
      status.textContent =
        page.items.length === 0
          ? 'Nothing is waiting for approval.'
          : `${page.items.length} waiting for approval.`;
      list.replaceChildren(...page.items.map((item) => card(item, { api, onDone: load })));
    } catch (err) {
      if (err.status === 404) {
        list.replaceChildren();
        error.textContent = '';
        status.textContent = 'Approvals are not available on this server (no /v1/approvals API).';
        return;
      }
      error.textContent = `Could not load approvals: ${err.message}`;
    }
  };

  const refresh = refresher(load, REFRESH_MS, () => !busy());

  return { show: refresh.start, hide: refresh.stop };
}

/** @param {any} item @param {{ api: any, onDone: () => Promise<void> }} deps */
function card(item, { api, onDone }) {
  const id = item.robotId;
  const base = `/v1/robots/${encodeURIComponent(id)}`;
  const message = h('p', { class: 'error', role: 'alert' });

  const act = async (action, body, button) => {
    message.textContent = '';
    button.disabled = true;
    try {
      await api.post(item.links?.[action] ?? `${base}/${action}`, body);
      announce(`Robot ${id.slice(0, 8)} ${action === 'approve' ? 'approved' : 'rejected'}.`);
      await onDone();
    } catch (err) {
      message.textContent = `Could not ${action}: ${err.message}`;
      button.disabled = false;
    }
  };

  const fieldsInput = h('textarea', {
    id: `fields-${id}`,
    rows: '2',
    spellcheck: 'false',
    placeholder: '{}',
  });
  const approveComment = h('input', { id: `approve-comment-${id}`, autocomplete: 'off' });
  const approveButton = h('button', { type: 'submit' }, 'Approve');
  const approveForm = h(
    'form',
    { class: 'inline-form', 'aria-label': `Approve robot ${id.slice(0, 8)}` },
    h('div', { class: 'field' }, h('label', { for: `fields-${id}` }, 'Fields (JSON, optional)'), fieldsInput),
    h('div', { class: 'field' }, h('label', { for: `approve-comment-${id}` }, 'Comment'), approveComment),
    approveButton,
  );
  approveForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = /** @type {HTMLTextAreaElement} */ (fieldsInput).value.trim();
    /** @type {Record<string, unknown>} */
    const body = {};
    if (text) {
      try {
        body.fields = JSON.parse(text);
      } catch (err) {
        message.textContent = `Fields are not valid JSON: ${err.message}`;
        return;
      }
    }
    const comment = /** @type {HTMLInputElement} */ (approveComment).value.trim();
    if (comment) body.comment = comment;
    void act('approve', body, approveButton);
  });

  const rejectComment = h('input', { id: `reject-comment-${id}`, autocomplete: 'off' });
  const rejectButton = h('button', { type: 'submit', class: 'danger' }, 'Reject');
  const rejectForm = h(
    'form',
    { class: 'inline-form', 'aria-label': `Reject robot ${id.slice(0, 8)}` },
    h('div', { class: 'field' }, h('label', { for: `reject-comment-${id}` }, 'Reason'), rejectComment),
    rejectButton,
  );
  rejectForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const comment = /** @type {HTMLInputElement} */ (rejectComment).value.trim();
    void act('reject', comment ? { comment } : {}, rejectButton);
  });

  return h(
    'li',
    { 'data-robot-id': id },
    h(
      'article',
      { 'aria-labelledby': `approval-title-${id}` },
      h(
        'h3',
        { id: `approval-title-${id}` },
        h('a', { href: `#robot/${id}`, class: 'mono' }, id.slice(0, 8)),
        ` ${item.type} · step ${item.step ?? '?'} `,
        statusBadge(item.status),
        item.escalated ? ' escalated' : '',
        item.reason === 'sla-missed' ? ' · past its SLA deadline' : '',
      ),
      h('p', {}, `Waiting since ${formatTime(item.waitingSince)}; deadline ${formatTime(item.deadline)}.`),
      h('details', {}, h('summary', {}, 'Data'), jsonBlock(item.data ?? {})),
      approveForm,
      rejectForm,
      message,
    ),
  );
}
