import { redrawList, str } from '../lib/dom.js';
import { changeItem } from './changes.js';
import { api, editor } from './http.js';
import { copy, list, setAlert, setStatus, state, ui } from './state.js';

// ---- change history ------------------------------------------------------------------------------------------
export async function loadChanges() {
  try {
    const data = await api('GET', editor('/changes'));
    state.changes = list(data.changes);
    for (const change of state.changes) {
      if (change.agent_name && change.agent_id !== undefined) state.agentNames.set(change.agent_id, str(change.agent_name));
    }
  } catch (err) {
    setAlert(err.message);
  }
  renderChanges();
}

export function renderChanges() {
  redrawList(ui.changesList, ui.changesEmpty, state.changes, (change) =>
    changeItem(change, { prefix: 'log', headingTag: 'h3', withTopic: true })
  );
}

ui.changesRefresh.addEventListener('click', async () => {
  await loadChanges();
  setStatus(copy.changesRefreshed);
});
