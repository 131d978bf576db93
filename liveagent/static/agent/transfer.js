import { el, str } from '../lib/dom.js';
import { format } from '../lib/format.js';
import { addMessage, renderBrief } from './chat.js';
import { api } from './http.js';
import { renderMine, upsertMine } from './mine.js';
import { claim } from './queue.js';
import { announce, copy, state, ui } from './state.js';
import { stopAgentTyping } from './typing.js';

// ---- transfer, return, close ---------------------------------------------------------------------------------
export async function loadAgents() {
  try {
    const data = await api('GET', '/agents');
    state.agents = Array.isArray(data.agents) ? data.agents : [];
  } catch (err) {
    /* keep the old list */
  }
  renderTransferOptions();
}

export function renderTransferOptions() {
  const selected = ui.transferSelect.value;
  const others = state.agents.filter(
    (a) => a && a.presence === 'online' && (!state.me || a.id !== state.me.id) &&
      (!Array.isArray(a.rights) || a.rights.includes('handle_chats'))
  );
  ui.transferSelect.textContent = '';
  ui.transferSelect.appendChild(
    el('option', { value: '', text: others.length ? copy.transferChoose : copy.transferNone })
  );
  for (const agent of others) {
    ui.transferSelect.appendChild(el('option', { value: str(agent.id), text: str(agent.display_name || agent.username) }));
  }
  if (others.some((a) => str(a.id) === selected)) ui.transferSelect.value = selected;
}

export async function conversationAction(path, body, done) {
  const open = state.open;
  if (!open) return;
  ui.convError.textContent = '';
  try {
    const brief = await api('POST', `/conversations/${encodeURIComponent(open.brief.id)}/${path}`, body);
    if (brief && brief.id) {
      open.brief = Object.assign({}, open.brief, brief);
      upsertMine(open.brief);
    }
    stopAgentTyping();
    renderBrief();
    announce(done);
    ui.convTitle.focus();
  } catch (err) {
    ui.convError.textContent = err.message;
    refreshOpenBrief();
  }
}

ui.transferButton.addEventListener('click', () => {
  const agentId = Number(ui.transferSelect.value);
  if (!ui.transferSelect.value || Number.isNaN(agentId)) {
    ui.convError.textContent = copy.transferMissing;
    ui.transferSelect.focus();
    return;
  }
  const name = ui.transferSelect.selectedOptions[0] ? ui.transferSelect.selectedOptions[0].textContent : '';
  conversationAction('transfer', { agent_id: agentId }, format(copy.transferred, { agent: name }));
});

ui.returnButton.addEventListener('click', () => {
  if (!window.confirm(copy.returnConfirm)) return;
  conversationAction('return', undefined, copy.returned);
});

ui.closeButton.addEventListener('click', () => {
  if (!window.confirm(copy.closeConfirm)) return;
  conversationAction('close', undefined, copy.closed);
});

ui.convClaimButton.addEventListener('click', () => {
  if (state.open) claim(state.open.brief.id, true);
});

export function closeOpen(message) {
  stopAgentTyping();
  state.open = null;
  ui.convBody.hidden = true;
  ui.convPlaceholder.hidden = false;
  ui.convTitle.textContent = copy.conversation;
  ui.convLog.textContent = '';
  renderMine();
  announce(message);
}

export async function refreshOpenBrief() {
  const open = state.open;
  if (!open) return;
  try {
    const data = await api('GET', `/conversations/${encodeURIComponent(open.brief.id)}`);
    if (state.open !== open) return;
    open.brief = data.conversation || open.brief;
    for (const message of data.messages || []) addMessage(message, true);
    renderBrief();
    upsertMine(open.brief);
  } catch (err) {
    // 403: a chat in preview that another agent claimed is no longer ours to see.
    if (err.status === 403 && state.open === open) closeOpen(err.message);
    /* otherwise keep what we have */
  }
}
