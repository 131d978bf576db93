import { el, str, vh } from '../lib/dom.js';
import { agentName, timeElement, topicByName, topicLabel } from './state.js';
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
  return el('p', {
    className: 'small',
    text: 'Rivit, jotka alkavat plusmerkillä (+), lisättiin tiedostoon; miinusmerkillä (-) alkavat poistettiin.',
  });
}

/** Summary and diff of a change just made (PUT/POST answer). */
export function showChangeResult(container, result, heading) {
  container.textContent = '';
  container.appendChild(el('p', {}, [el('strong', { text: `${heading}: ` }), str(result.summary)]));
  container.appendChild(
    el('p', { className: 'small', text: 'Muutos tulee botin käyttöön, kun julkaiset muutokset (Julkaisu).' })
  );
  if (result.diff) {
    container.appendChild(
      el('details', { className: 'diff-details', open: true }, [
        el('summary', { text: 'Muutos tiedostossa' }),
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
    ['Aika', timeElement(change.created_at)],
    ['Tekijä', who || null],
    options.withTopic ? ['Aihe', change.topic ? topicLabel(change.topic) : null] : null,
  ].filter((row) => row && row[1]);
  return el('li', { className: 'card change' }, [
    el(headingTag, { id: headingId, className: 'card-title', text: str(change.summary) || 'Muutos' }),
    el(
      'dl',
      { className: 'brief' },
      facts.map(([term, value]) => el('div', {}, [el('dt', { text: term }), el('dd', {}, [value])]))
    ),
    change.diff
      ? el('details', { className: 'diff-details' }, [
          el('summary', {}, ['Näytä muutos', vh(`: ${str(change.summary)}`), change.path ? ` (${str(change.path)})` : '']),
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
            text: `Avaa aihe ${str(topicExists.title)}`,
            onclick: () => openTopicFromElsewhere(change.topic),
          }),
        ])
      : null,
  ]);
}
