import { el, redrawList, str } from '../lib/dom.js';
import { duration, format } from '../lib/format.js';
import { alertNewWaiting } from './alerts.js';
import { openConversation } from './chat.js';
import { api } from './http.js';
import { freshCount } from './load.js';
import { loadMineSoon, upsertMine } from './mine.js';
import { BASE_TITLE, announce, copy, customerDetail, customerLabel, handoverText, state, topicTitles, ui } from './state.js';
import { refreshOpenBrief } from './transfer.js';

// ---- queue ---------------------------------------------------------------------------------------------
export let queueLoadFailed = false;

export async function loadQueue() {
  try {
    const data = await api('GET', '/queue');
    setQueue(data.conversations || []);
    if (queueLoadFailed) ui.queueError.textContent = '';
    queueLoadFailed = false;
  } catch (err) {
    ui.queueError.textContent = err.message;
    queueLoadFailed = true;
  }
}

export function withClock(brief) {
  const timed = Object.assign({}, brief);
  if (typeof brief.waiting_seconds === 'number') {
    timed._since = Date.now() - brief.waiting_seconds * 1000; // our clock: no server clock skew
  } else if (brief.waiting_since) {
    const since = Date.parse(brief.waiting_since);
    timed._since = Number.isNaN(since) ? Date.now() : since;
  } else {
    timed._since = Date.now();
  }
  return timed;
}

export function setQueue(conversations) {
  const list = conversations.filter((c) => c && c.id).map(withClock);
  const fresh = state.queueSeen ? list.filter((c) => !state.queueSeen.has(c.id)) : [];
  const ids = new Set(list.map((c) => c.id));
  const left = state.queue.some((c) => !ids.has(c.id));
  state.queue = list;
  state.queueSeen = ids;
  if (left) loadMineSoon(); // maybe claimed in my other tab
  renderQueue();
  updateTitle();
  if (fresh.length) alertNewWaiting(fresh);
  const open = state.open;
  if (open && open.brief.state === 'waiting' && !state.queueSeen.has(open.brief.id)) {
    refreshOpenBrief(); // the chat in preview left the queue: someone claimed it, or the visitor left
  }
}

export function updateTitle() {
  const count = state.queue.length;
  const badge = count + freshCount(); // and chats that became mine without a claim, until opened
  document.title = badge > 0 ? `(${badge}) ${BASE_TITLE}` : BASE_TITLE;
  ui.queueCount.textContent = count > 0 ? `(${count})` : '';
}

export function renderQueue() {
  redrawList(ui.queueList, ui.queueEmpty, state.queue, (brief) => {
    const headingId = `queue-item-${brief.id}`;
    const intents = topicTitles(brief);
    const lastMessages = Array.isArray(brief.last_messages) ? brief.last_messages.map(str).filter(Boolean) : [];
    return el('li', { className: 'card queue-item' }, [
      el('h3', { id: headingId, className: 'card-title' }, [
        customerLabel(brief),
        el('span', { className: 'small' }, [` – ${customerDetail(brief)}`]),
      ]),
      el('p', { className: 'wait' }, [
        `${copy.waited} `,
        el('span', { className: 'wait-time', dataset: { since: String(brief._since) } }, [
          duration((Date.now() - brief._since) / 1000),
        ]),
      ]),
      handoverText(brief) ? el('p', { className: 'handover', text: handoverText(brief) }) : null,
      brief.handover && brief.unanswered
        ? el('p', { className: 'unanswered' }, [el('strong', { text: `${copy.unanswered}: ` }), str(brief.unanswered.text)])
        : null,
      brief.reason_text || brief.reason
        ? el('p', {}, [el('strong', { text: `${copy.reason}: ` }), str(brief.reason_text || brief.reason)])
        : null,
      intents.length ? el('p', {}, [el('strong', { text: `${copy.intents}: ` }), intents.join(', ')]) : null,
      brief.last_message
        ? el('p', { className: 'quote' }, [el('strong', { text: `${copy.lastMessage}: ` }), str(brief.last_message)])
        : null,
      lastMessages.length && !brief.last_message
        ? el('div', { className: 'quote' }, [
            el('strong', { text: `${copy.lastMessages}:` }),
            el('ul', {}, lastMessages.slice(-3).map((m) => el('li', { text: m }))),
          ])
        : null,
      el('div', { className: 'card-actions' }, [
        el('button', {
          type: 'button',
          'aria-describedby': headingId,
          dataset: { focusKey: `claim:${brief.id}` },
          text: copy.claim,
          onclick: () => claim(brief.id),
        }),
        el('button', {
          type: 'button',
          className: 'button-secondary',
          'aria-describedby': headingId,
          dataset: { focusKey: `preview:${brief.id}` },
          text: copy.preview,
          onclick: () => openConversation(brief.id),
        }),
      ]),
    ]);
  });
}

export function tickWaitTimes() {
  const now = Date.now();
  for (const node of document.querySelectorAll('.wait-time[data-since]')) {
    const since = Number(node.dataset.since);
    if (!Number.isNaN(since)) node.textContent = duration((now - since) / 1000);
  }
}
window.setInterval(tickWaitTimes, 1000);

export async function claim(id, fromConversation) {
  ui.queueError.textContent = '';
  ui.convError.textContent = '';
  try {
    const brief = await api('POST', `/conversations/${encodeURIComponent(id)}/claim`);
    upsertMine(brief);
    state.queue = state.queue.filter((c) => c.id !== id);
    renderQueue();
    updateTitle();
    announce(format(copy.claimed, { customer: customerLabel(brief) }));
    await openConversation(brief.id || id);
    ui.replyInput.focus();
  } catch (err) {
    // 409 already_claimed / not_waiting: the server's own Finnish message.
    if (fromConversation) ui.convError.textContent = err.message;
    else ui.queueError.textContent = err.message;
    loadQueue();
    if (state.open && state.open.brief.id === id) refreshOpenBrief();
  }
}
