/*
 * An agent's capacity (how many chats they hold at once, 0-20) as a supervisor sets it on the floor
 * (floor.js): PUT /api/agent/agents/{id}/capacity. Checked here first (a whole number 0-20) and by the
 * service; either refusal is shown in Finnish beside the field, which is marked invalid. The service
 * tells every console (the `presence` event) and the floor (the `floor` event), so other consoles follow.
 * The floor is drawn again on every change: what a supervisor is typing and the last error stay.
 */
import { el, str } from '../lib/dom.js';
import { format } from '../lib/format.js';
import { api } from './http.js';
import { announce, copy } from './state.js';

export const MAX_CAPACITY = 20;
const drafts = new Map(); // agent id -> the value typed and not saved yet
const errors = new Map(); // agent id -> why the last save was refused

/** The value typed, as a capacity; null when it is not a whole number 0-20. */
export function parseCapacity(text) {
  const value = str(text).trim();
  if (!/^\d{1,2}$/.test(value)) return null;
  const n = Number(value);
  return n <= MAX_CAPACITY ? n : null;
}

export function capacityCell(agent, name) {
  const id = `capacity-${agent.id}`;
  const errorId = `${id}-error`;
  const error = errors.get(agent.id) || '';
  const input = el('input', {
    id,
    type: 'number',
    inputmode: 'numeric',
    min: '0',
    max: String(MAX_CAPACITY),
    step: '1',
    className: 'capacity-input',
    value: drafts.has(agent.id) ? drafts.get(agent.id) : str(agent.capacity),
    'aria-invalid': error ? 'true' : null,
    'aria-describedby': errorId,
    dataset: { focusKey: `capacity:${agent.id}` },
    oninput: (event) => drafts.set(agent.id, event.target.value),
  });
  const message = el('p', { id: errorId, className: 'error capacity-error', text: error });
  const form = el('form', { className: 'capacity-form', novalidate: true }, [
    el('label', { for: id, className: 'vh', text: format(copy.floorCapacityLabel, { agent: name }) }),
    input,
    el('button', {
      type: 'submit',
      className: 'button-secondary',
      dataset: { focusKey: `capacity-save:${agent.id}` },
      'aria-label': format(copy.floorCapacitySaveFor, { agent: name }),
      text: copy.floorCapacitySave,
    }),
    message,
  ]);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    save(agent, name, input, message);
  });
  return el('td', {}, [form]);
}

function refused(agentId, input, message, text) {
  errors.set(agentId, text);
  message.textContent = text;
  input.setAttribute('aria-invalid', 'true');
  input.focus();
}

async function save(agent, name, input, message) {
  const value = parseCapacity(input.value);
  if (value === null) {
    refused(agent.id, input, message, copy.floorCapacityInvalid);
    return;
  }
  try {
    const updated = await api('PUT', `/agents/${encodeURIComponent(agent.id)}/capacity`, { capacity: value });
    drafts.delete(agent.id);
    errors.delete(agent.id);
    message.textContent = '';
    input.removeAttribute('aria-invalid');
    announce(format(copy.floorCapacitySaved, { agent: name, capacity: updated.capacity }));
  } catch (err) {
    refused(agent.id, input, message, err.message); // the service's Finnish reason
  }
}
