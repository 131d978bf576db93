import { holdsOpen } from './chat.js';
import { send } from './socket.js';
import { TYPING_IDLE_MS, TYPING_REFRESH_MS, state, ui } from './state.js';

// ---- agent typing (to the visitor) ------------------------------------------------------------------------------
export let agentTyping = false;
export let agentTypingSentAt = 0;
export let agentTypingTimer = null;
export let agentTypingConversation = null;

export function noteAgentTyping() {
  if (state.noteMode || !holdsOpen()) return;
  if (!ui.replyInput.value.trim()) {
    stopAgentTyping();
    return;
  }
  const now = Date.now();
  if (!agentTyping || now - agentTypingSentAt > TYPING_REFRESH_MS) {
    agentTyping = true;
    agentTypingSentAt = now;
    agentTypingConversation = state.open.brief.id;
    send({ type: 'typing', conversation_id: agentTypingConversation, on: true });
  }
  window.clearTimeout(agentTypingTimer);
  agentTypingTimer = window.setTimeout(stopAgentTyping, TYPING_IDLE_MS);
}

export function stopAgentTyping() {
  window.clearTimeout(agentTypingTimer);
  if (agentTyping && agentTypingConversation) {
    send({ type: 'typing', conversation_id: agentTypingConversation, on: false });
  }
  agentTyping = false;
  agentTypingConversation = null;
}

ui.replyInput.addEventListener('input', noteAgentTyping);
ui.replyInput.addEventListener('blur', stopAgentTyping);
