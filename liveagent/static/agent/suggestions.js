/*
 * Suggested answers (docs/agent-api.md, "Suggested answers"): for the open chat the agent holds, the bot's
 * best FAQ answers to the visitor's newest question (GET /conversations/{id}/suggestions), each with the
 * topic's title and the bot's confidence. "Lisää ehdotus vastaukseen" puts the answer into the reply box to edit;
 * nothing is sent. The reply then carries the suggestion's id (reply.js asks `suggestionFor`), so the service
 * records it as used, edited or not; emptying the box forgets it.
 * The panel refreshes when a visitor message is added to the log and when the chat becomes the agent's
 * (it watches the log and the reply box, so chat.js needs no hook). Rasa down: the service's Finnish line.
 */
import { el, str } from '../lib/dom.js';
import { format } from '../lib/format.js';
import { holdsOpen } from './chat.js';
import { api } from './http.js';
import { insertText } from './shortcuts.js';
import { $, announce, copy, state, ui } from './state.js';

const panel = $('suggestions-panel');
const list = $('suggestions-list');
const status = $('suggestions-status');
const REFRESH_DELAY_MS = 300;

let timer = null;
let shownFor = null; // "<conversation id>:<message id>" drawn now
let pending = null; // {conversationId, id, title}: the suggestion in the reply box

/** The body fields of a reply (not a note) sent now: the suggestion it came from, if any. */
export function suggestionFor(conversationId) {
  if (!pending || pending.conversationId !== conversationId || state.noteMode) return {};
  return { suggestion_id: pending.id };
}

/** A reply was sent: its suggestion is used up. */
export function suggestionSent() {
  pending = null;
}

function percent(confidence) {
  return Math.round(Math.max(0, Math.min(1, Number(confidence) || 0)) * 100);
}

function insert(item, conversationId) {
  if (!holdsOpen()) return;
  const input = ui.replyInput;
  insertText(str(item.text), input.selectionStart ?? input.value.length, input.selectionEnd ?? input.value.length);
  pending = { conversationId, id: item.id, title: str(item.title) };
  announce(format(copy.suggestionInserted, { title: str(item.title) }));
}

function draw(conversationId, data) {
  const items = Array.isArray(data.suggestions) ? data.suggestions : [];
  list.textContent = '';
  status.textContent = data.message_id === null ? copy.suggestionsNoQuestion : items.length ? '' : copy.suggestionsNone;
  items.forEach((item, index) => {
    const titleId = `suggestion-${index}-title`;
    list.appendChild(
      el('li', { className: 'card suggested-answer' }, [
        el('p', { className: 'card-title', id: titleId }, [
          el('strong', { text: str(item.title) }),
          ' ',
          el('span', { className: 'small', text: format(copy.suggestionConfidence, { percent: percent(item.confidence) }) }),
        ]),
        el('p', { className: 'suggested-text', text: str(item.text) }),
        el('button', {
          type: 'button',
          className: 'button-secondary suggestion-insert',
          'aria-describedby': titleId,
          text: copy.suggestionInsert,
          disabled: !holdsOpen(),
          onclick: () => insert(item, conversationId),
        }),
      ])
    );
  });
}

export async function refreshSuggestions() {
  const open = state.open;
  if (!open || !holdsOpen()) {
    panel.hidden = true;
    shownFor = null;
    return;
  }
  const conversationId = open.brief.id;
  panel.hidden = false;
  let data;
  try {
    data = await api('GET', `/conversations/${encodeURIComponent(conversationId)}/suggestions`);
  } catch (err) {
    if (state.open !== open) return;
    list.textContent = '';
    status.textContent = err.message; // Rasa down: the service says so in Finnish; the chat works on
    shownFor = null;
    return;
  }
  if (state.open !== open) return;
  const key = `${conversationId}:${data.message_id}`;
  if (key === shownFor) return; // the same question: keep the panel (and the keyboard focus in it)
  shownFor = key;
  draw(conversationId, data);
}

function refreshSoon() {
  window.clearTimeout(timer);
  timer = window.setTimeout(refreshSuggestions, REFRESH_DELAY_MS);
}

// A new visitor message in the log (or another chat opened: the log is drawn again), the chat became
// mine or stopped being mine (the reply box is enabled or disabled): look again.
new MutationObserver((changes) => {
  if (changes.some((change) => [...change.addedNodes].some((node) => node.classList && node.classList.contains('msg--visitor')))) refreshSoon();
  else if (changes.some((change) => change.removedNodes.length)) refreshSoon();
}).observe(ui.convLog, { childList: true });
new MutationObserver(refreshSoon).observe(ui.replyInput, { attributes: true, attributeFilter: ['disabled'] });
ui.replyInput.addEventListener('input', () => {
  if (!ui.replyInput.value.trim()) pending = null; // the box emptied: the suggestion is not used
});
