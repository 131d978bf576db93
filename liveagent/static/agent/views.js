import { showFloor } from './floor.js';
import { showInsights } from './insights.js';
import { state, ui } from './state.js';
import { loadTickets } from './tickets.js';

// ---- views -----------------------------------------------------------------------------------------------
export function showView(view) {
  state.view = view;
  ui.chatsView.hidden = view !== 'chats';
  ui.ticketsView.hidden = view !== 'tickets';
  ui.cannedView.hidden = view !== 'canned';
  ui.insightsView.hidden = view !== 'insights';
  ui.floorView.hidden = view !== 'floor';
  ui.viewChats.setAttribute('aria-pressed', String(view === 'chats'));
  ui.viewTickets.setAttribute('aria-pressed', String(view === 'tickets'));
  ui.viewCanned.setAttribute('aria-pressed', String(view === 'canned'));
  ui.viewInsights.setAttribute('aria-pressed', String(view === 'insights'));
  ui.viewFloor.setAttribute('aria-pressed', String(view === 'floor'));
  if (view === 'tickets') loadTickets();
  if (view === 'insights') showInsights();
  if (view === 'floor') showFloor();
}
ui.viewChats.addEventListener('click', () => showView('chats'));
ui.viewTickets.addEventListener('click', () => showView('tickets'));
ui.viewCanned.addEventListener('click', () => showView('canned'));
ui.viewInsights.addEventListener('click', () => showView('insights'));
ui.viewFloor.addEventListener('click', () => showView('floor'));
