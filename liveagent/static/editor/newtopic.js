import { str } from '../lib/dom.js';
import { format, plural } from '../lib/format.js';
import { showChangeResult } from './changes.js';
import { answerProblems, clearFieldError, clearFieldErrors, reportError, showInvalid, titleProblems } from './fields.js';
import { api, editor } from './http.js';
import { renderMissed } from './missed.js';
import { renderCounter, renderPreview } from './preview.js';
import { $, MIN_EXAMPLES, NAME_PATTERN, clearAlert, copy, folded, lines, list, quoted, setStatus, state, ui } from './state.js';
import { openTopic, showPanel } from './topic.js';
import { loadTopics } from './topics.js';
import { confirmDiscard, newTopicDirty } from './unsaved.js';
import { showView } from './views.js';

// ---- new topic -------------------------------------------------------------------------------------------------
/** A name suggestion from the title: "Pysäköinti ja parkki" -> "pysakointi_ja_parkki". */
export function suggestName(title) {
  let name = folded(title)
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .replace(/^[0-9_]+/, '');
  name = name.slice(0, 40).replace(/_+$/, '');
  return name;
}

/**
 * Opens the new-topic form, optionally prefilled: {examples: [], answer, title, missedIds: [], origin}.
 * The missed ids travel with the form and are marked handled when the topic is created.
 */
export function openNewTopic(prefill) {
  if (!confirmDiscard()) return;
  const fill = prefill || {};
  showView('topics');
  state.current = null;
  state.newTopic = { missedIds: list(fill.missedIds), nameTouched: false };
  clearFieldErrors('newTopic');
  clearAlert();
  ui.newTitle.value = str(fill.title);
  ui.newName.value = fill.title ? suggestName(fill.title) : '';
  ui.newAnswer.value = str(fill.answer);
  ui.newExamples.value = list(fill.examples).map(str).join('\n');
  ui.newOrigin.textContent = str(fill.origin);
  ui.newOrigin.hidden = !fill.origin;
  showPanel('new');
  updateNewTopic();
  ui.newHeading.focus();
}

export function updateNewTopic() {
  renderCounter(ui.newAnswerCount, ui.newAnswer.value);
  const n = lines(ui.newExamples.value).length;
  const missing = MIN_EXAMPLES - n;
  const examples = plural(n, copy.examplesOne, copy.examplesMany);
  ui.newExamplesCount.textContent =
    missing > 0 ? format(copy.newExamplesMissing, { examples, missing }) : format(copy.newExamplesEnough, { examples });
  renderPreview(ui.newPreview, ui.newTitlePreview, ui.newAnswer.value, ui.newTitle.value, []);
}

ui.newTopicButton.addEventListener('click', () => openNewTopic());

ui.newTitle.addEventListener('input', () => {
  clearFieldError('new-topic-title');
  if (state.newTopic && !state.newTopic.nameTouched) ui.newName.value = suggestName(ui.newTitle.value);
  updateNewTopic();
});
ui.newName.addEventListener('input', () => {
  clearFieldError('new-topic-name');
  if (state.newTopic) state.newTopic.nameTouched = ui.newName.value !== '';
});
ui.newAnswer.addEventListener('input', () => {
  clearFieldError('new-topic-answer');
  updateNewTopic();
});
ui.newExamples.addEventListener('input', () => {
  clearFieldError('new-topic-examples');
  updateNewTopic();
});

ui.newCancel.addEventListener('click', () => {
  if (newTopicDirty() && !window.confirm(copy.newDiscardConfirm)) return;
  state.newTopic = null;
  clearFieldErrors('newTopic');
  for (const control of [ui.newName, ui.newTitle, ui.newAnswer, ui.newExamples]) control.value = '';
  showPanel('empty');
  ui.newTopicButton.focus();
});

ui.newForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearFieldErrors('newTopic');
  clearAlert();
  const name = ui.newName.value.trim();
  const title = ui.newTitle.value.trim();
  const answer = ui.newAnswer.value;
  const examples = lines(ui.newExamples.value);
  const problems = [];
  if (!NAME_PATTERN.test(name)) {
    problems.push([
      'new-topic-name',
      name ? format(copy.nameInvalid, { name: quoted(name) }) : copy.nameMissing,
    ]);
  }
  problems.push(...titleProblems('new-topic-title', title));
  problems.push(...answerProblems('new-topic-answer', answer));
  if (!examples.length) problems.push(['new-topic-examples', copy.newExamplesNone]);
  if (showInvalid(problems)) return;
  const missedIds = state.newTopic ? state.newTopic.missedIds : [];
  const body = { name, title, answer, examples };
  if (missedIds.length) body.missed_ids = missedIds;
  ui.newSubmit.disabled = true;
  try {
    const result = await api('POST', editor('/topics'), body);
    if (missedIds.length) {
      const handled = new Set(missedIds);
      state.missed = state.missed.filter((g) => !list(g.ids).some((id) => handled.has(id)));
      renderMissed();
    }
    for (const control of [ui.newName, ui.newTitle, ui.newAnswer, ui.newExamples]) control.value = '';
    state.newTopic = null;
    await loadTopics();
    await openTopic(name, { focus: true, skipConfirm: true });
    showChangeResult(ui.answerResult, result, copy.topicCreatedHeading);
    setStatus(format(missedIds.length ? copy.topicCreatedMissed : copy.topicCreated, { title: quoted(title) }));
    if (examples.length < MIN_EXAMPLES) {
      ui.examplesNew.focus();
    }
  } catch (err) {
    reportError(err, 'newTopic');
  } finally {
    ui.newSubmit.disabled = false;
  }
});
