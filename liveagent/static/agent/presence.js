import { format } from '../lib/format.js';
import { api } from './http.js';
import { loadMine } from './mine.js';
import { announce, copy, state, ui } from './state.js';

// ---- presence ---------------------------------------------------------------------------------------------
ui.presence.addEventListener('change', async () => {
  const wanted = ui.presence.value;
  const previous = state.me ? state.me.presence : 'offline';
  try {
    const agent = await api('PUT', '/presence', { presence: wanted });
    state.me = Object.assign({}, state.me, agent);
    ui.presence.value = state.me.presence;
    announce(format(copy.presenceSet, { presence: copy.presences[state.me.presence] || state.me.presence }));
    if (state.me.presence === 'offline') loadMine();
  } catch (err) {
    ui.presence.value = previous;
    announce(err.message);
  }
});
