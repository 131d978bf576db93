import { el, str } from '../lib/dom.js';
import { format } from '../lib/format.js';
import { hideChangeResult, showChangeResult } from './changes.js';
import { renderExamples, renderTopicChanges } from './examples.js';
import { answerProblems, clearFieldError, clearFieldErrors, reportError, showInvalid, titleProblems } from './fields.js';
import { api, topicPath } from './http.js';
import { renderCounter, renderPreview } from './preview.js';
import { clearAlert, copy, list, setAlert, setStatus, state, ui } from './state.js';
import { loadTopics, renderTopicList } from './topics.js';
import { answerDirty, confirmDiscard } from './unsaved.js';
import { showView } from './views.js';

// ---- one topic -------------------------------------------------------------------------------------------------
export function showPanel(panel) {
  state.panel = panel;
  ui.placeholder.hidden = panel !== 'empty';
  ui.detail.hidden = panel !== 'topic';
  ui.newForm.hidden = panel !== 'new';
  renderTopicList();
}

/**
 * Opens a topic. The same topic again (after a change) keeps the unsaved answer and title the
 * editor is writing, unless `reset` is set (the reload after a conflict).
 */
export async function openTopic(name, options) {
  const opts = options || {};
  const same = state.panel === 'topic' && state.current && state.current.topic.name === name;
  if (!same && !opts.skipConfirm && !confirmDiscard()) return false;
  try {
    const data = await api('GET', topicPath(name));
    showTopic(data, Object.assign({ same }, opts));
    return true;
  } catch (err) {
    setAlert(err.message);
    if (err.status === 404) loadTopics();
    return false;
  }
}

export function openTopicFromElsewhere(name) {
  if (!confirmDiscard()) return;
  showView('topics');
  openTopic(name, { focus: true, skipConfirm: true });
}

export function showTopic(data, opts) {
  const topic = data.topic || {};
  const keepEdits = opts.same && !opts.reset && answerDirty();
  const keptText = ui.answerText.value;
  const keptTitle = ui.answerTitle.value;
  if (!opts.same) {
    hideChangeResult(ui.answerResult);
    hideChangeResult(ui.examplesResult);
    ui.examplesNew.value = '';
    ui.draft.hidden = true;
    ui.draft.open = false;
  }
  ui.conflict.hidden = true;
  state.current = { topic, changes: list(data.changes) };
  showPanel('topic');

  ui.topicHeading.textContent = str(topic.title) || str(topic.name);
  ui.topicMeta.textContent = '';
  const examples = list(topic.examples);
  const facts = [
    [copy.topicName, str(topic.name)],
    [copy.topicFile, str(topic.path)],
    [copy.exampleQuestion, str(topic.example_question)],
  ];
  for (const [term, value] of facts) {
    if (value) ui.topicMeta.appendChild(el('div', {}, [el('dt', { text: term }), el('dd', { text: value })]));
  }
  ui.topicComment.textContent = '';
  if (topic.comment) {
    ui.topicComment.appendChild(el('strong', { text: `${copy.description}: ` }));
    ui.topicComment.appendChild(document.createTextNode(str(topic.comment)));
  }
  ui.topicComment.hidden = !topic.comment;

  ui.answerTitle.value = keepEdits ? keptTitle : str(topic.title);
  ui.answerText.value = keepEdits ? keptText : str(topic.answer);
  clearFieldErrors('answer');
  updateAnswerPreview();

  renderExamples(topic, opts.focusExample);
  renderTopicChanges();
  if (opts.focus) ui.topicHeading.focus();
}

export async function reloadTopic(opts) {
  if (!state.current) return false;
  return openTopic(state.current.topic.name, Object.assign({ skipConfirm: true }, opts || {}));
}

export function updateAnswerPreview() {
  const topic = state.current ? state.current.topic : {};
  renderCounter(ui.answerCount, ui.answerText.value);
  renderPreview(ui.answerPreview, ui.answerTitlePreview, ui.answerText.value, ui.answerTitle.value, topic.buttons);
}

ui.answerText.addEventListener('input', () => {
  clearFieldError('answer-text');
  updateAnswerPreview();
});
ui.answerTitle.addEventListener('input', () => {
  clearFieldError('answer-title');
  updateAnswerPreview();
});

export function showConflict(message, draftText) {
  ui.conflictMessage.textContent = message;
  ui.conflict.hidden = false;
  if (draftText) {
    ui.draftText.textContent = draftText;
    ui.draft.hidden = false;
  }
  setAlert(message);
  ui.topicReload.focus();
}

ui.topicReload.addEventListener('click', async () => {
  const ok = await reloadTopic({ reset: true, focus: true });
  if (ok) {
    clearAlert();
    setStatus(copy.topicReloaded);
  }
});

ui.answerForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const current = state.current;
  if (!current) return;
  clearFieldErrors('answer');
  clearAlert();
  const text = ui.answerText.value;
  const title = ui.answerTitle.value.trim();
  if (showInvalid(answerProblems('answer-text', text).concat(titleProblems('answer-title', title)))) return;
  const body = { text, version: str(current.topic.version) };
  if (title !== str(current.topic.title)) body.title = title;
  ui.answerSave.disabled = true;
  try {
    const result = await api('PUT', topicPath(current.topic.name, '/answer'), body);
    showChangeResult(ui.answerResult, result, copy.saved);
    setStatus(format(copy.answerSaved, { summary: str(result.summary) }));
    ui.draft.hidden = true;
    await reloadTopic({ reset: true });
    loadTopics();
  } catch (err) {
    if (err.status === 409) {
      const draft = body.title !== undefined ? format(copy.draftWithTitle, { title, text }) : text;
      showConflict(err.message, draft);
    } else {
      reportError(err, 'answer');
    }
  } finally {
    ui.answerSave.disabled = false;
  }
});
