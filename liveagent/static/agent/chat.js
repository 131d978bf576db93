import { el, str, vh } from '../lib/dom.js';
import { format, shortTime } from '../lib/format.js';
import { api } from './http.js';
import { renderMine } from './mine.js';
import { setNoteMode } from './reply.js';
import { answers, awaitsAnswer, bumpNewest, copy, customerDetail, customerLabel, handoverText, state, topicTitles, ui } from './state.js';
import { loadAgents, renderTransferOptions } from './transfer.js';
import { stopAgentTyping } from './typing.js';
import { showView } from './views.js';

// ---- the open conversation -----------------------------------------------------------------------------
export function holdsOpen() {
  const open = state.open;
  return Boolean(open && state.me && open.brief.state === 'assigned' && open.brief.agent_id === state.me.id);
}

export async function openConversation(id) {
  ui.convError.textContent = '';
  stopAgentTyping();
  let data;
  try {
    data = await api('GET', `/conversations/${encodeURIComponent(id)}`);
  } catch (err) {
    ui.convError.textContent = err.message;
    return;
  }
  const messages = Array.isArray(data.messages) ? data.messages : [];
  state.open = { brief: data.conversation || { id }, messages: [], ids: new Set() };
  ui.convPlaceholder.hidden = true;
  ui.convBody.hidden = false;
  ui.convTyping.hidden = true;
  ui.replyInput.value = '';
  setNoteMode(false);
  ui.convLog.setAttribute('aria-busy', 'true');
  ui.convLog.textContent = '';
  for (const message of messages) addMessage(message, false);
  markUnanswered();
  ui.convLog.removeAttribute('aria-busy');
  ui.convLog.scrollTop = ui.convLog.scrollHeight;
  renderBrief();
  renderMine();
  markReadSoon();
  if (holdsOpen()) loadAgents();
}

// ---- links to a conversation (a contact request's): #conversation=<id> opens it in the chats view ------------------
export const LINK_PREFIX = '#conversation=';

export function conversationLink(id) {
  return LINK_PREFIX + encodeURIComponent(id);
}

/** The conversation the address names, opened (after a link was followed, or when the console starts). */
export async function openFromAddress() {
  const hash = window.location.hash;
  if (!state.me || !hash.startsWith(LINK_PREFIX)) return;
  const id = decodeURIComponent(hash.slice(LINK_PREFIX.length));
  if (!id) return;
  showView('chats');
  await openConversation(id);
  ui.convTitle.focus();
}

/** A link's click: the same address again changes nothing the browser would tell, so open it here. */
export function openLinked(event) {
  if (event.currentTarget.getAttribute('href') === window.location.hash) openFromAddress();
}
window.addEventListener('hashchange', openFromAddress);

export function renderBrief() {
  const open = state.open;
  if (!open) return;
  const brief = open.brief;
  ui.convTitle.textContent = format(copy.conversationOf, { customer: customerLabel(brief) });
  const stateText = copy.states[brief.state] || str(brief.state);
  const rows = [
    [copy.customer, `${customerLabel(brief)} (${customerDetail(brief)})`],
    [
      copy.state,
      brief.state === 'assigned' && brief.agent_name
        ? format(copy.stateWithAgent, { state: stateText, agent: str(brief.agent_name) })
        : stateText,
    ],
    [copy.reason, str(brief.reason_text || brief.reason)],
    [copy.intents, topicTitles(brief).join(', ')],
    [copy.handover, handoverText(brief)],
  ];
  ui.convBrief.textContent = '';
  for (const [term, value] of rows) {
    if (!value) continue;
    ui.convBrief.appendChild(el('div', {}, [el('dt', { text: term }), el('dd', { text: value })]));
  }
  const holds = holdsOpen();
  ui.convClaim.hidden = brief.state !== 'waiting';
  for (const control of [
    ui.replyInput,
    ui.replySend,
    ui.noteToggle,
    ui.cannedSelect,
    ui.cannedInsert,
    ui.transferSelect,
    ui.transferButton,
    ui.returnButton,
    ui.closeButton,
  ]) {
    control.disabled = !holds;
  }
  ui.convReadonly.hidden = holds;
  renderTransferOptions();
}

export function senderLabel(message) {
  if (message.kind === 'note') return format(copy.senderNote, { agent: str(message.agent_name) || copy.agentLower });
  switch (message.sender) {
    case 'visitor':
      return copy.senderVisitor;
    case 'agent':
      return message.agent_name ? format(copy.senderAgentNamed, { agent: str(message.agent_name) }) : copy.senderAgent;
    case 'system':
      return copy.senderSystem;
    default:
      return copy.senderBot;
  }
}

export function messageClass(message) {
  if (message.kind === 'note') return 'note';
  return ['visitor', 'agent', 'system'].includes(message.sender) ? message.sender : 'bot';
}

export function renderMessage(message) {
  const kind = messageClass(message);
  const replies = Array.isArray(message.quick_replies) ? message.quick_replies.filter((q) => q && q.title) : [];
  return el('div', { className: `msg msg--${kind}`, dataset: { messageId: str(message.id) } }, [
    el('p', { className: 'msg-meta' }, [
      el('span', { className: 'msg-sender', text: senderLabel(message) }),
      message.created_at ? el('span', { className: 'msg-time' }, [' · ', shortTime(message.created_at)]) : null,
      vh(': '),
    ]),
    el('p', { className: 'msg-text', text: shownText(message) }),
    replies.length
      ? el('p', { className: 'msg-buttons' }, [
          el('strong', { text: `${copy.buttons}: ` }),
          replies.map((q) => str(q.title)).join(' · '),
        ])
      : null,
  ]);
}

/** A visitor's quick-reply payload ("/intent") is shown as the button title the visitor saw. */
export function shownText(message) {
  const text = str(message.text);
  if (message.sender !== 'visitor' || !text.startsWith('/') || !state.open) return text;
  for (let i = state.open.messages.length - 1; i >= 0; i -= 1) {
    const replies = state.open.messages[i].quick_replies;
    const hit = Array.isArray(replies) ? replies.find((q) => q && q.payload === text && q.title) : null;
    if (hit) return format(copy.quickReplyShown, { title: str(hit.title), payload: text });
  }
  return text;
}

export function addMessage(message, live) {
  const open = state.open;
  if (!open || !message || typeof message !== 'object') return false;
  bumpNewest(message.id);
  if (typeof message.id === 'number') {
    if (open.ids.has(message.id)) return false;
    open.ids.add(message.id);
  }
  const log = ui.convLog;
  const stick = !live || log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  // A message caught up after a resync can be older than ones shown: it goes in its place, by id.
  const last = open.messages[open.messages.length - 1];
  const older = typeof message.id === 'number' && last && typeof last.id === 'number' && last.id > message.id;
  const later = older ? open.messages.findIndex((m) => typeof m.id === 'number' && m.id > message.id) : -1;
  if (later >= 0) {
    const before = log.querySelector(`[data-message-id="${open.messages[later].id}"]`);
    open.messages.splice(later, 0, message);
    log.insertBefore(renderMessage(message), before);
  } else {
    open.messages.push(message);
    log.appendChild(renderMessage(message));
  }
  if (live) markUnanswered();
  if (stick) log.scrollTop = log.scrollHeight;
  if (live && message.sender === 'visitor') ui.convTyping.hidden = true;
  return true;
}

/** The visitor's message written after the last agent reply (null: every message is answered). */
export function unansweredMessage(messages) {
  let waiting = null;
  for (const message of messages) {
    if (awaitsAnswer(message)) waiting = message;
    else if (answers(message)) waiting = null;
  }
  return waiting;
}

/** Highlights the open chat's unanswered message (a visible "waiting for an answer" label, not colour alone). */
export function markUnanswered() {
  const open = state.open;
  const waiting = open ? unansweredMessage(open.messages) : null;
  for (const node of ui.convLog.querySelectorAll('.msg--unanswered')) {
    node.classList.remove('msg--unanswered');
    const flag = node.querySelector('.unanswered-flag');
    if (flag) flag.remove();
  }
  if (!waiting) return;
  const node = ui.convLog.querySelector(`[data-message-id="${CSS.escape(str(waiting.id))}"]`);
  if (!node) return;
  node.classList.add('msg--unanswered');
  node.querySelector('.msg-meta').prepend(el('span', { className: 'unanswered-flag' }, [copy.unansweredFlag, vh(': ')]));
}

// Read marks: the newest message of the open conversation, while the console is in view.
export let readTimer = null;
export function markReadSoon() {
  window.clearTimeout(readTimer);
  readTimer = window.setTimeout(markRead, 500);
}

export async function markRead() {
  const open = state.open;
  if (!open || document.visibilityState !== 'visible' || !document.hasFocus()) return;
  const newest = open.messages.reduce((max, m) => (typeof m.id === 'number' && m.id > max ? m.id : max), 0);
  if (!newest || open.readUpTo >= newest) return;
  const isMine = state.mine.find((c) => c.id === open.brief.id);
  if (!isMine) return; // read marks matter only for my own conversations
  try {
    await api('POST', `/conversations/${encodeURIComponent(open.brief.id)}/read`, { message_id: newest });
    open.readUpTo = newest;
    isMine.unread = 0;
    renderMine();
  } catch (err) {
    /* the unread badge simply stays */
  }
}
window.addEventListener('focus', markReadSoon);
document.addEventListener('visibilitychange', markReadSoon);
