import { agentLabel, bindLoginForm, bindLogoutButton } from '../lib/session.js';
import { unlockAudio, updateNotifyUi } from './alerts.js';
import { api } from './http.js';
import { loadMine } from './mine.js';
import { loadQueue } from './queue.js';
import { loadCanned } from './canned.js';
import { openFromAddress } from './chat.js';
import { startSocket, stopSocket } from './socket.js';
import { $, BASE_TITLE, PRESENCES, copy, state, ui } from './state.js';
import { loadTickets } from './tickets.js';
import { loadAgents } from './transfer.js';
import { showView } from './views.js';

// ---- login / logout ---------------------------------------------------------------------------------
export function showLogin(message) {
  ui.consoleView.hidden = true;
  ui.deniedView.hidden = true;
  ui.sessionBar.hidden = true;
  ui.loginView.hidden = false;
  ui.loginError.textContent = message || '';
  ui.password.value = '';
  ui.username.focus();
  document.title = BASE_TITLE;
}

export function loggedOut(message) {
  state.csrf = null;
  state.me = null;
  stopSocket();
  state.open = null;
  state.queueSeen = null;
  showLogin(message);
}

bindLoginForm({
  ui,
  state,
  login: (username, password) => api('POST', '/login', { username, password }),
  start: startConsole,
  missing: () => copy.loginMissing,
  beforeSubmit: unlockAudio, // the log-in is the user gesture that lets the console beep
});

bindLogoutButton({
  ui,
  logout: () => api('POST', '/logout'),
  loggedOut: () => loggedOut(copy.loggedOut),
});

// The server decides (docs/agent-api.md, rights); the console only stops offering what would be refused.
export function hasRight(agent, right) {
  return Boolean(agent && Array.isArray(agent.rights) && agent.rights.includes(right));
}

export function showDenied(agent) {
  state.me = agent;
  ui.loginView.hidden = true;
  ui.consoleView.hidden = true;
  ui.sessionBar.hidden = false;
  for (const node of ui.agentOnly) node.hidden = true;
  ui.meName.textContent = agentLabel(agent);
  ui.deniedEditor.hidden = !hasRight(agent, 'edit_content');
  ui.deniedView.hidden = false;
  ui.deniedTitle.focus();
}

export async function startConsole(agent, focusMain) {
  if (!hasRight(agent, 'handle_chats')) {
    // An editor: no queue, no chats, no socket; the page offers the editor instead.
    showDenied(agent);
    return;
  }
  state.me = agent;
  ui.loginView.hidden = true;
  ui.deniedView.hidden = true;
  ui.consoleView.hidden = false;
  ui.sessionBar.hidden = false;
  for (const node of ui.agentOnly) node.hidden = false;
  ui.viewCanned.hidden = !hasRight(agent, 'supervise'); // the server refuses the others' changes anyway
  ui.meName.textContent = agentLabel(agent);
  ui.presence.value = PRESENCES.includes(agent.presence) ? agent.presence : 'offline';
  ui.viewInsights.hidden = !hasRight(agent, 'supervise'); // the insights are the supervisors' (docs/metrics.md)
  ui.viewFloor.hidden = !hasRight(agent, 'supervise'); // so is the floor (floor.js)
  updateNotifyUi();
  showView('chats');
  if (focusMain) $('main').focus();
  await Promise.allSettled([loadQueue(), loadMine(), loadAgents(), loadCanned(), loadTickets()]);
  startSocket();
  openFromAddress(); // a link to a conversation (a contact request's) opened in a new tab
}
