/*
 * DOM helpers shared by the widget, the agent console and the editor. Nothing here parses text as
 * HTML: text goes in with textContent / createTextNode only.
 */

/** An element with properties and children: el('p', {className: 'x', text: 'moi'}, [child, 'text']). */
export function el(tag, props, children) {
  const node = document.createElement(tag);
  if (props) {
    for (const [name, value] of Object.entries(props)) {
      if (value === null || value === undefined || value === false) continue;
      if (name === 'className') node.className = value;
      else if (name === 'text') node.textContent = value;
      else if (name === 'hidden') node.hidden = true;
      else if (name === 'dataset') Object.assign(node.dataset, value);
      else if (name.startsWith('on') && typeof value === 'function') node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? '' : String(value));
    }
  }
  for (const child of children || []) {
    if (child === null || child === undefined || child === false) continue;
    node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return node;
}

/** Text for screen readers only (the page's stylesheet hides `className` visually). */
export function vh(text, className = 'vh') {
  return el('span', { className, text });
}

/** A value as text; null and undefined as ''. */
export function str(value) {
  return value === null || value === undefined ? '' : String(value);
}

/** Set text only when it changed, so an unchanged live region is not announced again. */
export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

/** Keep keyboard focus on "the same" control when a list is drawn again: its data-focus-key... */
export function focusKeyInside(container) {
  const active = document.activeElement;
  return active && container.contains(active) && active.dataset ? active.dataset.focusKey || null : null;
}

/** ...and focus it again in the redrawn list. */
export function restoreFocus(container, key) {
  if (!key) return;
  const target = container.querySelector(`[data-focus-key="${CSS.escape(key)}"]`);
  if (target) target.focus();
}

/**
 * A list drawn again: `list` gets render(item, index) for each of `items`, keyboard focus stays on the
 * same control (its data-focus-key), and `empty` (the "nothing here" note) shows only for no items.
 */
export function redrawList(list, empty, items, render) {
  const key = focusKeyInside(list);
  list.textContent = '';
  empty.hidden = items.length > 0;
  items.forEach((item, index) => list.appendChild(render(item, index)));
  restoreFocus(list, key);
}
