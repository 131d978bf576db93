import { el, redrawList, str } from '../lib/dom.js';
import { dateTime, format } from '../lib/format.js';
import { conversationLink, openLinked } from './chat.js';
import { api } from './http.js';
import { announce, copy, state, ui } from './state.js';

// ---- tickets -----------------------------------------------------------------------------------------------
// One page at a time (newest first): a new contact request makes every console re-read the first
// page only, and re-reads arriving while one is under way are folded into a single one after it.
export const TICKET_PAGE = 50;
export let ticketsLoading = null;
export let ticketsReloadWanted = false;

export function ticketsPath(before) {
  const params = new URLSearchParams({ limit: String(TICKET_PAGE) });
  if (!ui.ticketsShowHandled.checked) params.set('unhandled', '1');
  if (before != null) params.set('before', String(before));
  return `/tickets?${params}`;
}

export async function loadTickets() {
  if (ticketsLoading) {
    ticketsReloadWanted = true;
    return ticketsLoading;
  }
  ticketsLoading = (async () => {
    try {
      const data = await api('GET', ticketsPath(null));
      state.tickets = Array.isArray(data.tickets) ? data.tickets : [];
      state.ticketsNext = typeof data.next_before === 'number' ? data.next_before : null;
      state.ticketsOpen = typeof data.unhandled === 'number' ? data.unhandled : 0;
      ui.ticketsError.textContent = '';
    } catch (err) {
      ui.ticketsError.textContent = err.message;
    }
    renderTickets();
  })();
  try {
    await ticketsLoading;
  } finally {
    ticketsLoading = null;
  }
  if (ticketsReloadWanted) {
    ticketsReloadWanted = false;
    await loadTickets();
  }
}

export async function loadMoreTickets() {
  if (state.ticketsNext == null) return;
  try {
    const data = await api('GET', ticketsPath(state.ticketsNext));
    const known = new Set(state.tickets.map((t) => t.id));
    const more = Array.isArray(data.tickets) ? data.tickets.filter((t) => !known.has(t.id)) : [];
    state.tickets = state.tickets.concat(more);
    state.ticketsNext = typeof data.next_before === 'number' ? data.next_before : null;
    ui.ticketsError.textContent = '';
  } catch (err) {
    ui.ticketsError.textContent = err.message;
  }
  renderTickets();
}

export function renderTickets() {
  ui.ticketsCount.textContent = state.ticketsOpen ? `(${state.ticketsOpen})` : '';
  const shown = ui.ticketsShowHandled.checked ? state.tickets : state.tickets.filter((t) => !t.handled);
  ui.ticketsMore.hidden = state.ticketsNext == null;
  redrawList(ui.ticketsList, ui.ticketsEmpty, shown, (ticket) => {
    const headingId = `ticket-${str(ticket.id)}`;
    const rows = [
      [copy.ticketContact, str(ticket.contact)],
      [copy.ticketCreated, dateTime(ticket.created_at)],
      [copy.ticketCustomer, ticket.customer_id ? format(copy.ticketCustomerVerified, { id: str(ticket.customer_id) }) : ''],
      [copy.state, ticket.handled ? copy.ticketHandled : copy.ticketUnhandled],
    ];
    return el('li', { className: `card ticket${ticket.handled ? ' ticket--handled' : ''}` }, [
      el('h3', { id: headingId, className: 'card-title', text: str(ticket.name) || copy.ticketNoName }),
      el(
        'dl',
        { className: 'brief' },
        rows.filter(([, v]) => v).map(([t, v]) => el('div', {}, [el('dt', { text: t }), el('dd', { text: v })]))
      ),
      el('p', { className: 'msg-text quote', text: str(ticket.message) }),
      el('div', { className: 'card-actions' }, [
        ticket.conversation_id
          ? el('a', {
              href: conversationLink(ticket.conversation_id),
              className: 'ticket-link',
              'aria-describedby': headingId,
              dataset: { focusKey: `ticket-chat:${str(ticket.id)}` },
              text: copy.openConversation,
              onclick: openLinked,
            })
          : null,
        ticket.handled
          ? null
          : el('button', {
              type: 'button',
              'aria-describedby': headingId,
              dataset: { focusKey: `ticket:${str(ticket.id)}` },
              text: copy.markHandled,
              onclick: () => ticketHandled(ticket),
            }),
      ]),
    ]);
  });
}

export async function ticketHandled(ticket) {
  try {
    await api('POST', `/tickets/${encodeURIComponent(ticket.id)}/handled`);
    if (!ticket.handled) state.ticketsOpen = Math.max(0, state.ticketsOpen - 1);
    ticket.handled = true;
    renderTickets();
    announce(copy.markedHandled);
    ui.ticketsRefresh.focus();
  } catch (err) {
    ui.ticketsError.textContent = err.message;
  }
}

ui.ticketsRefresh.addEventListener('click', loadTickets);
ui.ticketsShowHandled.addEventListener('change', loadTickets);
ui.ticketsMore.addEventListener('click', loadMoreTickets);
