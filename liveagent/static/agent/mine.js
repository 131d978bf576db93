import { el, redrawList, str, vh } from '../lib/dom.js';
import { plural } from '../lib/format.js';
import { openConversation, renderBrief } from './chat.js';
import { api } from './http.js';
import { renderLoad } from './load.js';
import { copy, customerLabel, handoverText, state, ui } from './state.js';

// ---- my conversations ---------------------------------------------------------------------------------
export async function loadMine() {
  try {
    const data = await api('GET', '/conversations');
    state.mine = (data.conversations || []).filter((c) => c && c.id);
    if (state.open) {
      const fresh = state.mine.find((c) => c.id === state.open.brief.id);
      if (fresh) {
        state.open.brief = fresh;
        renderBrief();
      }
    }
    renderMine();
  } catch (err) {
    /* shown by the next successful load */
  }
}

export let mineTimer = null;
export function loadMineSoon() {
  window.clearTimeout(mineTimer);
  mineTimer = window.setTimeout(loadMine, 300);
}

export function upsertMine(brief) {
  if (!brief || !brief.id) return;
  const index = state.mine.findIndex((c) => c.id === brief.id);
  const mineNow = brief.state === 'assigned' && state.me && brief.agent_id === state.me.id;
  if (mineNow) {
    if (index >= 0) state.mine[index] = Object.assign({}, state.mine[index], brief);
    else state.mine.push(brief);
  } else if (index >= 0) {
    state.mine.splice(index, 1);
  }
  renderMine();
}

export function renderMine() {
  renderLoad();
  redrawList(ui.mineList, ui.mineEmpty, state.mine, (brief) => {
    const isOpen = state.open && state.open.brief.id === brief.id;
    const unread = typeof brief.unread === 'number' ? brief.unread : 0;
    const button = el(
      'button',
      {
        type: 'button',
        className: 'mine-button',
        'aria-current': isOpen ? 'true' : null,
        dataset: { focusKey: `mine:${brief.id}` },
        onclick: () => openConversation(brief.id),
      },
      [
        el('span', { className: 'mine-name', text: customerLabel(brief) }),
        unread > 0
          ? el('span', { className: 'badge' }, [
              el('span', { 'aria-hidden': 'true', text: String(unread) }),
              vh(` ${plural(unread, copy.unreadOne, copy.unreadMany)}`),
            ])
          : null,
        handoverText(brief) ? el('span', { className: 'mine-last handover', text: handoverText(brief) }) : null,
        brief.unanswered
          ? el('span', { className: 'mine-last unanswered' }, [
              el('strong', { text: `${copy.unanswered}: ` }),
              str(brief.unanswered.text),
            ])
          : brief.last_message
            ? el('span', { className: 'mine-last', text: str(brief.last_message) })
            : null,
        brief.reason_text ? el('span', { className: 'mine-last', text: str(brief.reason_text) }) : null,
      ]
    );
    return el('li', {}, [button]);
  });
}
