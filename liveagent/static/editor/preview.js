import { el, str } from '../lib/dom.js';
import { format } from '../lib/format.js';
import { linkified } from '../lib/links.js';
import { MAX_ANSWER_CHARS, charCount, copy, list, quoted, setStatus, widgetCopy } from './state.js';

// ---- the widget's bot message, for the preview ---------------------------------------------------------
export function previewTime() {
  return new Date().toLocaleTimeString('fi-FI', { hour: '2-digit', minute: '2-digit' });
}

/** The DOM widget.js renderEntry() builds for a bot message with quick replies. */
export function botMessage(text, buttons, emptyNote, onButton) {
  const body = el('p', { className: 'lumo-chat-text' });
  if (text) body.appendChild(linkified(text, widgetCopy.newWindow, 'lumo-chat-vh'));
  else body.appendChild(el('span', { className: 'preview-empty', text: emptyNote }));
  const item = el('div', { className: 'lumo-chat-message lumo-chat-message--bot' }, [
    el('p', { className: 'lumo-chat-meta' }, [
      el('span', { className: 'lumo-chat-sender', text: widgetCopy.bot }),
      el('span', { className: 'lumo-chat-time' }, [' · ', previewTime()]),
      el('span', { className: 'lumo-chat-vh', text: ': ' }),
    ]),
    body,
    el('p', { className: 'lumo-chat-delivery', hidden: true }),
  ]);
  const replies = list(buttons).filter((b) => b && b.title);
  if (replies.length) {
    const group = el('div', { className: 'lumo-chat-quick-replies', role: 'group', 'aria-label': widgetCopy.quickReplies });
    for (const reply of replies) {
      group.appendChild(
        el('button', {
          type: 'button',
          className: 'lumo-chat-quick-reply',
          text: str(reply.title),
          onclick: () => onButton(reply),
        })
      );
    }
    item.appendChild(group);
  }
  return item;
}

/** A still picture of the widget's panel: header and a log with the given messages. */
export function widgetPanel(label, messages) {
  return el('div', { className: 'lumo-chat-panel preview-panel', role: 'group', 'aria-label': label }, [
    el('div', { className: 'lumo-chat-header' }, [el('p', { className: 'lumo-chat-title', text: widgetCopy.title })]),
    el('div', { className: 'lumo-chat-log' }, messages),
  ]);
}

export function renderPreview(container, titleContainer, answer, title, buttons) {
  container.textContent = '';
  container.appendChild(
    widgetPanel(copy.previewAnswer, [
      // In the preview a button tells what it would send.
      botMessage(answer.trim(), buttons, copy.previewAnswerEmpty, (reply) =>
        setStatus(
          format(copy.previewButton, {
            button: quoted(str(reply.title)),
            payload: quoted(str(reply.payload || reply.title)),
          })
        )
      ),
    ])
  );
  titleContainer.textContent = '';
  titleContainer.appendChild(
    widgetPanel(copy.previewTitle, [
      // The "did you mean" button sends the topic's example question (actions/fallback.py).
      botMessage(copy.rephrase, [{ title: title.trim() || copy.previewTitleMissing }], '', () =>
        setStatus(copy.previewTitleButton)
      ),
    ])
  );
}

export function renderCounter(node, text) {
  const n = charCount(text.trim());
  const over = n - MAX_ANSWER_CHARS;
  node.textContent = format(over > 0 ? copy.counterOver : copy.counter, { n, max: MAX_ANSWER_CHARS, over });
  node.classList.toggle('counter--over', over > 0);
}
