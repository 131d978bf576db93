import { AGENT_API, agentLabel, bindLoginForm, bindLogoutButton } from '../lib/session.js';
import { api, editor } from './http.js';
import { loadMissed } from './missed.js';
import { hideProgress, loadRuns, showRunResult } from './publish.js';
import { clearAlert, copy, setAlert, state, ui } from './state.js';
import { showPanel } from './topic.js';
import { setTopics } from './topics.js';
import { confirmDiscard } from './unsaved.js';
import { showView } from './views.js';

// ---- log-in / log-out ---------------------------------------------------------------------------------
export function hideAll() {
  ui.loginView.hidden = true;
  ui.deniedView.hidden = true;
  ui.editorView.hidden = true;
}

export function showLogin(message) {
  hideAll();
  ui.sessionBar.hidden = true;
  ui.loginView.hidden = false;
  ui.loginError.textContent = message || '';
  ui.password.value = '';
  ui.username.focus();
}

export function stopPolling() {
  window.clearTimeout(state.pollTimer);
  state.pollTimer = null;
}

export function loggedOut(message) {
  state.csrf = null;
  state.me = null;
  state.current = null;
  state.newTopic = null;
  state.watchedRunId = null;
  stopPolling();
  // Nothing of the previous session stays on the page for the next person to log in.
  for (const control of [ui.newName, ui.newTitle, ui.newAnswer, ui.newExamples, ui.examplesNew, ui.topicFilter]) {
    control.value = '';
  }
  state.missed = [];
  state.missedChoice.clear();
  state.answered = [];
  state.changes = [];
  state.runs = [];
  showPanel('empty');
  hideProgress();
  showRunResult(null);
  ui.status.textContent = '';
  clearAlert();
  showLogin(message);
}

bindLoginForm({
  ui,
  state,
  login: (username, password) => api('POST', `${AGENT_API}/login`, { username, password }),
  start: startEditor,
  missing: () => copy.loginMissing,
});

bindLogoutButton({
  ui,
  logout: () => api('POST', `${AGENT_API}/logout`),
  loggedOut: () => loggedOut(copy.loggedOut),
  mayLeave: confirmDiscard,
});

export async function startEditor(agent, focusMain) {
  state.me = agent || {};
  ui.meName.textContent = agentLabel(state.me);
  ui.sessionBar.hidden = false;
  hideAll();
  // The server decides who may edit: a 403 editor_only comes with the Finnish reason.
  try {
    const data = await api('GET', editor('/topics'));
    setTopics(data.topics);
  } catch (err) {
    if (err.status === 403) {
      ui.deniedMessage.textContent = err.message;
      ui.deniedView.hidden = false;
      ui.deniedTitle.focus();
      return;
    }
    if (err.status === 401) return;
    setAlert(err.message);
  }
  ui.editorView.hidden = false;
  showView('topics');
  if (focusMain) ui.main.focus();
  loadMissed();
  loadRuns();
}
