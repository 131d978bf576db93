import { el, str, vh } from '../lib/dom.js';
import { format } from '../lib/format.js';
import { agentName, copy, timeElement, topicByName, topicLabel } from './state.js';
import { openTopicFromElsewhere } from './topic.js';

// ---- diffs and change lists -------------------------------------------------------------------------------
export function diffBlock(diff) {
  const pre = el('pre', { className: 'diff' });
  const rows = str(diff).replace(/\n$/, '').split('\n');
  for (const row of rows) {
    let kind = 'diff-context';
    if (row.startsWith('+++') || row.startsWith('---')) kind = 'diff-file';
    else if (row.startsWith('@@')) kind = 'diff-hunk';
    else if (row.startsWith('+')) kind = 'diff-add';
    else if (row.startsWith('-')) kind = 'diff-del';
    pre.appendChild(el('span', { className: `diff-line ${kind}`, text: row }));
    pre.appendChild(document.createTextNode('\n'));
  }
  return pre;
}

export function diffLegend() {
  return el('p', { className: 'small', text: copy.diffLegend });
}

/** Summary and diff of a change just made (PUT/POST answer). */
export function showChangeResult(container, result, heading) {
  container.textContent = '';
  container.appendChild(el('p', {}, [el('strong', { text: `${heading}: ` }), str(result.summary)]));
  container.appendChild(
    el('p', { className: 'small', text: copy.changePublishNote })
  );
  if (result.diff) {
    container.appendChild(
      el('details', { className: 'diff-details', open: true }, [
        el('summary', { text: copy.changeInFile }),
        diffLegend(),
        diffBlock(result.diff),
      ])
    );
  }
  container.hidden = false;
}

export function hideChangeResult(container) {
  container.hidden = true;
  container.textContent = '';
}

export function changeItem(change, options) {
  const who = agentName(change);
  const headingTag = options.headingTag || 'h3';
  const headingId = `change-${options.prefix}-${str(change.id)}`;
  const topicExists = change.topic && topicByName(change.topic);
  const facts = [
    [copy.changeTime, timeElement(change.created_at)],
    [copy.changeAuthor, who || null],
    options.withTopic ? [copy.topic, change.topic ? topicLabel(change.topic) : null] : null,
  ].filter((row) => row && row[1]);
  return el('li', { className: 'card change' }, [
    el(headingTag, { id: headingId, className: 'card-title', text: str(change.summary) || copy.changeUntitled }),
    el(
      'dl',
      { className: 'brief' },
      facts.map(([term, value]) => el('div', {}, [el('dt', { text: term }), el('dd', {}, [value])]))
    ),
    change.diff
      ? el('details', { className: 'diff-details' }, [
          el('summary', {}, [copy.showChange, vh(`: ${str(change.summary)}`), change.path ? ` (${str(change.path)})` : '']),
          diffLegend(),
          diffBlock(change.diff),
        ])
      : null,
    options.withTopic && topicExists
      ? el('div', { className: 'card-actions' }, [
          el('button', {
            type: 'button',
            className: 'button-secondary',
            'aria-describedby': headingId,
            dataset: { focusKey: `open:${str(change.id)}` },
            text: format(copy.openTopic, { title: str(topicExists.title) }),
            onclick: () => openTopicFromElsewhere(change.topic),
          }),
        ])
      : null,
  ]);
}
