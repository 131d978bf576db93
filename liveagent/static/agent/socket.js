import { str } from '../lib/dom.js';
import { format } from '../lib/format.js';
import { AGENT_API } from '../lib/session.js';
import { notify } from './alerts.js';
import { loadCanned, setCanned } from './canned.js';
import { addMessage, markReadSoon, renderBrief } from './chat.js';
import { refreshFloor, setFloor } from './floor.js';
import { api } from './http.js';
import { alertArrived, renderLoad } from './load.js';
import { loadMine, loadMineSoon, renderMine, upsertMine } from './mine.js';
import { loadQueue, renderQueue, setQueue, updateTitle } from './queue.js';
import { loggedOut } from './session.js';
import { PING_INTERVAL_MS, POLL_WHILE_OFFLINE_MS, RECONNECT_MAX_MS, VISITOR_TYPING_TIMEOUT_MS, announce, bumpNewest, copy, customerLabel, state, trackUnanswered, ui } from './state.js';
import { loadTickets } from './tickets.js';
import { refreshOpenBrief, renderTransferOptions } from './transfer.js';

// ---- websocket ------------------------------------------------------------------------------------------------
export let socket = null;
export let socketWanted = false;
export let everConnected = false;
export let reconnectAttempt = 0;
export let reconnectTimer = null;
export let lastPing = 0;
export let visitorTypingTimer = null;

export function send(event) {
  if (socket && socket.readyState === WebSocket.OPEN) {
    socket.send(JSON.stringify(event));
    return true;
  }
  return false;
}

export function startSocket() {
  socketWanted = true;
  connectSocket();
}

export function stopSocket() {
  socketWanted = false;
  everConnected = false;
  window.clearTimeout(reconnectTimer);
  if (socket) {
    const old = socket;
    socket = null;
    old.close(1000, 'logout');
  }
  ui.connection.textContent = '';
}

// After a reconnect, or when the service says events may have been missed (resync): fetch again. A resync
// names when the service lost the other replicas' events (since): the messages written from then on come
// again, also ones older than the newest shown; addMessage keeps each id once.
export function catchUp(since) {
  if (since) send({ type: 'resume', after_id: state.newestId, since });
  else if (state.newestId > 0) send({ type: 'resume', after_id: state.newestId });
  loadQueue();
  loadMine();
  loadTickets();
  loadCanned();
  refreshOpenBrief();
  refreshFloor();
}

export function connectSocket() {
  if (!socketWanted || socket) return;
  const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  const ws = new WebSocket(`${scheme}//${window.location.host}${AGENT_API}/ws`);
  socket = ws;
  ws.addEventListener('open', () => {
    if (socket !== ws) return;
    const reconnect = everConnected;
    everConnected = true;
    reconnectAttempt = 0;
    ui.connection.textContent = reconnect ? copy.reconnected : '';
    if (reconnect) {
      window.setTimeout(() => {
        if (ui.connection.textContent === copy.reconnected) ui.connection.textContent = '';
      }, 5000);
    }
    lastPing = 0;
    activity();
    // Also on the first open: a chat assigned (or a queue change) between the page's first loads and this
    // socket's start was told to no socket of mine, so the lists are loaded again now.
    catchUp();
  });
  ws.addEventListener('message', (event) => {
    if (socket !== ws) return;
    let data;
    try {
      data = JSON.parse(event.data);
    } catch (err) {
      return;
    }
    if (data && typeof data === 'object') handleEvent(data);
  });
  ws.addEventListener('close', (event) => {
    if (socket !== ws) return;
    socket = null;
    if (!socketWanted) return;
    if (event.code === 4401) {
      checkSession();
      return;
    }
    ui.connection.textContent =
      event.code === 4403 ? copy.socketForbidden : copy.disconnected;
    scheduleReconnect();
  });
}

export function scheduleReconnect() {
  window.clearTimeout(reconnectTimer);
  const base = Math.min(RECONNECT_MAX_MS, 1000 * 2 ** Math.min(reconnectAttempt, 5));
  reconnectAttempt += 1;
  const delay = base / 2 + Math.random() * (base / 2); // jitter: not every console at once
  reconnectTimer = window.setTimeout(connectSocket, delay);
}

export async function checkSession() {
  try {
    const data = await api('GET', '/me');
    state.csrf = data.csrf_token;
    scheduleReconnect();
  } catch (err) {
    if (err.status === 401) loggedOut(copy.sessionEnded);
    else scheduleReconnect();
  }
}

export function handleEvent(event) {
  switch (event.type) {
    case 'queue':
      setQueue(Array.isArray(event.conversations) ? event.conversations : []);
      break;
    case 'message':
      onMessageEvent(event.conversation_id, event.message, event.resumed === true);
      break;
    case 'resync':
      catchUp(typeof event.since === 'string' ? event.since : undefined);
      break;
    case 'state':
      onStateEvent(event.conversation);
      break;
    case 'typing':
      if (state.open && state.open.brief.id === event.conversation_id) {
        ui.convTyping.hidden = !event.on;
        window.clearTimeout(visitorTypingTimer);
        if (event.on) {
          visitorTypingTimer = window.setTimeout(() => {
            ui.convTyping.hidden = true;
          }, VISITOR_TYPING_TIMEOUT_MS);
        }
      }
      break;
    case 'presence':
      onPresenceEvent(event.agent);
      break;
    case 'tickets':
      loadTickets(); // extension: a new contact request arrived
      break;
    case 'notice':
      onNoticeEvent(event.text);
      break;
    case 'floor':
      setFloor(event.floor); // supervisors: the whole floor, whenever it changed
      break;
    case 'canned':
      if (Array.isArray(event.canned)) setCanned(event.canned); // a supervisor changed the canned replies
      break;
    default:
      break;
  }
}

export function onMessageEvent(conversationId, message, resumed = false) {
  if (!message || typeof message !== 'object') return;
  // sent again by a resume (one missed, or one shown already): told as what it is, not as news
  const caughtUp = resumed && typeof message.id === 'number' && message.id <= state.newestId;
  bumpNewest(message.id);
  const mine = state.mine.find((c) => c.id === conversationId);
  if (mine && caughtUp) loadMineSoon(); // the list's last message and open question come from the server
  else if (mine) {
    if (message.kind !== 'note' && message.text) mine.last_message = str(message.text);
    trackUnanswered(mine, message);
  }
  if (state.open && state.open.brief.id === conversationId) {
    if (addMessage(message, true)) {
      if (message.sender === 'visitor' && document.visibilityState === 'visible') markReadSoon();
      if (message.sender === 'visitor' && (!document.hasFocus() || document.visibilityState !== 'visible')) {
        loadMineSoon();
      }
    }
    renderMine();
    return;
  }
  if (message.sender === 'visitor' && !caughtUp) {
    announce(format(copy.newMessage, { customer: mine ? customerLabel(mine) : copy.customerLower }));
    loadMineSoon(); // unread counts come from the server
  } else {
    renderMine();
  }
}

export function onStateEvent(brief) {
  if (!brief || !brief.id) return;
  const wasMine = state.mine.some((c) => c.id === brief.id);
  upsertMine(brief);
  const isMine = brief.state === 'assigned' && state.me && brief.agent_id === state.me.id;
  if (isMine && !wasMine) alertArrived(brief); // assigned, transferred or moved to me: no claim of mine
  if (state.open && state.open.brief.id === brief.id) {
    state.open.brief = Object.assign({}, state.open.brief, brief);
    renderBrief();
  }
  if (brief.state !== 'waiting' && state.queue.some((c) => c.id === brief.id)) {
    state.queue = state.queue.filter((c) => c.id !== brief.id);
    renderQueue();
    updateTitle();
  }
}

// The service did something to my work (a chat moved on after its response-time limit, I was set
// away): the Finnish text is the server's (liveagent/copy_fi.yml `notices`), shown until the next one.
export function onNoticeEvent(text) {
  if (typeof text !== 'string' || !text) return;
  ui.connection.textContent = text;
  announce(text);
  notify(copy.noticeTitle, text);
  loadMine();
}

export function onPresenceEvent(agent) {
  if (!agent || agent.id === undefined) return;
  const index = state.agents.findIndex((a) => a.id === agent.id);
  if (index >= 0) state.agents[index] = Object.assign({}, state.agents[index], agent);
  else state.agents.push(agent);
  renderTransferOptions();
  if (state.me && agent.id === state.me.id && typeof agent.capacity === 'number' && agent.capacity !== state.me.capacity) {
    state.me = Object.assign({}, state.me, { capacity: agent.capacity }); // a supervisor set it
    renderLoad();
  }
  if (state.me && agent.id === state.me.id && agent.presence && agent.presence !== state.me.presence) {
    state.me = Object.assign({}, state.me, { presence: agent.presence });
    ui.presence.value = agent.presence;
    announce(format(copy.presenceChanged, { presence: copy.presences[agent.presence] || str(agent.presence) }));
    if (agent.presence === 'offline') loadMine();
  }
}

// While the websocket is down, poll so the queue and my chats stay roughly current.
window.setInterval(() => {
  if (!state.me || !socketWanted || (socket && socket.readyState === WebSocket.OPEN)) return;
  loadQueue();
  loadMine();
  refreshOpenBrief();
}, POLL_WHILE_OFFLINE_MS);

// Activity pings (reset auto-away), at most one per 30 s.
export function activity() {
  const now = Date.now();
  if (now - lastPing < PING_INTERVAL_MS) return;
  if (send({ type: 'ping' })) lastPing = now;
}
for (const type of ['keydown', 'pointerdown', 'wheel', 'touchstart']) {
  document.addEventListener(type, activity, { passive: true });
}
window.addEventListener('focus', activity);
