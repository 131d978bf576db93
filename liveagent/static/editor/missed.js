import { el, redrawList, str, vh } from '../lib/dom.js';
import { format, plural } from '../lib/format.js';
import { loadAnswered } from './answered.js';
import { api, editor, topicPath } from './http.js';
import { openNewTopic } from './newtopic.js';
import { MIN_EXAMPLES, MISSED_TEXTS_SHOWN, clearAlert, copy, list, quoted, setAlert, setStatus, state, timeElement, topicByName, topicLabel, ui } from './state.js';
import { reloadTopic } from './topic.js';
import { loadTopics } from './topics.js';

// ---- what the bot missed --------------------------------------------------------------------------------------
export let missedLoading = null;

// One load at a time; a load asked for while one runs (the order changed, or a refresh) runs once after it,
// so the inbox never stays in the order of a request made before the editor's choice.
let missedAgain = false;

export async function loadMissed() {
  if (missedLoading) {
    missedAgain = true;
    return missedLoading;
  }
  missedLoading = (async () => {
    try {
      do {
        missedAgain = false;
        const data = await api('GET', editor(`/missed?sort=${encodeURIComponent(state.missedSort)}`));
        state.missed = list(data.groups).filter((g) => g && list(g.ids).length);
        renderMissed();
      } while (missedAgain);
    } catch (err) {
      if (state.view === 'missed') setAlert(err.message);
    } finally {
      missedLoading = null;
      missedAgain = false;
    }
  })();
  return missedLoading;
}

// The inbox's order: the most often missed first, or the latest first (the service sorts). Built on the
// first render, once main.js has read the copy.
let sortSelect = null;
function ensureSortControl() {
  if (sortSelect) return;
  sortSelect = el('select', { id: 'missed-sort' }, [
    el('option', { value: 'frequent', text: copy.missedSortFrequent }),
    el('option', { value: 'newest', text: copy.missedSortNewest }),
  ]);
  sortSelect.value = state.missedSort;
  sortSelect.addEventListener('change', () => {
    state.missedSort = sortSelect.value;
    loadMissed();
  });
  ui.missedRefresh.after(
    el('div', { className: 'missed-sort' }, [el('label', { for: 'missed-sort', text: copy.missedSortLabel }), ' ', sortSelect])
  );
}

export function groupKey(group) {
  return list(group.ids)
    .slice()
    .sort((a, b) => a - b)
    .join(',');
}

export function updateMissedCount() {
  const n = state.missed.length;
  ui.missedCount.textContent = n ? `(${n})` : '';
}

export function topicSelect(id, selected) {
  const select = el('select', { id, className: 'missed-topic' });
  select.appendChild(el('option', { value: '', text: copy.chooseTopic }));
  for (const topic of state.topics) {
    select.appendChild(el('option', { value: str(topic.name), text: `${str(topic.title)} (${str(topic.name)})` }));
  }
  if (selected && topicByName(selected)) select.value = selected;
  return select;
}

export function guessText(group) {
  if (group.guess_topic) return topicLabel(group.guess_topic);
  if (group.guess_title) return str(group.guess_title);
  if (group.guess) return str(group.guess);
  return copy.noGuess;
}

export function renderMissed() {
  ensureSortControl();
  updateMissedCount();
  redrawList(ui.missedList, ui.missedEmpty, state.missed, (group, index) => {
    const gkey = groupKey(group);
    const base = `missed-${index}`;
    const titleId = `${base}-title`;
    const errorId = `${base}-error`;
    const chosen = state.missedChoice.has(gkey) ? state.missedChoice.get(gkey) : group.guess_topic;
    const select = topicSelect(`${base}-topic`, chosen);
    select.setAttribute('aria-describedby', errorId);
    select.dataset.focusKey = `select:${gkey}`;
    select.addEventListener('change', () => {
      state.missedChoice.set(gkey, select.value);
      select.removeAttribute('aria-invalid');
    });
    const texts = list(group.texts).map(str).slice(0, MISSED_TEXTS_SHOWN);
    const count = Number(group.count) || list(group.ids).length;
    const reasons = list(group.reasons).filter((r) => r && (r.label || r.reason));
    const item = el('li', {
      className: 'card missed-group',
      'aria-labelledby': titleId,
      dataset: { ids: list(group.ids).join(',') },
    });
    const errorLine = el('p', { id: errorId, className: 'error group-error' });
    const buttons = [];
    const act = (fn) => async () => {
      for (const b of buttons) b.disabled = true;
      select.disabled = true;
      try {
        await fn({ group, index, select, errorLine });
      } finally {
        if (item.isConnected) {
          for (const b of buttons) b.disabled = false;
          select.disabled = false;
        }
      }
    };
    buttons.push(
      el('button', {
        type: 'button',
        className: 'missed-add',
        'aria-describedby': titleId,
        dataset: { focusKey: `add:${gkey}` },
        text: copy.addAsExamples,
        onclick: act(missedAdd),
      }),
      el('button', {
        type: 'button',
        className: 'button-secondary missed-new-topic',
        'aria-describedby': titleId,
        dataset: { focusKey: `new:${gkey}` },
        text: copy.newTopicFromGroup,
        onclick: () => missedNewTopic(group),
      }),
      el('button', {
        type: 'button',
        className: 'button-secondary missed-dismiss',
        'aria-describedby': titleId,
        dataset: { focusKey: `dismiss:${gkey}` },
        text: copy.dismiss,
        onclick: act(missedDismiss),
      })
    );
    item.appendChild(el('h3', { id: titleId, className: 'card-title', text: quoted(str(group.representative)) }));
    item.appendChild(
      el('p', { className: 'missed-facts' }, [
        el('strong', { text: plural(count, copy.timesOne, copy.timesMany) }),
        group.last_seen ? ` · ${copy.lastSeen} ` : null,
        timeElement(group.last_seen),
      ])
    );
    if (reasons.length) {
      item.appendChild(
        el('ul', { className: 'tags', 'aria-label': copy.reasons }, reasons.map((r) =>
          el('li', { className: 'tag', text: `${str(r.label || r.reason)} (${Number(r.count) || 0})` })
        ))
      );
    }
    item.appendChild(el('p', {}, [el('strong', { text: `${copy.botGuess}: ` }), guessText(group)]));
    if (texts.length) {
      item.appendChild(
        el('details', { className: 'missed-texts' }, [
          el('summary', {}, [
            format(copy.wordings, { n: texts.length }),
            vh(` ${format(copy.inGroup, { group: quoted(str(group.representative)) })}`),
          ]),
          el('ul', {}, texts.map((t) => el('li', { text: t }))),
        ])
      );
    }
    item.appendChild(
      el('div', { className: 'missed-actions' }, [
        el('div', { className: 'inline-field' }, [el('label', { for: select.id, text: copy.topic }), select]),
        buttons[0],
        buttons[1],
        buttons[2],
      ])
    );
    item.appendChild(errorLine);
    return item;
  });
}

/** Removes a handled group and puts focus on the next one (or the heading). */
export function dropGroup(group, index) {
  state.missed = state.missed.filter((g) => g !== group);
  state.missedChoice.delete(groupKey(group));
  renderMissed();
  const selects = ui.missedList.querySelectorAll('.missed-topic');
  if (selects.length) selects[Math.min(index, selects.length - 1)].focus();
  else ui.missedTitle.focus();
}

export function groupError(ctx, message, invalidSelect) {
  ctx.errorLine.textContent = message;
  if (invalidSelect) ctx.select.setAttribute('aria-invalid', 'true');
  setAlert(message);
}

export async function missedAdd(ctx) {
  const name = ctx.select.value;
  ctx.errorLine.textContent = '';
  ctx.select.removeAttribute('aria-invalid');
  clearAlert();
  if (!name) {
    groupError(ctx, copy.chooseTopicFirst, true);
    ctx.select.disabled = false;
    ctx.select.focus();
    return;
  }
  const texts = list(ctx.group.texts).map(str);
  try {
    const data = await api('GET', topicPath(name));
    const topic = data.topic || {};
    const result = await api('POST', topicPath(name, '/examples'), {
      examples: texts,
      version: str(topic.version),
      missed_ids: list(ctx.group.ids),
    });
    setStatus(
      format(copy.missedAdded, {
        topic: quoted(str(topic.title || name)),
        summary: str(result.summary),
        group: quoted(str(ctx.group.representative)),
      })
    );
    dropGroup(ctx.group, ctx.index);
    loadTopics();
    if (state.panel === 'topic' && state.current && state.current.topic.name === name) reloadTopic();
  } catch (err) {
    groupError(ctx, err.message, err.status === 404);
  }
}

export async function missedDismiss(ctx) {
  ctx.errorLine.textContent = '';
  clearAlert();
  try {
    const result = await api('POST', editor('/missed/dismiss'), { ids: list(ctx.group.ids) });
    const n = Number(result.dismissed);
    const group = quoted(str(ctx.group.representative));
    setStatus(
      Number.isFinite(n)
        ? format(copy.missedDismissedCount, { group, questions: plural(n, copy.questionsOne, copy.questionsMany) })
        : format(copy.missedDismissed, { group })
    );
    dropGroup(ctx.group, ctx.index);
  } catch (err) {
    groupError(ctx, err.message, false);
  }
}

export function missedNewTopic(group) {
  const texts = list(group.texts).map(str);
  openNewTopic({
    examples: texts,
    missedIds: list(group.ids),
    origin: format(copy.missedOrigin, { group: quoted(str(group.representative)), min: MIN_EXAMPLES }),
  });
}

ui.missedRefresh.addEventListener('click', () => {
  loadMissed();
  loadAnswered();
  setStatus(copy.missedRefreshed);
});
