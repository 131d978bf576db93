import { el, redrawList, str } from '../lib/dom.js';
import { format } from '../lib/format.js';
import { api } from './http.js';
import { refreshShortcuts } from './shortcuts.js';
import { announce, copy, state, ui } from './state.js';

// ---- canned replies: the picker's list, and the supervisors' view to create, edit and delete them ----------------
// Every change reaches every open console as the websocket's `canned` event (the whole list), so the
// picker, the "/" search and this view show the same replies everywhere without a reload.
export function byTitle(a, b) {
  return str(a.title).localeCompare(str(b.title), 'fi') || Number(a.id) - Number(b.id);
}

export async function loadCanned() {
  try {
    const data = await api('GET', '/canned');
    setCanned(Array.isArray(data.canned) ? data.canned : []);
    ui.cannedError.textContent = '';
  } catch (err) {
    ui.cannedError.textContent = err.message;
    setCanned(state.canned);
  }
}

export function setCanned(items) {
  state.canned = items.filter((item) => item && item.id !== undefined).slice().sort(byTitle);
  renderPicker();
  renderCannedAdmin();
  refreshShortcuts();
  if (state.cannedEditing !== null && !state.canned.some((c) => c.id === state.cannedEditing)) {
    // Deleted meanwhile (by another supervisor): the texts stay in the form, to be saved as a new one.
    newCannedMode();
    ui.cannedFormError.textContent = copy.cannedEditGone;
  }
}

function newCannedMode() {
  state.cannedEditing = null;
  ui.cannedFormTitle.textContent = copy.cannedNew;
  ui.cannedCancel.hidden = true;
}

function renderPicker() {
  const selected = ui.cannedSelect.value;
  ui.cannedSelect.textContent = '';
  ui.cannedSelect.appendChild(el('option', { value: '', text: state.canned.length ? copy.cannedChoose : copy.cannedNone }));
  for (const item of state.canned) {
    ui.cannedSelect.appendChild(el('option', { value: str(item.id), text: str(item.title) }));
  }
  if (state.canned.some((c) => str(c.id) === selected)) ui.cannedSelect.value = selected;
}

function renderCannedAdmin() {
  redrawList(ui.cannedList, ui.cannedEmpty, state.canned, (item) => {
    const headingId = `canned-item-${str(item.id)}`;
    return el('li', { className: 'card canned-item' }, [
      el('h4', { id: headingId, className: 'card-title', text: str(item.title) }),
      el('p', { className: 'msg-text', text: str(item.text) }),
      el('div', { className: 'card-actions' }, [
        el('button', {
          type: 'button',
          className: 'button-secondary',
          'aria-describedby': headingId,
          dataset: { focusKey: `canned-edit:${str(item.id)}` },
          text: copy.cannedEdit,
          onclick: () => editCanned(item),
        }),
        el('button', {
          type: 'button',
          className: 'button-danger',
          'aria-describedby': headingId,
          dataset: { focusKey: `canned-delete:${str(item.id)}` },
          text: copy.cannedDelete,
          onclick: () => deleteCanned(item),
        }),
      ]),
    ]);
  });
}

export function resetCannedForm() {
  newCannedMode();
  ui.cannedForm.reset();
  ui.cannedFormError.textContent = '';
}

export function editCanned(item) {
  state.cannedEditing = item.id;
  ui.cannedTitleInput.value = str(item.title);
  ui.cannedTextInput.value = str(item.text);
  ui.cannedFormError.textContent = '';
  ui.cannedFormTitle.textContent = format(copy.cannedEditing, { title: str(item.title) });
  ui.cannedCancel.hidden = false;
  ui.cannedTitleInput.focus();
}

function upsert(item) {
  setCanned(state.canned.filter((c) => c.id !== item.id).concat([item]));
}

export async function saveCanned() {
  const title = ui.cannedTitleInput.value.trim();
  const text = ui.cannedTextInput.value.trim();
  if (!title || !text) {
    ui.cannedFormError.textContent = copy.cannedMissing;
    (title ? ui.cannedTextInput : ui.cannedTitleInput).focus();
    return;
  }
  const editing = state.cannedEditing;
  ui.cannedSave.disabled = true;
  try {
    const item = editing === null
      ? await api('POST', '/canned', { title, text })
      : await api('PUT', `/canned/${encodeURIComponent(editing)}`, { title, text });
    resetCannedForm();
    upsert(item);
    announce(format(editing === null ? copy.cannedCreated : copy.cannedUpdated, { title: str(item.title) }));
    ui.cannedTitleInput.focus();
  } catch (err) {
    ui.cannedFormError.textContent = err.message; // the texts stay in the form
  } finally {
    ui.cannedSave.disabled = false;
  }
}

export async function deleteCanned(item) {
  if (!window.confirm(format(copy.cannedDeleteConfirm, { title: str(item.title) }))) return;
  try {
    await api('DELETE', `/canned/${encodeURIComponent(item.id)}`);
    setCanned(state.canned.filter((c) => c.id !== item.id));
    ui.cannedError.textContent = '';
    announce(format(copy.cannedDeleted, { title: str(item.title) }));
    ui.cannedAdminTitle.focus();
  } catch (err) {
    ui.cannedError.textContent = err.message;
    if (err.status === 404) loadCanned(); // already gone: show the list as it is
  }
}

ui.cannedForm.addEventListener('submit', (event) => {
  event.preventDefault();
  saveCanned();
});
ui.cannedCancel.addEventListener('click', () => {
  resetCannedForm();
  ui.cannedTitleInput.focus();
});
