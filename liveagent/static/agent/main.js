/*
 * Lumo agent console (agent.html): native ES modules, no framework, no build step.
 *
 * Talks only to the agent API of docs/agent-api.md: HTTP JSON under /api/agent (session cookie,
 * X-CSRF-Token on every non-GET request) and the websocket /api/agent/ws (queue, message, state,
 * typing, presence events; ping, typing and resume from here). Everything that comes from the
 * server is put on the page with textContent / createTextNode, never as HTML.
 * This module starts the page; every view is a module beside it, the shared helpers are in ../lib/.
 */
import './alerts.js';
import './canned.js';
import './capacity.js';
import './chat.js';
import './floor.js';
import './http.js';
import './insights.js';
import './load.js';
import './mine.js';
import './presence.js';
import './queue.js';
import './reply.js';
import './session.js';
import './shortcuts.js';
import './socket.js';
import './state.js';
import './suggestions.js';
import './tickets.js';
import './transcript.js';
import './transfer.js';
import './typing.js';
import './views.js';
import { loadCopy } from '../lib/copy.js';
import { resumeSession } from '../lib/session.js';
import { request } from './http.js';
import { showLogin, startConsole } from './session.js';
import { copy, state } from './state.js';

// ---- start ----------------------------------------------------------------------------------------------
export async function init() {
  Object.assign(copy, await loadCopy('agent')); // every text the modules set comes from it
  await resumeSession({ state, request, start: startConsole, showLogin });
}

init();
