import { jsonClient } from '../lib/api.js';
import { loggedOut } from './session.js';
import { API, state } from './state.js';

// ---- HTTP ----------------------------------------------------------------------------------------
export const request = jsonClient({
  loginUrl: `${API}/login`,
  meUrl: `${API}/me`,
  csrf: { get: () => state.csrf, set: (token) => { state.csrf = token; } },
  text: { network: 'Palvelimeen ei saatu yhteyttä. Yritä uudelleen.', failed: 'Pyyntö epäonnistui ({status}).' },
  onUnauthorized: () => loggedOut('Istuntosi on päättynyt. Kirjaudu uudelleen.'),
});

/** The agent API (docs/agent-api.md): `path` under /api/agent; JSON back, or ApiError. */
export function api(method, path, body) {
  return request(method, API + path, body);
}
