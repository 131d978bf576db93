import { str } from '../lib/dom.js';
import { copy, state, ui } from './state.js';

// ---- unsaved work ----------------------------------------------------------------------------------------
export function answerDirty() {
  const current = state.current;
  if (!current || state.panel !== 'topic') return false;
  return ui.answerText.value !== str(current.topic.answer) || ui.answerTitle.value !== str(current.topic.title);
}

export function newTopicDirty() {
  if (state.panel !== 'new') return false;
  return [ui.newName, ui.newTitle, ui.newAnswer, ui.newExamples].some((c) => c.value.trim() !== '');
}

export function unsaved() {
  return answerDirty() || newTopicDirty() || (state.panel === 'topic' && ui.examplesNew.value.trim() !== '');
}

export function confirmDiscard() {
  if (!unsaved()) return true;
  return window.confirm(copy.unsavedConfirm);
}

window.addEventListener('beforeunload', (event) => {
  if (state.me && unsaved()) {
    event.preventDefault();
    event.returnValue = '';
  }
});
