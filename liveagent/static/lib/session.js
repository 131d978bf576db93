/*
 * The signed-in session of the agent console and the editor. Both pages log in through the agent API
 * (docs/agent-api.md: /api/agent/login, /me, /logout) with the same log-in form and session bar (the
 * same element ids), and keep the session's CSRF token in memory only: `csrf` of the page's state.
 */
import { jsonClient } from './api.js';
import { str } from './dom.js';

export const AGENT_API = '/api/agent';

/** The session bar, the log-in form and the no-rights view: the elements both pages have. */
export function sessionElements() {
  const $ = (id) => document.getElementById(id);
  return {
    sessionBar: $('session-bar'),
    meName: $('me-name'),
    logout: $('logout-button'),
    loginView: $('login-view'),
    loginForm: $('login-form'),
    username: $('username'),
    password: $('password'),
    loginError: $('login-error'),
    loginButton: $('login-button'),
    deniedView: $('denied-view'),
    deniedTitle: $('denied-title'),
  };
}

/** A page's state: the session (`csrf`, kept in memory only; `me`, the agent) and the page's own `fields`. */
export function sessionState(fields) {
  return Object.assign({ csrf: null, me: null }, fields);
}

/**
 * The page's request function (lib/api.js) in this session: the agent API's log-in and "who am I"
 * URLs, the CSRF token on `state`. `text` {network, failed} and onUnauthorized() as jsonClient takes them.
 */
export function sessionClient(state, text, onUnauthorized) {
  return jsonClient({
    loginUrl: `${AGENT_API}/login`,
    meUrl: `${AGENT_API}/me`,
    csrf: {
      get: () => state.csrf,
      set: (token) => {
        state.csrf = token;
      },
    },
    text,
    onUnauthorized,
  });
}

/** Who is logged in, as the session bar shows it: "Name (username)". */
export function agentLabel(agent) {
  return `${str(agent.display_name)} (${str(agent.username)})`;
}

/**
 * When the page opens: the session the cookie may still hold (GET /me) starts the page with
 * start(agent, false); without one, showLogin(message), with no message for a plain 401.
 */
export async function resumeSession({ state, request, start, showLogin }) {
  try {
    const data = await request('GET', `${AGENT_API}/me`);
    state.csrf = data.csrf_token;
    await start(data.agent, false);
  } catch (err) {
    showLogin(err.status === 401 ? '' : err.message);
  }
}

/**
 * The log-in form. Both fields are needed (else missing() is shown), then login(username, password)
 * (POST /login): the CSRF token is kept and start(agent, true) opens the page; a refusal shows the
 * server's message and empties the password. beforeSubmit(), if given, runs first on the user's gesture.
 */
export function bindLoginForm({ ui, state, login, start, missing, beforeSubmit }) {
  ui.loginForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (beforeSubmit) beforeSubmit();
    const username = ui.username.value.trim();
    const password = ui.password.value;
    if (!username || !password) {
      ui.loginError.textContent = missing();
      (username ? ui.password : ui.username).focus();
      return;
    }
    ui.loginButton.disabled = true;
    ui.loginError.textContent = '';
    try {
      const data = await login(username, password);
      state.csrf = data.csrf_token;
      ui.password.value = '';
      await start(data.agent, true);
    } catch (err) {
      ui.loginError.textContent = err.message;
      ui.password.value = '';
      ui.password.focus();
    } finally {
      ui.loginButton.disabled = false;
    }
  });
}

/**
 * The log-out button: logout() (POST /logout; the session ends here even if that fails), then
 * loggedOut(). mayLeave(), if given, can keep the page as it is (unsaved work).
 */
export function bindLogoutButton({ ui, logout, loggedOut, mayLeave }) {
  ui.logout.addEventListener('click', async () => {
    if (mayLeave && !mayLeave()) return;
    try {
      await logout();
    } catch (err) {
      /* logged out anyway */
    }
    loggedOut();
  });
}
