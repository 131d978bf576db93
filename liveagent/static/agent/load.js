/*
 * The agent's own load ("2/3": chats held against their capacity, beside "Omat keskustelut") and the
 * alert when a chat becomes theirs without a claim: automatic assignment, a transfer, a supervisor's
 * move. Sound, the title badge (such chats count in it until opened, like waiting ones) and the
 * browser notification, as for a new chat in the queue.
 */
import { format } from '../lib/format.js';
import { beep, notify } from './alerts.js';
import { updateTitle } from './queue.js';
import { $, announce, copy, customerLabel, state } from './state.js';

const fresh = new Set(); // chats that became mine and that I have not opened yet

/** How many chats wait for my attention in the title badge, beside the queue. */
export function freshCount() {
  return fresh.size;
}

/** A chat became mine without my claim: alerted as a transfer when it was one, else as an assignment. */
export function alertArrived(brief) {
  const customer = customerLabel(brief);
  const transfer = brief.handover && brief.handover.kind === 'transfer';
  fresh.add(brief.id);
  beep();
  announce(format(transfer ? copy.transferredToYou : copy.assignedToYou, { customer }));
  notify(transfer ? copy.transferredToYouTitle : copy.assignedToYouTitle, customer);
  updateTitle();
}

/** "2/3" beside my chats; called whenever my chats or my capacity change. */
export function renderLoad() {
  const node = $('mine-load');
  if (!node || !state.me) return;
  const open = state.open && state.open.brief.id;
  for (const id of [...fresh]) {
    if (id === open || !state.mine.some((c) => c.id === id)) fresh.delete(id);
  }
  const values = { load: state.mine.length, capacity: state.me.capacity ?? 0 };
  node.textContent = '';
  const visible = document.createElement('span');
  visible.setAttribute('aria-hidden', 'true');
  visible.textContent = format(copy.loadVisible, values);
  const spoken = document.createElement('span');
  spoken.className = 'vh';
  spoken.textContent = format(copy.loadSpoken, values);
  node.append(visible, spoken);
  node.classList.toggle('load-full', values.load >= values.capacity);
  updateTitle();
}
