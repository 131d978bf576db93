/*
 * The supervisors' view of the floor (docs/agent-api.md, "The floor"): who is online, away or offline,
 * each agent's load against their capacity (set here, capacity.js), the chats agents hold with how long
 * each has gone unanswered (over the response-time limit: highlighted, with by how much), and the queue
 * in its order with places, reasons, priorities and waits. A supervisor moves a chat (held or waiting)
 * to another agent (POST /conversations/{id}/reassign).
 *
 * GET /api/agent/floor when the view opens; after that the websocket's `floor` event brings the whole
 * floor whenever it changes (setFloor), so nothing polls. Times tick here, from our own clock.
 * Tables with captions and header cells; every control has a label; all text comes from the copy file.
 */
import { el, focusKeyInside, restoreFocus, str } from '../lib/dom.js';
import { duration, format } from '../lib/format.js';
import { capacityCell } from './capacity.js';
import { api } from './http.js';
import { $, announce, copy, customerLabel, state } from './state.js';

let built = null; // the view's parts, made the first time it is shown
let floor = null; // the newest floor: {assignment, response_limit_seconds, agents, chats, queue, _at}
let lastError = ''; // the last failed action's message: stays until the next action

function clocked(data) {
  return Object.assign({}, data, { _at: Date.now() }); // the seconds in it count from this moment
}

/** The floor as the service sent it (GET /floor or the `floor` event); drawn when the view is open. */
export function setFloor(data) {
  if (!data || typeof data !== 'object' || !Array.isArray(data.agents)) return;
  floor = clocked(data);
  if (built && state.view === 'floor') render();
}

export async function loadFloor() {
  try {
    setFloor(await api('GET', '/floor'));
    built.error.textContent = lastError;
  } catch (err) {
    built.error.textContent = err.message;
  }
}

/** The view was opened (views.js): made the first time, then read anew. */
export function showFloor() {
  if (!built) build();
  if (floor) render();
  loadFloor();
}

/** After a reconnect: the floor may have changed while the socket was down. */
export function refreshFloor() {
  if (built && state.view === 'floor') loadFloor();
}

// ---- the parts ---------------------------------------------------------------------------------------
function tableRegion(id, headers) {
  const caption = el('caption', { id: `${id}-caption` });
  const body = el('tbody', { id: `${id}-rows` });
  const region = el('div', { className: 'data-table floor-table', role: 'region', tabindex: '0', 'aria-labelledby': `${id}-caption` }, [
    el('table', { id }, [
      caption,
      el('thead', {}, [el('tr', {}, headers.map((h) => el('th', { scope: 'col', text: h })))]),
      body,
    ]),
  ]);
  const empty = el('p', { className: 'empty', id: `${id}-empty` });
  return { region, caption, body, empty };
}

function build() {
  const view = $('floor-view');
  const title = el('h2', { id: 'floor-title', tabindex: '-1', text: copy.floorTitle });
  const mode = el('p', { id: 'floor-mode', className: 'small' });
  const error = el('p', { id: 'floor-error', className: 'error', role: 'alert' });
  const agents = tableRegion('floor-agents', copy.floorAgentsColumns);
  const chats = tableRegion('floor-chats', copy.floorChatsColumns);
  const queue = tableRegion('floor-queue', copy.floorQueueColumns);
  view.append(title, mode, error,
    el('section', { className: 'floor-section', 'aria-labelledby': 'floor-agents-caption' }, [agents.region, agents.empty]),
    el('section', { className: 'floor-section', 'aria-labelledby': 'floor-chats-caption' }, [chats.region, chats.empty]),
    el('section', { className: 'floor-section', 'aria-labelledby': 'floor-queue-caption' }, [queue.region, queue.empty]));
  built = { view, title, mode, error, agents, chats, queue };
}

// ---- drawing -----------------------------------------------------------------------------------------------
function agentName(agent) {
  return str(agent && (agent.display_name || agent.username));
}

function loadText(agent) {
  const values = { load: agent.load, capacity: agent.capacity };
  return format(agent.load >= agent.capacity ? copy.floorLoadFull : copy.floorLoad, values);
}

function redraw(part, rows, emptyText, caption) {
  const key = focusKeyInside(part.body);
  part.caption.textContent = caption;
  part.body.textContent = '';
  for (const row of rows) part.body.appendChild(row);
  part.empty.textContent = emptyText;
  part.empty.hidden = rows.length > 0;
  part.region.hidden = rows.length === 0;
  restoreFocus(part.body, key);
}

function render() {
  const limit = floor.response_limit_seconds;
  built.mode.textContent = [
    floor.assignment === 'auto' ? copy.floorAuto : copy.floorManual,
    limit ? format(copy.floorLimit, { limit: duration(limit) }) : copy.floorNoLimit,
  ].join(' ');
  redraw(built.agents, floor.agents.map(agentRow), copy.floorAgentsEmpty, copy.floorAgentsTitle);
  redraw(built.chats, floor.chats.map(chatRow), copy.floorChatsEmpty, format(copy.floorChatsTitle, { n: floor.chats.length }));
  redraw(built.queue, floor.queue.map(queueRow), copy.floorQueueEmpty, format(copy.floorQueueTitle, { n: floor.queue.length }));
  tick();
}

function agentRow(agent) {
  return el('tr', { dataset: { agentId: str(agent.id) } }, [
    el('th', { scope: 'row', text: agentName(agent) }),
    el('td', { text: copy.presences[agent.presence] || str(agent.presence) }),
    el('td', { className: agent.load >= agent.capacity ? 'floor-full' : null, text: loadText(agent) }),
    capacityCell(agent, agentName(agent)),
  ]);
}

/** Seconds since the floor was read, added to a time the floor gave. */
function since(seconds) {
  return seconds + Math.floor((Date.now() - floor._at) / 1000);
}

function chatRow(chat) {
  const name = customerLabel(chat);
  const holder = floor.agents.find((a) => a.id === chat.agent_id);
  return el('tr', { className: 'floor-chat', dataset: { conversationId: str(chat.id) } }, [
    el('th', { scope: 'row' }, [name, chat.reason_text ? el('span', { className: 'small floor-reason', text: str(chat.reason_text) }) : null]),
    el('td', { text: holder ? agentName(holder) : str(chat.agent_name) }),
    el('td', {
      className: 'floor-response',
      dataset: { assigned: str(chat.assigned_seconds), answered: chat.answered ? 'true' : 'false' },
      text: chat.answered ? copy.floorAnswered : '',
    }),
    el('td', {}, [moveControl(chat, name)]),
  ]);
}

function queueRow(brief) {
  const name = customerLabel(brief);
  return el('tr', { dataset: { conversationId: str(brief.id) } }, [
    el('td', { text: str(brief.position) }),
    el('th', { scope: 'row', text: name }),
    el('td', { text: str(brief.reason_text || brief.reason) }),
    el('td', { text: str(brief.priority) }),
    el('td', { className: 'floor-wait', dataset: { waiting: str(brief.waiting_seconds) } }),
    el('td', {}, [moveControl(brief, name)]),
  ]);
}

/** The agents a chat may go to: online, not its holder; full ones are listed but not offered. */
function moveControl(chat, customer) {
  const id = `floor-move-${chat.id}`;
  const others = floor.agents.filter((a) => a.presence === 'online' && a.id !== chat.agent_id);
  const select = el('select', { id, dataset: { focusKey: `move-select:${chat.id}` } }, [
    el('option', { value: '', text: others.some((a) => a.load < a.capacity) ? copy.floorMoveChoose : copy.floorMoveNone }),
    ...others.map((agent) => el('option', {
      value: str(agent.id),
      disabled: agent.load >= agent.capacity,
      text: format(agent.load >= agent.capacity ? copy.floorMoveOptionFull : copy.floorMoveOption,
        { agent: agentName(agent), load: agent.load, capacity: agent.capacity }),
    })),
  ]);
  const previous = moveChoices.get(chat.id);
  if (previous && [...select.options].some((o) => o.value === previous && !o.disabled)) select.value = previous;
  select.addEventListener('change', () => moveChoices.set(chat.id, select.value));
  return el('div', { className: 'floor-move' }, [
    el('label', { for: id, className: 'vh', text: format(copy.floorMoveLabel, { customer }) }),
    select,
    el('button', {
      type: 'button',
      className: 'button-secondary',
      dataset: { focusKey: `move:${chat.id}` },
      'aria-label': format(copy.floorMoveButton, { customer }),
      text: copy.floorMove,
      onclick: () => move(chat, select),
    }),
  ]);
}
const moveChoices = new Map(); // conversation id -> the agent chosen in its list (kept across redraws)

async function move(chat, select) {
  const agentId = Number(select.value);
  if (!select.value || Number.isNaN(agentId)) {
    lastError = copy.floorMoveMissing;
    built.error.textContent = lastError;
    select.focus();
    return;
  }
  const agent = floor.agents.find((a) => a.id === agentId);
  lastError = '';
  built.error.textContent = '';
  try {
    await api('POST', `/conversations/${encodeURIComponent(chat.id)}/reassign`, { agent_id: agentId });
    moveChoices.delete(chat.id);
    announce(format(copy.floorMoved, { customer: customerLabel(chat), agent: agentName(agent) }));
  } catch (err) {
    lastError = err.message; // the service's Finnish reason (full, not online, moved on meanwhile)
    built.error.textContent = lastError;
  }
  loadFloor(); // the floor event follows as well; this shows the outcome at once
}

// ---- times -------------------------------------------------------------------------------------------------
/** Unanswered times and waits move every second; a chat over the response-time limit is highlighted. */
function tick() {
  if (!built || !floor || state.view !== 'floor') return;
  const limit = floor.response_limit_seconds;
  for (const cell of built.chats.body.querySelectorAll('.floor-response')) {
    const row = cell.closest('tr');
    if (cell.dataset.answered === 'true' || cell.dataset.assigned === '') {
      row.classList.remove('floor-over');
      continue;
    }
    const held = since(Number(cell.dataset.assigned));
    const over = limit ? held - limit : 0;
    row.classList.toggle('floor-over', over > 0);
    cell.textContent = over > 0
      ? format(copy.floorOverLimit, { time: duration(held), over: duration(over) })
      : format(copy.floorUnanswered, { time: duration(held) });
  }
  for (const cell of built.queue.body.querySelectorAll('.floor-wait')) {
    if (cell.dataset.waiting !== '') cell.textContent = duration(since(Number(cell.dataset.waiting)));
  }
}
window.setInterval(tick, 1000);
