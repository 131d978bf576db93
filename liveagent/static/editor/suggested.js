/*
 * Topics the bot knew but the visitor still wanted a person for (GET /api/editor/suggested-topics): agents
 * answered a handed-off visitor with the topic's own answer (a suggested answer, docs/agent-api.md). A topic
 * high on this list may need clearer answer text, better examples, or a button to the next step.
 * Shown in the "what the bot missed" view, read again whenever that view is opened.
 */
import { el, redrawList, str } from '../lib/dom.js';
import { format } from '../lib/format.js';
import { api, editor } from './http.js';
import { $, copy, list } from './state.js';
import { openTopicFromElsewhere } from './topic.js';

const view = $('missed-view');
const items = $('suggested-topics-list');
const empty = $('suggested-topics-empty');
const failure = $('suggested-topics-error');

export async function loadSuggestedTopics() {
  let topics = [];
  try {
    topics = list((await api('GET', editor('/suggested-topics'))).topics);
    failure.textContent = '';
  } catch (err) {
    failure.textContent = err.message;
  }
  redrawList(items, empty, topics, (topic, index) => {
    const headingId = `suggested-topic-${index}`;
    return el('li', { className: 'card' }, [
      el('h3', { id: headingId, className: 'card-title', text: str(topic.title) }),
      el('p', {
        text: format(copy.suggestedTopicCounts, { conversations: str(topic.conversations), edited: str(topic.edited), replies: str(topic.replies) }),
      }),
      el('div', { className: 'card-actions' }, [
        el('button', {
          type: 'button',
          className: 'button-secondary',
          'aria-describedby': headingId,
          dataset: { focusKey: `suggested:${str(topic.topic)}` },
          text: format(copy.openTopic, { title: str(topic.title) }),
          onclick: () => openTopicFromElsewhere(str(topic.topic).replace(/^faq\//, '')),
        }),
      ]),
    ]);
  });
}

new MutationObserver(() => {
  if (!view.hidden) loadSuggestedTopics();
}).observe(view, { attributes: true, attributeFilter: ['hidden'] });
