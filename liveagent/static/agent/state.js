import { str } from '../lib/dom.js';
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
  viewInsights: $('view-insights'),
  chatsView: $('chats-view'),
  ticketsView: $('tickets-view'),
  insightsView: $('insights-view'),
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
  announcer: $('announcer'),
});

export const state = sessionState({
  queue: [], // Brief[], oldest first
  queueSeen: null, // Set of waiting conversation ids already alerted; null before the first snapshot
  mine: [], // Brief[] assigned to me
  agents: [],
  canned: [],
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

