import { el, str } from '../lib/dom.js';
import { plural } from '../lib/format.js';
import { announce, copy, state, ui } from './state.js';

// ---- "/" in the reply box: search the canned replies while typing ------------------------------------------------
// The reply box is the combobox's text field (aria-autocomplete="list", aria-controls the listbox and
// aria-activedescendant its active option); the list below it shows the canned replies whose title or
// text has every word typed after the "/". Arrow keys choose, Enter or a click inserts (the "/word"
// is replaced), Esc closes until another "/" is typed. reply.js hands every key press here first.
export const MAX_SHOWN = 8;
// A "/" at the start or after a space, then up to 40 characters of one line up to the caret: a URL's
// slashes or "ja/tai" never open the list.
const SHORTCUT = /(^|\s)\/([^\n/]{0,40})$/;

let shortcut = null; // {slash: index of the "/", query, matches, active: index in matches}
let dismissedSlash = null; // the "/" whose list Esc closed

/** The "/word" being typed before the caret: {slash, query}, or null. */
export function shortcutAt(value, caret) {
  const match = SHORTCUT.exec(value.slice(0, caret));
  if (!match) return null;
  return { slash: match.index + match[1].length, query: match[2] };
}

/** The canned replies with every word of `query` in their title or text; title matches first. */
export function cannedMatches(query) {
  const words = query.toLocaleLowerCase('fi').split(/\s+/).filter(Boolean);
  const scored = [];
  for (const item of state.canned) {
    const title = str(item.title).toLocaleLowerCase('fi');
    const haystack = `${title} ${str(item.text).toLocaleLowerCase('fi')}`;
    if (!words.every((word) => haystack.includes(word))) continue;
    const rank = !words.length || title.startsWith(words[0]) ? 0 : words.every((w) => title.includes(w)) ? 1 : 2;
    scored.push([rank, item]);
  }
  return scored.sort((a, b) => a[0] - b[0]).map(([, item]) => item).slice(0, MAX_SHOWN);
}

export function shortcutsOpen() {
  return shortcut !== null;
}

function optionId(item) {
  return `canned-option-${str(item.id)}`;
}

export function closeShortcuts() {
  shortcut = null;
  ui.suggestionsBox.hidden = true;
  ui.suggestions.textContent = '';
  ui.replyInput.removeAttribute('aria-activedescendant');
}

/** Opens, updates or closes the list for what is typed before the caret. */
export function updateShortcuts() {
  const input = ui.replyInput;
  const found = input.selectionStart === input.selectionEnd ? shortcutAt(input.value, input.selectionStart) : null;
  if (!found || input.disabled) {
    dismissedSlash = null;
    if (shortcut) closeShortcuts();
    return;
  }
  if (found.slash === dismissedSlash) return;
  const matches = cannedMatches(found.query);
  const before = shortcut;
  const keep = before && before.matches[before.active] ? matches.indexOf(before.matches[before.active]) : -1;
  shortcut = { slash: found.slash, query: found.query, matches, active: Math.max(0, keep) };
  renderShortcuts();
  if (!before || before.matches.length !== matches.length) {
    announce(matches.length ? plural(matches.length, copy.shortcutOne, copy.shortcutMany) : shortcutNone());
  }
}

function shortcutNone() {
  return state.canned.length ? copy.shortcutNoMatch : copy.cannedNone;
}

/** The canned replies changed (another supervisor, or this one): an open list shows the new ones. */
export function refreshShortcuts() {
  if (shortcut) updateShortcuts();
}

function renderShortcuts() {
  const { matches, active } = shortcut;
  ui.suggestions.textContent = '';
  matches.forEach((item, index) => {
    ui.suggestions.appendChild(
      el(
        'li',
        {
          id: optionId(item),
          role: 'option',
          className: 'suggestion',
          'aria-selected': String(index === active),
          onmousedown: (event) => event.preventDefault(), // the reply box keeps the focus
          onclick: () => chooseShortcut(item),
        },
        [el('span', { className: 'suggestion-title', text: str(item.title) }), el('span', { className: 'suggestion-text', text: str(item.text) })]
      )
    );
  });
  ui.suggestionsEmpty.textContent = matches.length ? '' : shortcutNone();
  ui.suggestionsBox.hidden = false;
  if (matches.length) {
    ui.replyInput.setAttribute('aria-activedescendant', optionId(matches[active]));
    const option = document.getElementById(optionId(matches[active]));
    if (option) option.scrollIntoView({ block: 'nearest' });
  } else {
    ui.replyInput.removeAttribute('aria-activedescendant');
  }
}

/** Puts `text` in the reply box in place of start..end, the caret after it (typing is announced as usual). */
export function insertText(text, start, end) {
  const input = ui.replyInput;
  input.value = input.value.slice(0, start) + text + input.value.slice(end);
  input.focus();
  const caret = start + text.length;
  input.setSelectionRange(caret, caret);
  input.dispatchEvent(new Event('input', { bubbles: true }));
}

export function chooseShortcut(item) {
  if (!shortcut) return;
  const { slash } = shortcut;
  closeShortcuts();
  insertText(str(item.text), slash, ui.replyInput.selectionStart);
  announce(copy.shortcutInserted);
}

/** A key pressed in the reply box: true when the list used it (reply.js then does nothing with it). */
export function shortcutKey(event) {
  if (!shortcut) return false;
  const { matches } = shortcut;
  if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
    if (matches.length) {
      const step = event.key === 'ArrowDown' ? 1 : -1;
      shortcut.active = (shortcut.active + step + matches.length) % matches.length;
      renderShortcuts();
    }
    event.preventDefault();
    return true;
  }
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault(); // never sends the "/word" itself
    if (matches.length) chooseShortcut(matches[shortcut.active]);
    else announce(shortcutNone());
    return true;
  }
  if (event.key === 'Escape') {
    event.preventDefault();
    dismissedSlash = shortcut.slash;
    closeShortcuts();
    announce(copy.shortcutClosed);
    return true;
  }
  return false;
}

ui.replyInput.addEventListener('input', updateShortcuts);
ui.replyInput.addEventListener('click', updateShortcuts);
ui.replyInput.addEventListener('keyup', (event) => {
  if (['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(event.key)) updateShortcuts();
});
ui.replyInput.addEventListener('blur', () => {
  dismissedSlash = null;
  if (shortcut) closeShortcuts();
});
