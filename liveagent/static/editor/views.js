import { loadAnswered } from './answered.js';
import { loadFindings } from './findings.js';
import { loadChanges } from './history.js';
import { loadMissed } from './missed.js';
import { loadRuns } from './publish.js';
import { state, ui } from './state.js';

// ---- views -------------------------------------------------------------------------------------------------
export function showView(view) {
  state.view = view;
  for (const [name, node] of Object.entries(ui.views)) node.hidden = name !== view;
  for (const [name, button] of Object.entries(ui.nav)) button.setAttribute('aria-pressed', String(name === view));
  if (view === 'missed') {
    loadMissed();
    loadAnswered();
  } else if (view === 'changes') {
    loadChanges();
  } else if (view === 'publish') {
    loadFindings();
    loadRuns();
  }
}

for (const [name, button] of Object.entries(ui.nav)) {
  button.addEventListener('click', () => showView(name));
}
