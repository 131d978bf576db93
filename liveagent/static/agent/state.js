import { str } from '../lib/dom.js';
import { clockTime, format } from '../lib/format.js';
import { sessionElements, sessionState } from '../lib/session.js';

export const BASE_TITLE = document.title;
export const PING_INTERVAL_MS = 30000;
export const TYPING_IDLE_MS = 3000;
export const TYPING_REFRESH_MS = 5000;
export const VISITOR_TYPING_TIMEOUT_MS = 10000;
export const RECONNECT_MAX_MS = 30000;
export const POLL_WHILE_OFFLINE_MS = 15000;

export const PRESENCES = ['online', 'away', 'offline'];

// The console's Finnish copy (copy/agent.fi.json): read once by main.js before the page starts.
export const copy = {};

export const $ = (id) => document.getElementById(id);
export const ui = Object.assign(sessionElements(), {
  presence: $('presence'),
  sound: $('sound-toggle'),
  notifyButton: $('notify-button'),
  notifyState: $('notify-state'),
  connection: $('connection-state'),
  consoleView: $('console-view'),
  deniedEditor: $('denied-editor'),
  agentOnly: document.querySelectorAll('.agent-only'),
  viewChats: $('view-chats'),
  viewTickets: $('view-tickets'),
  viewCanned: $('view-canned'),
  viewInsights: $('view-insights'),
  viewFloor: $('view-floor'),
  chatsView: $('chats-view'),
  ticketsView: $('tickets-view'),
  cannedView: $('canned-view'),
  insightsView: $('insights-view'),
  floorView: $('floor-view'),
  queueCount: $('queue-count'),
  queueError: $('queue-error'),
  queueEmpty: $('queue-empty'),
  queueList: $('queue-list'),
  mineEmpty: $('mine-empty'),
  mineList: $('mine-list'),
  convTitle: $('conversation-title'),
  convPlaceholder: $('conversation-placeholder'),
  convBody: $('conversation-body'),
  convBrief: $('conversation-brief'),
  convClaim: $('conversation-claim'),
  convClaimButton: $('conversation-claim-button'),
  convLog: $('conversation-log'),
  convTyping: $('conversation-typing'),
  convError: $('conversation-error'),
  convReadonly: $('conversation-readonly'),
  replyForm: $('reply-form'),
  noteToggle: $('note-toggle'),
  cannedSelect: $('canned-select'),
  cannedInsert: $('canned-insert'),
  replyLabel: $('reply-label'),
  replyInput: $('reply-input'),
  replySend: $('reply-send'),
  suggestionsBox: $('canned-suggestions-box'),
  suggestions: $('canned-suggestions'),
  suggestionsEmpty: $('canned-suggestions-empty'),
  transferSelect: $('transfer-select'),
  transferButton: $('transfer-button'),
  returnButton: $('return-button'),
  closeButton: $('close-button'),
  ticketsCount: $('tickets-count'),
  ticketsRefresh: $('tickets-refresh'),
  ticketsShowHandled: $('tickets-show-handled'),
  ticketsError: $('tickets-error'),
  ticketsEmpty: $('tickets-empty'),
  ticketsList: $('tickets-list'),
  ticketsMore: $('tickets-more'),
  cannedAdminTitle: $('canned-admin-title'),
  cannedForm: $('canned-form'),
  cannedFormTitle: $('canned-form-title'),
  cannedTitleInput: $('canned-title-input'),
  cannedTextInput: $('canned-text-input'),
  cannedFormError: $('canned-form-error'),
  cannedSave: $('canned-save'),
  cannedCancel: $('canned-cancel'),
  cannedError: $('canned-error'),
  cannedEmpty: $('canned-empty'),
  cannedList: $('canned-list'),
  announcer: $('announcer'),
});

export const state = sessionState({
  queue: [], // Brief[], oldest first
  queueSeen: null, // Set of waiting conversation ids already alerted; null before the first snapshot
  mine: [], // Brief[] assigned to me
  agents: [],
  canned: [], // {id, title, text}, in Finnish order of title
  cannedEditing: null, // id of the canned reply in the supervisor's form (null: a new one)
  tickets: [],
  ticketsNext: null, // `before` of the next page of tickets (null: no more)
  ticketsOpen: 0, // unhandled tickets in all, from the service
  open: null, // {brief, messages: Message[], ids: Set}
  noteMode: false,
  newestId: 0, // newest message id seen anywhere: the resume point after a reconnect
  view: 'chats',
});

// ---- helpers --------------------------------------------------------------------------------
export function announce(text) {
  // Clear first so the same sentence twice is announced twice.
  ui.announcer.textContent = '';
  window.setTimeout(() => {
    ui.announcer.textContent = text;
  }, 50);
}

export function customerLabel(brief) {
  const customer = brief && brief.customer;
  if (customer && customer.verified && customer.customer_id) return str(customer.customer_id);
  return copy.customerUnknown;
}

export function customerDetail(brief) {
  const customer = brief && brief.customer;
  return customer && customer.verified && customer.customer_id ? copy.customerVerified : copy.customerUnverified;
}

export function bumpNewest(id) {
  if (typeof id === 'number' && id > state.newestId) state.newestId = id;
}


/** What the visitor asked about, as the editors title the topics ("Liitteiden lähettäminen"), not as ids. */
export function topicTitles(brief) {
  const topics = brief && Array.isArray(brief.topics) ? brief.topics : [];
  if (topics.length) return topics.map((topic) => str(topic && (topic.title || topic.label))).filter(Boolean);
  return brief && Array.isArray(brief.intents) ? brief.intents.map(str).filter(Boolean) : [];
}

/** Who handed the chat over (and to whom), as a line of its card; '' when nobody did. */
export function handoverText(brief) {
  const handover = brief && brief.handover;
  if (!handover) return '';
  const names = {
    from: str(handover.from_agent_name) || copy.agentLower,
    to: str(handover.to_agent_name) || copy.agentLower,
    time: clockTime(handover.at),
  };
  if (handover.kind === 'transfer') return format(copy.handoverTransfer, names);
  if (handover.kind === 'requeue') return format(copy.handoverRequeue, names);
  return '';
}

/** A visitor's own words (not a quick reply's "/payload") wait for an answer until an agent replies. */
export function awaitsAnswer(message) {
  return Boolean(message && message.sender === 'visitor' && message.kind !== 'note' && !str(message.text).startsWith('/'));
}

export function answers(message) {
  return Boolean(message && message.sender === 'agent' && message.kind === 'text');
}

/** Keeps a brief's unanswered message current as messages arrive. */
export function trackUnanswered(brief, message) {
  if (awaitsAnswer(message)) brief.unanswered = message;
  else if (answers(message)) brief.unanswered = null;
}
