import { str } from '../lib/dom.js';
import { unlockAudio, updateNotifyUi } from './alerts.js';
import { api } from './http.js';
import { loadMine } from './mine.js';
import { loadQueue } from './queue.js';
import { loadCanned } from './reply.js';
import { startSocket, stopSocket } from './socket.js';
import { $, BASE_TITLE, PRESENCE_TEXT, state, ui } from './state.js';
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

ui.loginForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  unlockAudio();
  const username = ui.username.value.trim();
  const password = ui.password.value;
  if (!username || !password) {
    ui.loginError.textContent = 'Kirjoita käyttäjätunnus ja salasana.';
    (username ? ui.password : ui.username).focus();
    return;
  }
  ui.loginButton.disabled = true;
  ui.loginError.textContent = '';
  try {
    const data = await api('POST', '/login', { username, password });
    state.csrf = data.csrf_token;
    ui.password.value = '';
    await startConsole(data.agent, true);
  } catch (err) {
    ui.loginError.textContent = err.message;
    ui.password.value = '';
    ui.password.focus();
  } finally {
    ui.loginButton.disabled = false;
  }
});

ui.logout.addEventListener('click', async () => {
  try {
    await api('POST', '/logout');
  } catch (err) {
    /* logged out anyway */
  }
  loggedOut('Kirjauduit ulos.');
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
  ui.meName.textContent = `${str(agent.display_name)} (${str(agent.username)})`;
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
  ui.meName.textContent = `${str(agent.display_name)} (${str(agent.username)})`;
  ui.presence.value = agent.presence in PRESENCE_TEXT ? agent.presence : 'offline';
  updateNotifyUi();
  showView('chats');
  if (focusMain) $('main').focus();
  await Promise.allSettled([loadQueue(), loadMine(), loadAgents(), loadCanned(), loadTickets()]);
  startSocket();
}
