import { sessionClient } from '../lib/session.js';
import { loggedOut } from './session.js';
import { EDITOR_API, state } from './state.js';

// ---- HTTP ----------------------------------------------------------------------------------------
export const request = sessionClient(
  state,
  {
    network: 'Palvelimeen ei saatu yhteyttä. Tarkista verkkoyhteys ja yritä uudelleen.',
    failed: 'Pyyntö epäonnistui (virhe {status}).',
  },
  () => {
    if (state.me) loggedOut('Istuntosi on päättynyt. Kirjaudu uudelleen.');
  }
);

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
