import { el, redrawList, str, vh } from '../lib/dom.js';
import { format } from '../lib/format.js';
import { changeItem, showChangeResult } from './changes.js';
import { clearFieldError, clearFieldErrors, reportError, showInvalid } from './fields.js';
import { api, topicPath } from './http.js';
import { MIN_EXAMPLES, RECOMMENDED_EXAMPLES, clearAlert, copy, exampleKey, lines, list, quoted, setAlert, setStatus, state, ui } from './state.js';
import { reloadTopic, showConflict } from './topic.js';
import { loadTopics } from './topics.js';

// ---- examples -----------------------------------------------------------------------------------------------
export function renderExamples(topic, focusIndex) {
  const examples = list(topic.examples).map(str);
  const question = exampleKey(topic.example_question);
  ui.examplesCount.textContent = `(${examples.length})`;
  if (examples.length < MIN_EXAMPLES) {
    ui.examplesAdvice.textContent = format(copy.examplesTooFew, {
      missing: MIN_EXAMPLES - examples.length,
      recommended: RECOMMENDED_EXAMPLES,
    });
    ui.examplesAdvice.className = 'small advice advice--warning';
  } else if (examples.length < RECOMMENDED_EXAMPLES) {
    ui.examplesAdvice.textContent = format(copy.examplesFew, { recommended: RECOMMENDED_EXAMPLES });
    ui.examplesAdvice.className = 'small advice';
  } else {
    ui.examplesAdvice.textContent = '';
    ui.examplesAdvice.className = 'small';
  }
  ui.examplesList.textContent = '';
  examples.forEach((example, index) => {
    const isQuestion = question && exampleKey(example) === question;
    ui.examplesList.appendChild(
      el('li', { className: 'example' }, [
        el('span', { className: 'example-text', text: example }),
        isQuestion ? el('span', { className: 'tag', text: copy.exampleQuestionTag }) : null,
        el(
          'button',
          {
            type: 'button',
            className: 'button-secondary button-small example-remove',
            dataset: { focusKey: `example:${index}` },
            onclick: () => removeExample(example, index),
          },
          [copy.remove, vh(` ${format(copy.removeExample, { example: quoted(example) })}`)]
        ),
      ])
    );
  });
  if (typeof focusIndex === 'number') {
    const buttons = ui.examplesList.querySelectorAll('.example-remove');
    if (buttons.length) buttons[Math.min(focusIndex, buttons.length - 1)].focus();
    else ui.examplesNew.focus();
  }
}

export async function removeExample(example, index) {
  const current = state.current;
  if (!current) return;
  if (!window.confirm(format(copy.removeExampleConfirm, { example: quoted(example) }))) return;
  clearAlert();
  try {
    const result = await api('POST', topicPath(current.topic.name, '/examples/remove'), {
      example,
      version: str(current.topic.version),
    });
    showChangeResult(ui.examplesResult, result, copy.removed);
    setStatus(`${str(result.summary)}.`);
    await reloadTopic({ focusExample: index });
    loadTopics();
  } catch (err) {
    if (err.status === 409) showConflict(err.message);
    else setAlert(err.message);
  }
}

ui.examplesNew.addEventListener('input', () => clearFieldError('examples-new'));

ui.examplesForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const current = state.current;
  if (!current) return;
  clearFieldErrors('examples');
  clearAlert();
  const examples = lines(ui.examplesNew.value);
  if (!examples.length) {
    showInvalid([['examples-new', copy.examplesNone]]);
    return;
  }
  ui.examplesAdd.disabled = true;
  try {
    const result = await api('POST', topicPath(current.topic.name, '/examples'), {
      examples,
      version: str(current.topic.version),
    });
    ui.examplesNew.value = '';
    showChangeResult(ui.examplesResult, result, copy.added);
    setStatus(format(copy.changeReady, { summary: str(result.summary) }));
    await reloadTopic();
    loadTopics();
    ui.examplesNew.focus();
  } catch (err) {
    if (err.status === 409) showConflict(err.message);
    else reportError(err, 'examples');
  } finally {
    ui.examplesAdd.disabled = false;
  }
});

export function renderTopicChanges() {
  const changes = state.current ? state.current.changes : [];
  redrawList(ui.topicChanges, ui.topicChangesEmpty, changes, (change) =>
    changeItem(change, { prefix: 'topic', headingTag: 'h4', withTopic: false })
  );
}
