import { AGENT_API, sessionClient } from '../lib/session.js';
import { loggedOut } from './session.js';
import { state } from './state.js';

// ---- HTTP ----------------------------------------------------------------------------------------
export const request = sessionClient(
  state,
  { network: 'Palvelimeen ei saatu yhteyttä. Yritä uudelleen.', failed: 'Pyyntö epäonnistui ({status}).' },
  () => loggedOut('Istuntosi on päättynyt. Kirjaudu uudelleen.')
);

/** The agent API (docs/agent-api.md): `path` under /api/agent; JSON back, or ApiError. */
export function api(method, path, body) {
  return request(method, AGENT_API + path, body);
}
