import { sessionClient } from '../lib/session.js';
import { loggedOut } from './session.js';
import { EDITOR_API, copy, state } from './state.js';

// ---- HTTP ----------------------------------------------------------------------------------------
// The copy is read when a request fails: main.js has filled it before the first request.
export const request = sessionClient(
  state,
  {
    get network() {
      return copy.network;
    },
    get failed() {
      return copy.requestFailed;
    },
  },
  () => {
    if (state.me) loggedOut(copy.sessionEnded);
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
