import { el, redrawList, str, vh } from '../lib/dom.js';
import { format } from '../lib/format.js';
import { api, editor } from './http.js';
import { openNewTopic } from './newtopic.js';
import { MIN_EXAMPLES, copy, lines, list, quoted, setAlert, state, timeElement, ui } from './state.js';

// ---- what the agents answered ------------------------------------------------------------------------------------
export async function loadAnswered() {
  try {
    const data = await api('GET', editor('/answered'));
    state.answered = list(data.answered).filter((a) => a && (a.question || a.answer));
  } catch (err) {
    if (state.view === 'missed') setAlert(err.message);
  }
  renderAnswered();
}

export function renderAnswered() {
  redrawList(ui.answeredList, ui.answeredEmpty, state.answered, (item, index) => {
    const titleId = `answered-${index}-title`;
    return el('li', { className: 'card answered' }, [
      el('h3', { id: titleId, className: 'card-title' }, [vh(`${copy.question}: `), quoted(str(item.question))]),
      el('p', { className: 'small' }, [`${copy.closedAt} `, timeElement(item.closed_at)]),
      el('p', { className: 'answered-label', text: copy.agentAnswer }),
      el('blockquote', { className: 'answered-answer', text: str(item.answer) }),
      el('div', { className: 'card-actions' }, [
        el('button', {
          type: 'button',
          className: 'button-secondary answered-draft',
          'aria-describedby': titleId,
          dataset: { focusKey: `answered:${str(item.conversation_id)}:${index}` },
          text: copy.draftTopic,
          onclick: () =>
            openNewTopic({
              examples: lines(item.question),
              answer: str(item.answer),
              origin: format(copy.answeredOrigin, { min: MIN_EXAMPLES }),
            }),
        }),
      ]),
    ]);
  });
}
