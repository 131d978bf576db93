import { AGENT_API, sessionClient } from '../lib/session.js';
import { loggedOut } from './session.js';
import { copy, state } from './state.js';

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
  () => loggedOut(copy.sessionEnded)
);

/** The agent API (docs/agent-api.md): `path` under /api/agent; JSON back, or ApiError. */
export function api(method, path, body) {
  return request(method, AGENT_API + path, body);
}
