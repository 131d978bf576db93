import { el, focusKeyInside, restoreFocus, str } from '../lib/dom.js';
import { format, plural } from '../lib/format.js';
import { api, editor } from './http.js';
import { renderMissed } from './missed.js';
import { MIN_EXAMPLES, copy, folded, list, quoted, setAlert, state, ui } from './state.js';
import { openTopic } from './topic.js';

// ---- topic list ----------------------------------------------------------------------------------------------
export function setTopics(topics) {
  state.topics = list(topics).filter((t) => t && t.name);
  renderTopicList();
  renderMissed(); // the topic selects and guesses use the titles
}

export async function loadTopics() {
  try {
    const data = await api('GET', editor('/topics'));
    setTopics(data.topics);
  } catch (err) {
    setAlert(err.message);
  }
}

/** "12 vastausta 30 päivässä · hyödyllinen 75 % (6/8)": how much the topic was used and how it helped. */
function usageText(usage) {
  const answers = Number(usage && usage.answers) || 0;
  const rated = Number(usage && usage.rated) || 0;
  const helpful = Number(usage && usage.helpful) || 0;
  const rate = rated ? format(copy.helpfulRate, { percent: Math.round((100 * helpful) / rated), helpful, rated }) : copy.helpfulNone;
  return `${plural(answers, copy.answersOne, copy.answersMany)} · ${rate}`;
}

export function renderTopicList() {
  const key = focusKeyInside(ui.topicList);
  const query = folded(ui.topicFilter.value.trim());
  const shown = state.topics.filter(
    (t) => !query || folded(`${str(t.title)} ${str(t.name)} ${str(t.answer)}`).includes(query)
  );
  ui.topicList.textContent = '';
  const openName = state.panel === 'topic' && state.current ? state.current.topic.name : null;
  for (const topic of shown) {
    const count = Number(topic.examples_count) || 0;
    ui.topicList.appendChild(
      el('li', {}, [
        el(
          'button',
          {
            type: 'button',
            className: 'topic-button',
            'aria-current': topic.name === openName ? 'true' : null,
            dataset: { name: str(topic.name), focusKey: `topic:${str(topic.name)}` },
            onclick: () => openTopic(topic.name, { focus: true }),
          },
          [
            el('span', { className: 'topic-title', text: str(topic.title) || str(topic.name) }),
            el('span', { className: 'topic-info' }, [
              el('span', { className: 'topic-name', text: str(topic.name) }),
              ' · ',
              plural(count, copy.examplesOne, copy.examplesMany),
              count < MIN_EXAMPLES ? el('span', { className: 'topic-warning', text: ` · ${copy.tooFewExamples}` }) : null,
            ]),
            el('span', { className: 'topic-usage', text: usageText(topic.last_30_days) }),
          ]
        ),
      ])
    );
  }
  ui.topicsCount.textContent = state.topics.length ? `(${state.topics.length})` : '';
  if (!state.topics.length) {
    ui.topicsEmpty.textContent = copy.topicsNone;
    ui.topicsEmpty.hidden = false;
  } else if (!shown.length) {
    ui.topicsEmpty.textContent = format(copy.topicsNoMatch, { query: quoted(ui.topicFilter.value.trim()) });
    ui.topicsEmpty.hidden = false;
  } else {
    ui.topicsEmpty.hidden = true;
  }
  restoreFocus(ui.topicList, key);
}

ui.topicFilter.addEventListener('input', renderTopicList);
