/*
 * Lumo content editor (editor.html): native ES modules, no framework, no build step.
 *
 * A client of the editor API of docs/editor-api.md (/api/editor; session cookie from the agents'
 * log-in, X-CSRF-Token on every non-GET request, the token kept in memory only). Everything that
 * comes from the server or from the editor's own typing is put on the page with textContent /
 * createTextNode, never as HTML. The answer preview builds the same DOM the visitor widget
 * (widget/chat.js) builds for a bot message and is styled by widget.css itself.
 * This module starts the page; every view is a module beside it, the shared helpers are in ../lib/.
 */
import './answered.js';
import './changes.js';
import './examples.js';
import './fields.js';
import './findings.js';
import './history.js';
import './http.js';
import './missed.js';
import './newtopic.js';
import './preview.js';
import './publish.js';
import './session.js';
import './state.js';
import './suggested.js';
import './topic.js';
import './topics.js';
import './unsaved.js';
import './views.js';
import { loadCopy } from '../lib/copy.js';
import { resumeSession } from '../lib/session.js';
import { request } from './http.js';
import { showLogin, startEditor } from './session.js';
import { copy, state, widgetCopy } from './state.js';

// ---- start ----------------------------------------------------------------------------------------------
export async function init() {
  const [own, widget] = await Promise.all([loadCopy('editor'), loadCopy('widget')]);
  Object.assign(copy, own); // every text the modules set comes from it
  Object.assign(widgetCopy, widget);
  await resumeSession({ state, request, start: startEditor, showLogin });
}

init();
