import { jsonClient } from '../lib/api.js';
import { loggedOut } from './session.js';
import { AGENT_API, EDITOR_API, state } from './state.js';

// ---- HTTP ----------------------------------------------------------------------------------------
export const request = jsonClient({
  loginUrl: `${AGENT_API}/login`,
  meUrl: `${AGENT_API}/me`,
  csrf: { get: () => state.csrf, set: (token) => { state.csrf = token; } },
  text: {
    network: 'Palvelimeen ei saatu yhteyttä. Tarkista verkkoyhteys ja yritä uudelleen.',
    failed: 'Pyyntö epäonnistui (virhe {status}).',
  },
  onUnauthorized: () => {
    if (state.me) loggedOut('Istuntosi on päättynyt. Kirjaudu uudelleen.');
  },
});

/** The agent and editor APIs (docs/editor-api.md): `path` is the whole path; JSON back ({} for none), or ApiError. */
export async function api(method, path, body) {
  return (await request(method, path, body)) || {};
}

export function editor(path) {
  return EDITOR_API + path;
}

export function topicPath(name, rest) {
  return editor(`/topics/${encodeURIComponent(name)}${rest || ''}`);
}
