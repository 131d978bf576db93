import { str } from '../lib/dom.js';
import { addMessage, holdsOpen } from './chat.js';
import { api } from './http.js';
import { closeShortcuts, insertText, shortcutKey } from './shortcuts.js';
import { announce, copy, state, ui } from './state.js';
import { suggestionFor, suggestionSent } from './suggestions.js';
import { refreshOpenBrief } from './transfer.js';
import { stopAgentTyping } from './typing.js';

// ---- reply box, notes, canned replies ---------------------------------------------------------------------
export function setNoteMode(on) {
  state.noteMode = on;
  ui.noteToggle.setAttribute('aria-pressed', String(on));
  ui.replyForm.classList.toggle('reply--note', on);
  ui.replyLabel.textContent = on ? copy.replyLabelNote : copy.replyLabel;
  ui.replySend.textContent = on ? copy.sendNote : copy.send;
  if (on) stopAgentTyping();
}

ui.noteToggle.addEventListener('click', () => {
  setNoteMode(!state.noteMode);
  ui.replyInput.focus();
});

ui.replyInput.addEventListener('keydown', (event) => {
  if (shortcutKey(event)) return; // the "/" list is open: its keys choose a canned reply
  if (event.key === 'Enter' && !event.shiftKey && !event.altKey && !event.ctrlKey && !event.metaKey && !event.isComposing) {
    event.preventDefault();
    ui.replyForm.requestSubmit ? ui.replyForm.requestSubmit() : sendReply();
  }
});

ui.replyForm.addEventListener('submit', (event) => {
  event.preventDefault();
  sendReply();
});

export let sending = false;
export async function sendReply() {
  const open = state.open;
  const text = ui.replyInput.value.trim();
  if (!open || !text || sending) return;
  if (!holdsOpen()) {
    ui.convError.textContent = copy.notYours;
    return;
  }
  sending = true;
  ui.convError.textContent = '';
  closeShortcuts();
  const note = state.noteMode;
  stopAgentTyping();
  try {
    const message = await api('POST', `/conversations/${encodeURIComponent(open.brief.id)}/${note ? 'notes' : 'messages'}`, {
      text,
      ...(note ? {} : suggestionFor(open.brief.id)),
    });
    if (!note) suggestionSent();
    if (state.open === open) {
      if (note && message && !message.kind) message.kind = 'note';
      addMessage(message, true);
      ui.convLog.scrollTop = ui.convLog.scrollHeight;
      if (ui.replyInput.value.trim() === text) ui.replyInput.value = '';
      if (note) {
        // A note is one remark: the box goes back to answering the visitor, and says so.
        setNoteMode(false);
        announce(copy.noteSaved);
      }
    }
  } catch (err) {
    ui.convError.textContent = err.message; // the text stays in the box
    if (err.status === 403 || err.status === 409) refreshOpenBrief();
  } finally {
    sending = false;
    ui.replyInput.focus();
  }
}

ui.cannedInsert.addEventListener('click', () => {
  const item = state.canned.find((c) => str(c.id) === ui.cannedSelect.value);
  if (!item) {
    ui.cannedSelect.focus();
    return;
  }
  const input = ui.replyInput;
  insertText(str(item.text), input.selectionStart ?? input.value.length, input.selectionEnd ?? input.value.length);
});
