/*
 * Lumo-chat: the visitor chat widget of the live-agent service (docs/agent-api.md, "Visitor channel").
 *
 * Embed with one tag:  <script src="/static/dist/widget.js" defer></script>
 *   data-server  service URL (default: the origin this script was loaded from)
 *   data-title   panel title (default "Lumo-chat")
 *   data-open    "true" to start with the panel open
 * A logged-in visitor's signed token: window.LumoChat.setAuthToken(token), or
 * window.lumoChatConfig = {authToken: token} before this script runs. A page that fetches the token
 * after loading sets lumoChatConfig.authPending = true: the widget then waits for setAuthToken (at most
 * AUTH_WAIT_MS) before it asks for its session, because the service replays a chat only to the
 * customer it belongs to (a session token is bound to the verified customer, or to nobody).
 *
 * The widget loads vendor/socket.io.min.js and widget.css from its own base URL. Everything that
 * comes from the server or the visitor is put on the page with textContent / createTextNode only;
 * https links in bot and agent text are built with createElement after checking the URL scheme.
 *
 * Local state lives in localStorage under "lumo-chat": the session token, the newest message id
 * seen (sent back as last_seen_id) and the transcript, so a reload or a second tab shows the same
 * chat without asking the server for everything again. Messages are deduplicated by their id.
 * Whether the panel is open lives in sessionStorage ("lumo-chat-open"): a reload or another page of
 * the site in the same tab opens it as the visitor left it; another tab starts closed.
 *
 * The log starts with a greeting and topic suggestions from copy/widget.fi.json, drawn here (Rasa is
 * not asked): the suggestions send their question like typed text and go away with the first message.
 * The message limit is the service's (session_confirm max_message_chars, counted in code points as
 * the service counts): a longer message is refused before sending with a note under the input and
 * stays there to be shortened; nothing is cut. On phones (max-width 480px) the panel fills the
 * visual viewport, which the on-screen keyboard shrinks (visualViewport), so the input stays in view.
 */
import { el, setText, vh } from '../lib/dom.js';
import { clockTime, format, plural, wholeNumber } from '../lib/format.js';
import { linkified } from '../lib/links.js';
import { isOutdated } from './status.js';
import T from '../copy/widget.fi.json';
import { transcriptButton } from './transcript.js';

/** Build the widget and mount it on the page (once per page: see main.js). */
export function startWidget() {
  const VERSION = '1.0.0';
  const STORAGE_KEY = 'lumo-chat';
  const OPEN_KEY = 'lumo-chat-open'; // sessionStorage: this tab's panel was left open
  const LENGTH_NOTE_SHARE = 0.8; // the character count shows from this share of the limit on
  const MAX_CACHED_MESSAGES = 200;
  const TYPING_IDLE_MS = 3000;
  const TYPING_REFRESH_MS = 5000;
  const TYPING_INDICATOR_TIMEOUT_MS = 15000;
  const AUTH_WAIT_MS = 5000;


  // ---- where we were loaded from, and the options ------------------------------------------
  const script =
    document.currentScript ||
    Array.from(document.getElementsByTagName('script'))
      .reverse()
      .find((s) => /\/widget\.js(?:[?#]|$)/.test(s.src));
  const scriptUrl = new URL(script && script.src ? script.src : window.location.href, window.location.href);
  const baseUrl = new URL('..', scriptUrl); // the static root: this file is dist/widget.js
  const dataset = (script && script.dataset) || {};
  const pageConfig = window.lumoChatConfig && typeof window.lumoChatConfig === 'object' ? window.lumoChatConfig : {};
  const serverUrl = new URL(dataset.server || pageConfig.server || scriptUrl.origin, window.location.href);
  const socketOrigin = serverUrl.origin;
  const socketPath = serverUrl.pathname.replace(/\/+$/, '') + '/socket.io/';
  const title = dataset.title || pageConfig.title || T.title;
  const startOpen = dataset.open === 'true' || pageConfig.open === true;

  let authToken = typeof pageConfig.authToken === 'string' && pageConfig.authToken ? pageConfig.authToken : null;
  let authPending = pageConfig.authPending === true && !authToken; // the page is still fetching the token
  if (authPending) {
    setTimeout(() => {
      if (!authPending) return;
      authPending = false;
      sessionRequest();
    }, AUTH_WAIT_MS);
  }

  /** Whose session this tab would get: the customer (`sub`) of the page's token, or null. Tabs with
   * different customers keep their own sessions instead of taking each other's from localStorage.
   * Read only to compare; the service verifies the token itself. */
  function currentOwner() {
    if (!authToken) return null;
    try {
      const part = authToken.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      const claims = JSON.parse(window.atob(part + '==='.slice((part.length + 3) % 4)));
      return typeof claims.sub === 'string' ? claims.sub : authToken;
    } catch (err) {
      return authToken;
    }
  }

  /** The conversation a session token belongs to (the service renews tokens, the conversation stays). */
  function conversationOf(token) {
    return typeof token === 'string' ? token.split('.')[0] : '';
  }

  // ---- small DOM helpers (never innerHTML) --------------------------------------------------
  function visuallyHidden(text) {
    return vh(text, 'lumo-chat-vh');
  }

  /** An SVG element with its attributes. */
  function svgElement(tag, attributes) {
    const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
    return node;
  }

  /** A speech-bubble icon drawn with SVG elements (no image file, no markup string). */
  function chatIcon() {
    const svg = svgElement('svg', {
      viewBox: '0 0 24 24',
      width: '22',
      height: '22',
      'aria-hidden': 'true',
      focusable: 'false',
      class: 'lumo-chat-launcher-icon',
    });
    svg.appendChild(
      svgElement('path', {
        d: 'M4 4h16a2 2 0 0 1 2 2v9a2 2 0 0 1-2 2H10l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z',
        fill: 'none',
        stroke: 'currentColor',
        'stroke-width': '2',
        'stroke-linejoin': 'round',
      })
    );
    return svg;
  }

  let uidCounter = 0;
  function uid(prefix) {
    uidCounter += 1;
    return `${prefix}-${uidCounter}-${Math.random().toString(36).slice(2, 8)}`;
  }

  // ---- persisted state ----------------------------------------------------------------------
  function emptyStore() {
    return {
      v: 1, token: null, owner: null, sessionAt: 0, lastSeenId: 0, messages: [], status: null, contactDismissed: false,
      maxMessageChars: 0, maxCommentChars: 0, ratedScore: null,
    };
  }

  function parseStore(raw) {
    if (!raw) return null;
    try {
      const parsed = JSON.parse(raw);
      if (!parsed || typeof parsed !== 'object' || parsed.v !== 1 || !Array.isArray(parsed.messages)) return null;
      return Object.assign(emptyStore(), parsed);
    } catch (err) {
      return null;
    }
  }

  function readStorage() {
    try {
      return window.localStorage.getItem(STORAGE_KEY);
    } catch (err) {
      return null; // storage blocked: the chat still works for this page
    }
  }

  let store = parseStore(readStorage()) || emptyStore();
  // A message that was still waiting to be sent when its page went away was never sent.
  for (const entry of store.messages) {
    if (entry.unsent) {
      entry.unsent = false;
      entry.failed = true;
    }
  }

  function save() {
    if (store.messages.length > MAX_CACHED_MESSAGES) {
      const dropped = store.messages.splice(0, store.messages.length - MAX_CACHED_MESSAGES);
      for (const entry of dropped) {
        const node = renderedNodes.get(entry.key);
        if (node) node.remove();
        renderedNodes.delete(entry.key);
      }
    }
    try {
      window.localStorage.setItem(STORAGE_KEY, JSON.stringify(store));
    } catch (err) {
      /* storage full or blocked: keep going in memory */
    }
  }

  // ---- the DOM --------------------------------------------------------------------------------
  const ids = {
    panel: uid('lumo-chat-panel'),
    title: uid('lumo-chat-title'),
    input: uid('lumo-chat-input'),
    rating: uid('lumo-chat-rating'),
    contact: uid('lumo-chat-contact'),
    privacy: uid('lumo-chat-privacy'),
    length: uid('lumo-chat-length'),
  };

  const badge = el('span', { className: 'lumo-chat-badge', hidden: true });
  const launcher = el(
    'button',
    {
      type: 'button',
      className: 'lumo-chat-launcher',
      'aria-expanded': 'false',
      'aria-controls': ids.panel,
    },
    [chatIcon(), T.launcher, badge]
  );

  const closeButton = el('button', {
    type: 'button',
    className: 'lumo-chat-close',
    'aria-label': T.close,
    title: T.close,
    text: '×',
  });

  const log = el('div', {
    className: 'lumo-chat-log',
    role: 'log',
    'aria-live': 'polite',
    'aria-label': T.logLabel,
  });

  // Topic suggestions under the greeting: each sends its question as if typed (copy/widget.fi.json).
  const suggestions = el(
    'div',
    { className: 'lumo-chat-quick-replies', role: 'group', 'aria-label': T.suggestionsLabel },
    (Array.isArray(T.suggestions) ? T.suggestions : []).map((question) => {
      const button = el('button', { type: 'button', className: 'lumo-chat-quick-reply' }, [String(question)]);
      button.addEventListener('click', () => {
        sendVisitorMessage(String(question));
        input.focus();
      });
      return button;
    })
  );
  const greeting = el('div', { className: 'lumo-chat-message lumo-chat-greeting' }, [
    el('p', { className: 'lumo-chat-meta' }, [el('span', { className: 'lumo-chat-sender', text: T.bot }), visuallyHidden(': ')]),
    el('p', { className: 'lumo-chat-text', text: T.greeting }),
    suggestions,
  ]);

  const typingLine = el('p', { className: 'lumo-chat-typing', hidden: true });

  const connectionText = el('span', { className: 'lumo-chat-connection' });
  const statusText = el('span', { className: 'lumo-chat-status-text' });
  const statusRegion = el('div', { className: 'lumo-chat-status', role: 'status' }, [connectionText, statusText]);

  // Download the conversation (widget/transcript.js): the session token this tab holds now.
  const saveButton = transcriptButton(
    serverUrl,
    () => ({ token: store.token, authToken }),
    (text) => setText(statusText, text)
  );

  const cancelButton = el('button', {
    type: 'button',
    className: 'lumo-chat-secondary lumo-chat-cancel',
    hidden: true,
    text: T.cancelWaiting,
  });
  // Ends a chat the bot serves; the end-of-chat rating follows (an agent ends theirs).
  const endButton = el('button', {
    type: 'button',
    className: 'lumo-chat-secondary lumo-chat-end',
    hidden: true,
    text: T.endConversation,
  });

  const ratingButtons = [1, 2, 3, 4, 5].map((score) =>
    el('button', { type: 'button', className: 'lumo-chat-rating-button', 'aria-label': format(T.ratingButton, { n: score }) }, [
      String(score),
    ])
  );
  const ratingQuestion = el('p', { id: ids.rating, className: 'lumo-chat-rating-question', text: T.ratingQuestion });
  const ratingBox = el(
    'div',
    { className: 'lumo-chat-rating', role: 'group', 'aria-labelledby': ids.rating, hidden: true },
    [
      ratingQuestion,
      el('div', { className: 'lumo-chat-rating-buttons' }, ratingButtons),
      el('p', { className: 'lumo-chat-rating-scale', text: T.ratingScale }),
    ]
  );
  // After a score: an optional comment, sent with the same score (the latest rating counts).
  const commentInput = el('textarea', { id: uid('lumo-chat-comment'), name: 'comment', rows: '3' });
  const commentError = el('p', { className: 'lumo-chat-error', role: 'alert' });
  const commentSubmit = el('button', { type: 'submit', className: 'lumo-chat-primary', text: T.commentSubmit });
  const commentSkip = el('button', { type: 'button', className: 'lumo-chat-secondary', text: T.commentSkip });
  const commentForm = el('form', { className: 'lumo-chat-contact lumo-chat-comment', novalidate: true, hidden: true }, [
    field(T.commentLabel, commentInput),
    commentError,
    el('div', { className: 'lumo-chat-form-buttons' }, [commentSubmit, commentSkip]),
  ]);
  // What happened to a "was this helpful?" choice or a comment, read out politely once.
  const feedbackLive = el('p', { className: 'lumo-chat-vh', role: 'status', 'aria-live': 'polite' });

  function field(labelText, control) {
    return el('div', { className: 'lumo-chat-field' }, [el('label', { for: control.id, text: labelText }), control]);
  }
  const contactName = el('input', {
    id: uid('lumo-chat-contact-name'),
    type: 'text',
    name: 'name',
    autocomplete: 'name',
    maxlength: '200',
    required: true,
  });
  const contactContact = el('input', {
    id: uid('lumo-chat-contact-contact'),
    type: 'text',
    name: 'contact',
    autocomplete: 'email',
    inputmode: 'email',
    maxlength: '200',
    required: true,
  });
  const contactMessage = el('textarea', {
    id: uid('lumo-chat-contact-message'),
    name: 'message',
    rows: '3',
    maxlength: '500',
    required: true,
  });
  const contactError = el('p', { className: 'lumo-chat-error', role: 'alert' });
  const contactSubmit = el('button', { type: 'submit', className: 'lumo-chat-primary', text: T.contactSubmit });
  const contactCancel = el('button', { type: 'button', className: 'lumo-chat-secondary', text: T.contactCancel });
  const contactForm = el(
    'form',
    { className: 'lumo-chat-contact', 'aria-labelledby': ids.contact, novalidate: true, hidden: true },
    [
      el('h3', { id: ids.contact, text: T.contactHeading }),
      field(T.contactName, contactName),
      field(T.contactContact, contactContact),
      field(T.contactMessage, contactMessage),
      contactError,
      el('div', { className: 'lumo-chat-form-buttons' }, [contactSubmit, contactCancel]),
    ]
  );

  // No maxlength: the browser would cut a long paste without a word. The limit is checked on
  // sending instead (updateLengthNote), and the text stays in the input to be shortened.
  const input = el('input', {
    id: ids.input,
    type: 'text',
    className: 'lumo-chat-input',
    autocomplete: 'off',
    enterkeyhint: 'send',
    placeholder: T.inputLabel,
    'aria-describedby': `${ids.length} ${ids.privacy}`,
  });
  const sendButton = el('button', { type: 'submit', className: 'lumo-chat-primary', text: T.send });
  const composer = el('form', { className: 'lumo-chat-composer' }, [
    el('label', { for: ids.input, className: 'lumo-chat-vh', text: T.inputLabel }),
    input,
    sendButton,
  ]);
  const lengthNote = el('p', { id: ids.length, className: 'lumo-chat-length', hidden: true });
  const lengthAlert = el('p', { className: 'lumo-chat-vh', role: 'alert' }); // the refusal, read out once
  // The conversation scrolls as one: the messages, then the rating question or the contact form
  // under them, so a form never covers the messages nor squeezes into a box of its own.
  const conversation = el('div', { className: 'lumo-chat-conversation', tabindex: '0' }, [log, ratingBox, commentForm, contactForm]);

  const panel = el(
    'section',
    {
      id: ids.panel,
      className: 'lumo-chat-panel',
      role: 'dialog',
      'aria-modal': 'false',
      'aria-labelledby': ids.title,
      hidden: true,
    },
    [
      el('div', { className: 'lumo-chat-header' }, [
        el('h2', { id: ids.title, className: 'lumo-chat-title', text: title }),
        saveButton,
        closeButton,
      ]),
      conversation,
      typingLine,
      statusRegion,
      feedbackLive,
      cancelButton,
      endButton,
      composer,
      lengthNote,
      lengthAlert,
      el('p', { id: ids.privacy, className: 'lumo-chat-privacy', text: T.privacy }),
    ]
  );

  // lumo-chat--floating: the page's own chat (the editor's previews borrow the other classes, not this one)
  const root = el('div', { className: 'lumo-chat lumo-chat--floating', hidden: true }, [panel, launcher]);

  // ---- rendering messages ----------------------------------------------------------------------
  const renderedNodes = new Map(); // entry.key -> element
  // Answers whose feedback the service has just kept: a visible thanks beside the buttons (this page only).
  const thanked = new Set();
  const seenIds = new Set(); // server message ids present in the transcript
  let unreadCount = 0;

  function senderLabel(entry) {
    if (entry.sender === 'visitor') return T.you;
    if (entry.sender === 'agent') return entry.agent_name ? `${entry.agent_name}, ${T.agent}` : T.agentNoName;
    if (entry.sender === 'system') return T.system;
    return T.bot;
  }

  function metaNote(entry) {
    if (entry.unsent) return T.sending;
    if (entry.failed) return T.notSent;
    return '';
  }

  function renderEntry(entry) {
    const sender = ['visitor', 'agent', 'system'].includes(entry.sender) ? entry.sender : 'bot';
    const label = senderLabel(entry);
    const time = clockTime(entry.created_at);
    const meta = el('p', { className: 'lumo-chat-meta' }, [
      sender === 'system' ? visuallyHidden(label + ': ') : el('span', { className: 'lumo-chat-sender', text: label }),
      time && sender !== 'system' ? el('span', { className: 'lumo-chat-time' }, [' · ', time]) : null,
      sender === 'visitor' || sender === 'bot' || sender === 'agent' ? visuallyHidden(': ') : null,
    ]);
    const body = el('p', { className: 'lumo-chat-text' });
    if (sender === 'bot' || sender === 'agent') body.appendChild(linkified(entry.text || '', T.newWindow, 'lumo-chat-vh'));
    else body.textContent = entry.text || '';

    const note = el('p', { className: 'lumo-chat-delivery', text: metaNote(entry) });
    if (!metaNote(entry)) note.hidden = true;

    const item = el('div', { className: `lumo-chat-message lumo-chat-message--${sender}` }, [meta, body, note]);
    if (sender === 'bot' && entry.asks && typeof entry.id === 'number') item.appendChild(feedbackGroup(entry));

    const replies = Array.isArray(entry.quick_replies) ? entry.quick_replies.filter((q) => q && q.title) : [];
    if (replies.length) {
      const group = el('div', { className: 'lumo-chat-quick-replies', role: 'group', 'aria-label': T.quickReplies });
      for (const reply of replies) {
        const button = el('button', { type: 'button', className: 'lumo-chat-quick-reply' }, [String(reply.title)]);
        if (entry.used) button.disabled = true;
        if (entry.chosen === reply.title) {
          button.classList.add('lumo-chat-quick-reply--chosen');
          button.appendChild(visuallyHidden(` (${T.chosen})`));
          button.insertBefore(el('span', { 'aria-hidden': 'true', text: '✓ ' }), button.firstChild);
        }
        button.addEventListener('click', () => {
          if (entry.used) return;
          entry.chosen = String(reply.title);
          sendVisitorMessage(String(reply.payload || reply.title), String(reply.title));
          refreshEntry(entry);
          input.focus();
        });
        group.appendChild(button);
      }
      item.appendChild(group);
    }
    return item;
  }

  /** "Oliko vastauksesta apua?" Kyllä / Ei under a bot answer: toggle buttons (aria-pressed), changeable. */
  function feedbackGroup(entry) {
    const question = el('p', { id: uid('lumo-chat-feedback'), className: 'lumo-chat-feedback-question', text: T.feedbackQuestion });
    const choices = [
      [true, T.feedbackYes],
      [false, T.feedbackNo],
    ].map(([helpful, label]) => {
      const button = el('button', {
        type: 'button',
        className: 'lumo-chat-feedback-button',
        'aria-pressed': String(entry.helpful === helpful),
        text: label,
      });
      button.dataset.helpful = String(helpful);
      button.addEventListener('click', () => giveFeedback(entry, helpful));
      return button;
    });
    // Seen, not read out: the live region has already said it (feedbackLive).
    const thanks = el('span', { className: 'lumo-chat-feedback-thanks', 'aria-hidden': 'true',
                                text: thanked.has(entry.key) ? T.feedbackSaved : '' });
    return el('div', { className: 'lumo-chat-feedback', role: 'group', 'aria-labelledby': question.id }, [
      question,
      el('div', { className: 'lumo-chat-feedback-buttons' }, choices),
      thanks,
    ]);
  }

  /** The buttons show the entry's choice, in place (the focus stays on the pressed button). */
  function showFeedback(entry) {
    const node = renderedNodes.get(entry.key);
    if (!node) return;
    for (const button of node.querySelectorAll('.lumo-chat-feedback-button')) {
      button.setAttribute('aria-pressed', String(String(entry.helpful) === button.dataset.helpful));
    }
    const thanks = node.querySelector('.lumo-chat-feedback-thanks');
    if (thanks) thanks.textContent = thanked.has(entry.key) ? T.feedbackSaved : '';
  }

  function giveFeedback(entry, helpful) {
    if (!socket || !socket.connected || !ready) {
      ensureConnected();
      setConnection(T.disconnected);
      return;
    }
    entry.helpful = helpful;
    thanked.delete(entry.key); // until the service says it kept the choice
    showFeedback(entry);
    setText(feedbackLive, T.feedbackSending);
    socket.emit('answer_feedback', { message_id: entry.id, helpful });
    save();
  }

  /** The service saved a choice (this tab's or another's): every tab shows it. */
  function onFeedbackSaved(data) {
    if (!data || typeof data.message_id !== 'number' || typeof data.helpful !== 'boolean') return;
    const entry = store.messages.find((e) => e.id === data.message_id);
    if (!entry) return;
    entry.helpful = data.helpful;
    thanked.add(entry.key);
    showFeedback(entry);
    setText(feedbackLive, T.feedbackSaved);
    save();
  }

  function refreshEntry(entry) {
    const old = renderedNodes.get(entry.key);
    if (!old) return;
    const fresh = renderEntry(entry);
    old.replaceWith(fresh);
    renderedNodes.set(entry.key, fresh);
  }

  /** Where "the end" of the conversation is: the newest message in view, or an open form from its top
   * with the messages just above it (a tall form would otherwise push them out of sight). */
  function endPosition() {
    const end = conversation.scrollHeight - conversation.clientHeight;
    const form = !contactForm.hidden ? contactForm : !ratingBox.hidden ? ratingBox : null;
    const formEnd = form ? form.offsetTop - Math.round(conversation.clientHeight * 0.4) : end;
    return Math.max(0, Math.min(end, formEnd));
  }

  function nearBottom() {
    return conversation.scrollTop > endPosition() - 80;
  }

  function scrollToEnd() {
    conversation.scrollTop = endPosition();
  }

  function appendEntry(entry, options) {
    const stick = nearBottom();
    const node = renderEntry(entry);
    renderedNodes.set(entry.key, node);
    log.appendChild(node);
    if (entry.sender === 'visitor') suggestions.hidden = true; // the visitor has started: no more suggestions
    updateEndButton();
    if (stick || (options && options.scroll)) scrollToEnd();
  }

  function remember(entry) {
    if (typeof entry.id === 'number') {
      seenIds.add(entry.id);
      if (entry.id > store.lastSeenId) store.lastSeenId = entry.id;
    }
  }

  function renderAll() {
    log.setAttribute('aria-busy', 'true');
    log.textContent = '';
    renderedNodes.clear();
    seenIds.clear();
    log.appendChild(greeting);
    suggestions.hidden = false;
    for (const entry of store.messages) {
      remember(entry);
      appendEntry(entry);
    }
    scrollToEnd();
    log.removeAttribute('aria-busy');
  }

  function sameVisitorText(localEntry, serverText) {
    const wanted = String(serverText || '').trim();
    return (localEntry.payload || localEntry.text || '').trim() === wanted || (localEntry.text || '').trim() === wanted;
  }

  /** A title to show for a visitor message that is a quick-reply payload ("/intent"). */
  function titleForPayload(text) {
    for (let i = store.messages.length - 1; i >= 0; i -= 1) {
      const replies = store.messages[i].quick_replies;
      if (!Array.isArray(replies)) continue;
      const hit = replies.find((q) => q && q.payload === text && q.title);
      if (hit) return String(hit.title);
    }
    return null;
  }

  /** A message from the server (bot_uttered or history). Returns true if it was new. */
  function addServerMessage(message, live) {
    if (!message || typeof message !== 'object') return false;
    if (message.kind === 'note') return false; // internal notes are never for the visitor
    const id = typeof message.id === 'number' ? message.id : null;
    const asks = Boolean(message.feedback && typeof message.feedback === 'object');
    const helpful = asks && typeof message.feedback.helpful === 'boolean' ? message.feedback.helpful : null;
    if (id !== null && seenIds.has(id)) {
      // A replayed answer: the service's record of the visitor's choice wins over this tab's.
      const known = asks && helpful !== null ? store.messages.find((e) => e.id === id) : null;
      if (known && known.helpful !== helpful) {
        known.asks = true;
        known.helpful = helpful;
        showFeedback(known);
      }
      return false;
    }
    const sender = typeof message.sender === 'string' ? message.sender : 'bot';
    const text = typeof message.text === 'string' ? message.text : '';
    const quickReplies = Array.isArray(message.quick_replies) ? message.quick_replies : [];

    if (sender === 'visitor' && id !== null) {
      // Our own message coming back (another tab, or history after a reconnect).
      const local = store.messages.find(
        (e) =>
          e.sender === 'visitor' && e.id == null && !e.failed && !outbox.includes(e) && sameVisitorText(e, text)
      );
      if (local) {
        local.id = id;
        remember(local);
        return false;
      }
    }
    if (!text && !quickReplies.length) {
      if (id !== null) {
        seenIds.add(id);
        if (id > store.lastSeenId) store.lastSeenId = id;
      }
      return false;
    }
    const entry = {
      key: id !== null ? `id:${id}` : uid('srv'),
      id,
      sender,
      text: sender === 'visitor' ? titleForPayload(text) || text : text,
      quick_replies: quickReplies
        .filter((q) => q && typeof q.title === 'string')
        .map((q) => ({ title: q.title, payload: typeof q.payload === 'string' ? q.payload : q.title })),
      agent_name: typeof message.agent_name === 'string' ? message.agent_name : null,
      created_at: typeof message.created_at === 'string' ? message.created_at : new Date().toISOString(),
      asks: sender === 'bot' && asks,
      helpful,
    };
    if (sender === 'visitor') markQuickRepliesUsed();
    store.messages.push(entry);
    remember(entry);
    appendEntry(entry);
    if (sender === 'bot' || sender === 'agent') hideTyping(sender);
    if (live && sender !== 'visitor' && panel.hidden) {
      unreadCount += 1;
      updateBadge();
    }
    return true;
  }

  function markQuickRepliesUsed() {
    for (const entry of store.messages) {
      if (Array.isArray(entry.quick_replies) && entry.quick_replies.length && !entry.used) {
        entry.used = true;
        refreshEntry(entry);
      }
    }
  }

  function updateBadge() {
    badge.textContent = '';
    if (unreadCount > 0) {
      badge.appendChild(el('span', { 'aria-hidden': 'true', text: String(unreadCount) }));
      badge.appendChild(visuallyHidden(` (${plural(unreadCount, T.unreadOne, T.unreadMany)})`));
      badge.hidden = false;
    } else {
      badge.hidden = true;
    }
  }

  // ---- status, typing, rating, contact form -------------------------------------------------------
  let typingTimer = null;
  let typingWho = null;

  function showTyping(who) {
    typingWho = who === 'agent' ? 'agent' : 'bot';
    typingLine.textContent = typingWho === 'agent' ? T.agentTyping : T.botTyping;
    typingLine.hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => hideTyping(), TYPING_INDICATOR_TIMEOUT_MS);
  }

  function hideTyping(who) {
    if (who && typingWho && who !== typingWho) return;
    clearTimeout(typingTimer);
    typingWho = null;
    typingLine.hidden = true;
    typingLine.textContent = '';
  }

  function applyStatus(status, fromHistory) {
    if (!status || typeof status !== 'object') return;
    const cached = store.status;
    if (isOutdated(cached, status)) return; // computed before a transition whose line is shown already
    // A notice (a refused event) carries only its line: the state and the offers stay as they are.
    let next = typeof status.state === 'string' ? Object.assign({}, status) : Object.assign({}, cached, status);
    // History carries the plain state; the one-off offers (rating, contact form) came in a live
    // status event. Keep them across a reload while the state is the same.
    if (
      fromHistory &&
      cached &&
      cached.state === next.state &&
      (cached.ask_rating || cached.offer_contact_request) &&
      !next.ask_rating &&
      !next.offer_contact_request
    ) {
      next = Object.assign({}, cached);
    }
    if (next.offer_contact_request && !(cached && cached.offer_contact_request)) {
      store.contactDismissed = false;
    }
    store.status = next;
    renderStatus();
  }

  /** "Lopeta keskustelu" while the bot serves a chat the visitor has started (sent a message in). */
  function updateEndButton() {
    const status = store.status || {};
    const started = store.messages.some((e) => e.sender === 'visitor' && !e.failed && !e.unsent);
    endButton.hidden = !(started && (status.state === 'bot' || !status.state) && !status.ask_rating);
  }

  function renderStatus() {
    const formsWereHidden = ratingBox.hidden && contactForm.hidden;
    const stick = nearBottom();
    const status = store.status || {};
    setText(statusText, typeof status.text === 'string' ? status.text : '');
    cancelButton.hidden = status.state !== 'waiting';
    updateEndButton();
    const wantRating = Boolean(status.ask_rating);
    const wantComment = Number.isInteger(store.ratedScore) && !wantRating;
    if (commentForm.hidden === wantComment) {
      commentForm.hidden = !wantComment;
      if (wantComment) {
        commentSubmit.disabled = false;
        commentError.textContent = '';
      }
    }
    // The server's status line usually asks the same question: it is shown once on screen, above the
    // buttons it asks about (the status line under the conversation keeps it for screen readers only).
    const normalise = (text) => String(text || '').replace(/[.\s]+$/, '').toLowerCase();
    // After a chat only the bot served the question is about the conversation, not the agents' service.
    const question = normalise(status.text) === normalise(T.ratingQuestionBot) ? T.ratingQuestionBot : T.ratingQuestion;
    if (ratingQuestion.textContent !== question) ratingQuestion.textContent = question;
    statusText.classList.toggle('lumo-chat-vh', wantRating && normalise(status.text) === normalise(question));
    if (wantRating && ratingBox.hidden) ratingButtons.forEach((b) => (b.disabled = false));
    ratingBox.hidden = !wantRating;
    const wantContact = Boolean(status.offer_contact_request) && !store.contactDismissed;
    if (contactForm.hidden !== !wantContact) {
      contactForm.hidden = !wantContact;
      if (wantContact) {
        contactSubmit.disabled = false;
        contactError.textContent = '';
      }
    } else if (wantContact) {
      contactSubmit.disabled = false; // e.g. the server asked to correct the form
    }
    if (formsWereHidden && (wantRating || wantContact) && stick) scrollToEnd();
  }

  function setConnection(text) {
    setText(connectionText, text ? text + ' ' : '');
  }

  // ---- the socket -------------------------------------------------------------------------------------
  let socket = null;
  let ready = false; // session confirmed on the current connection
  let pendingRequests = []; // tokens of the session_requests not yet confirmed, oldest first
  let skipHistory = false; // the next history answers a request that a newer one replaced
  let ioPromise = null;
  const outbox = [];

  function loadSocketIo() {
    if (typeof window.io === 'function') return Promise.resolve(window.io);
    if (!ioPromise) {
      ioPromise = new Promise((resolve, reject) => {
        const tag = document.createElement('script');
        tag.src = new URL('vendor/socket.io.min.js', baseUrl).href;
        tag.async = true;
        tag.addEventListener('load', () =>
          typeof window.io === 'function' ? resolve(window.io) : reject(new Error('socket.io missing'))
        );
        tag.addEventListener('error', () => reject(new Error('socket.io did not load')));
        document.head.appendChild(tag);
      });
      ioPromise.catch(() => {
        ioPromise = null;
      });
    }
    return ioPromise;
  }

  function sessionRequest() {
    if (!socket || !socket.connected || authPending) return;
    ready = false;
    pendingRequests.push(store.token);
    socket.emit('session_request', {
      session_id: store.token,
      last_seen_id: store.lastSeenId || 0,
      auth_token: authToken || undefined,
    });
  }

  function ensureConnected() {
    if (socket) {
      if (!socket.connected && !socket.active) socket.connect();
      return;
    }
    setConnection(T.connecting);
    loadSocketIo()
      .then((io) => {
        if (socket) return;
        socket = io(socketOrigin, { path: socketPath, reconnectionDelayMax: 10000 });
        socket.on('connect', () => {
          pendingRequests = [];
          skipHistory = false;
          setConnection('');
          sessionRequest(); // also after every reconnect, with the stored token and last_seen_id
        });
        socket.on('disconnect', (reason) => {
          ready = false;
          hideTyping();
          if (reason !== 'io client disconnect') setConnection(T.disconnected);
        });
        socket.on('connect_error', (err) => {
          // refused by the service (too many connections from one network): its own Finnish words
          const refused = err && err.data && err.data.error === 'rate_limited' && typeof err.message === 'string';
          setConnection(refused ? err.message : T.connectFailed);
        });
        socket.on('session_confirm', onSessionConfirm);
        socket.on('history', onHistory);
        socket.on('resync', sessionRequest); // the service may have missed sending us something
        socket.on('feedback_saved', onFeedbackSaved);
        socket.on('bot_uttered', (message) => {
          if (addServerMessage(message, true)) save();
        });
        socket.on('status', (status) => {
          applyStatus(status, false);
          save();
        });
        socket.on('typing', (data) => {
          if (data && data.on) showTyping(data.who);
          else hideTyping(data && data.who);
        });
      })
      .catch(() => setConnection(T.connectFailed));
  }

  function onSessionConfirm(payload) {
    const token = typeof payload === 'string' ? payload : payload && payload.session_id;
    if (typeof token !== 'string' || !token) return;
    pendingRequests.shift();
    if (pendingRequests.length) {
      skipHistory = true; // a newer session_request (another tab's session) is on its way
      return;
    }
    skipHistory = false;
    if (token !== store.token) {
      if (store.token && conversationOf(token) !== conversationOf(store.token)) {
        // The old session was not accepted: a fresh conversation starts.
        const kept = store.contactDismissed;
        store = emptyStore();
        store.contactDismissed = kept;
        store.messages.push(...outbox);
        renderAll();
        renderStatus();
      }
      store.token = token;
      store.owner = currentOwner();
      store.sessionAt = Date.now();
    }
    const commentLimit = payload && payload.max_comment_chars;
    if (Number.isInteger(commentLimit) && commentLimit > 0) store.maxCommentChars = commentLimit;
    const limit = payload && payload.max_message_chars;
    if (Number.isInteger(limit) && limit > 0) {
      store.maxMessageChars = limit; // kept for the next page load, before its session is confirmed
      updateLengthNote(false);
    }
    ready = true;
    save();
    flushOutbox();
  }

  function onHistory(data) {
    if (!data || typeof data !== 'object') return false;
    if (skipHistory) {
      skipHistory = false;
      return false;
    }
    let added = false;
    const messages = Array.isArray(data.messages) ? data.messages : [];
    const bulk = messages.length > 1;
    if (bulk) log.setAttribute('aria-busy', 'true');
    for (const message of messages) added = addServerMessage(message, true) || added;
    if (bulk) log.removeAttribute('aria-busy');
    if (data.status) applyStatus(data.status, true);
    save();
    return added;
  }

  function flushOutbox() {
    if (!socket || !socket.connected || !ready) return;
    while (outbox.length) {
      const entry = outbox.shift();
      const limit = store.maxMessageChars;
      if (limit > 0 && characters(entry.payload || entry.text) > limit) {
        // Written before the limit was known: not sent, and back in the input to be shortened.
        entry.unsent = false;
        entry.failed = true;
        refreshEntry(entry);
        if (!input.value.trim()) input.value = entry.payload || entry.text;
        updateLengthNote(true);
        continue;
      }
      socket.emit('user_uttered', {
        message: entry.payload || entry.text,
        session_id: store.token,
        customData: authToken ? { auth_token: authToken } : {},
      });
      entry.unsent = false;
      refreshEntry(entry);
    }
    save();
  }

  function sendVisitorMessage(message, shownText) {
    const text = String(message || '').trim();
    if (!text) return;
    stopVisitorTyping();
    markQuickRepliesUsed();
    if ((store.status && store.status.ask_rating) || store.ratedScore !== null) {
      // Writing again reopens the conversation; the rating question and its comment no longer apply.
      store.status = Object.assign({}, store.status, { ask_rating: false });
      store.ratedScore = null;
      renderStatus();
    }
    if (store.status && store.status.state === 'closed') {
      // The service reopens a closed chat with the bot (no status line of its own): it can be ended again.
      store.status = Object.assign({}, store.status, { state: 'bot' });
      renderStatus();
    }
    const shown = String(shownText || text).trim();
    const entry = {
      key: uid('local'),
      id: null,
      sender: 'visitor',
      text: shown,
      payload: shown !== text ? text : undefined,
      created_at: new Date().toISOString(),
      unsent: true,
    };
    store.messages.push(entry);
    appendEntry(entry, { scroll: true });
    outbox.push(entry);
    save();
    ensureConnected();
    flushOutbox();
  }

  // ---- the message limit -------------------------------------------------------------------------------
  let lengthState = 'ok'; // 'ok', 'near' (the count shows) or 'over' (refused on sending)

  /** Characters as the service counts them (code points: an emoji is one). */
  function characters(text) {
    return Array.from(String(text || '')).length;
  }

  /** The note under the input: nothing, a count near the limit, or why a message is not sent.
   * `refused`: the visitor tried to send it; the reason is read out even if it is shown already. */
  function updateLengthNote(refused) {
    const limit = store.maxMessageChars > 0 ? store.maxMessageChars : 0;
    const length = characters(input.value.trim());
    let state = 'ok';
    if (limit && length > limit) state = 'over';
    else if (limit && length >= limit * LENGTH_NOTE_SHARE) state = 'near';
    const text = state === 'ok' ? '' : format(state === 'over' ? T.tooLong : T.lengthCount, {
      length: wholeNumber(length),
      limit: wholeNumber(limit),
    });
    setText(lengthNote, text); // empty when hidden: the input's description says nothing stale
    lengthNote.hidden = state === 'ok';
    lengthNote.classList.toggle('lumo-chat-length--over', state === 'over');
    if (state === 'over') input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
    if (state === 'over' && (refused || lengthState !== 'over')) {
      lengthAlert.textContent = '';
      setTimeout(() => setText(lengthAlert, text), 50); // a fresh text, so it is announced again
    } else if (state !== 'over') {
      lengthAlert.textContent = '';
    }
    lengthState = state;
    return state !== 'over';
  }

  // ---- visitor typing (throttled) ----------------------------------------------------------------------
  let visitorTyping = false;
  let visitorTypingSentAt = 0;
  let visitorTypingTimer = null;

  function emitVisitorTyping(on) {
    if (socket && socket.connected && ready) socket.emit('visitor_typing', { on });
  }

  function noteVisitorTyping() {
    if (!input.value.trim()) {
      stopVisitorTyping();
      return;
    }
    const now = Date.now();
    if (!visitorTyping || now - visitorTypingSentAt > TYPING_REFRESH_MS) {
      visitorTyping = true;
      visitorTypingSentAt = now;
      emitVisitorTyping(true);
    }
    clearTimeout(visitorTypingTimer);
    visitorTypingTimer = setTimeout(stopVisitorTyping, TYPING_IDLE_MS);
  }

  function stopVisitorTyping() {
    clearTimeout(visitorTypingTimer);
    if (visitorTyping) {
      visitorTyping = false;
      emitVisitorTyping(false);
    }
  }

  // ---- other tabs ----------------------------------------------------------------------------------------
  function onStorage(event) {
    if (event.key !== STORAGE_KEY && event.key !== null) return;
    const incoming = parseStore(event.key === null ? null : event.newValue);
    if (!incoming) {
      if (event.newValue === null || event.key === null) resetLocal();
      return;
    }
    if ((incoming.owner || null) !== currentOwner()) return; // another customer's chat in another tab
    if (incoming.token && store.token && incoming.token !== store.token &&
        conversationOf(incoming.token) === conversationOf(store.token)) {
      // Another tab got a renewed token for the same chat: keep the newer one, merge as usual.
      if ((incoming.sessionAt || 0) > (store.sessionAt || 0)) {
        store.token = incoming.token;
        store.sessionAt = incoming.sessionAt;
      }
      incoming.token = store.token;
    }
    if (incoming.token && incoming.token !== store.token) {
      if (!store.token || (incoming.sessionAt || 0) > (store.sessionAt || 0)) {
        store = incoming; // the newest session wins in every tab
        renderAll();
        renderStatus();
        if (socket && socket.connected) sessionRequest();
        else ensureConnected();
      }
      return;
    }
    if (incoming.token !== store.token) return;

    for (const other of incoming.messages) {
      const mine = store.messages.find((e) => e.key === other.key);
      if (mine) {
        let changed = false;
        if (typeof other.id === 'number' && mine.id == null) {
          mine.id = other.id;
          remember(mine);
        }
        for (const flag of ['used', 'unsent', 'failed', 'chosen']) {
          if (other[flag] !== mine[flag] && !(flag === 'unsent' && outbox.includes(mine))) {
            mine[flag] = other[flag];
            changed = true;
          }
        }
        if (changed) refreshEntry(mine);
        continue;
      }
      if (typeof other.id === 'number' && seenIds.has(other.id)) {
        // Same message under another key: learn which of our local messages it was.
        const ours = store.messages.find((e) => e.id === other.id);
        if (ours && ours.key.startsWith('id:') && other.key.startsWith('local')) ours.localKey = other.key;
        continue;
      }
      if (other.localKey) {
        const local = store.messages.find((e) => e.key === other.localKey);
        if (local && typeof other.id === 'number') {
          local.id = other.id;
          remember(local);
          continue;
        }
      }
      if (other.sender === 'visitor' && other.id == null) {
        const twin = store.messages.find(
          (e) =>
            e.sender === 'visitor' &&
            typeof e.id === 'number' &&
            !e.localKey &&
            e.key.startsWith('id:') &&
            sameVisitorText(other, e.text)
        );
        if (twin) {
          twin.localKey = other.key;
          continue;
        }
      }
      store.messages.push(other);
      remember(other);
      appendEntry(other);
    }
    if (incoming.lastSeenId > store.lastSeenId) store.lastSeenId = incoming.lastSeenId;
    if (JSON.stringify(incoming.status) !== JSON.stringify(store.status) || incoming.contactDismissed !== store.contactDismissed) {
      store.status = incoming.status;
      store.contactDismissed = incoming.contactDismissed;
      renderStatus();
    }
    if (!socket && store.token) ensureConnected();
  }

  function resetLocal() {
    store = emptyStore();
    outbox.length = 0;
    ready = false;
    pendingRequests = [];
    skipHistory = false;
    if (socket) {
      socket.disconnect();
      socket = null;
    }
    hideTyping();
    setConnection('');
    unreadCount = 0;
    updateBadge();
    renderAll();
    renderStatus();
  }

  // ---- open / close -------------------------------------------------------------------------------------
  /** Whether this tab left the panel open (true/false), or null if it never said. */
  function rememberedOpen() {
    try {
      const value = window.sessionStorage.getItem(OPEN_KEY);
      return value === '1' ? true : value === '0' ? false : null;
    } catch (err) {
      return null; // storage blocked
    }
  }

  function rememberOpen(isOpen) {
    try {
      window.sessionStorage.setItem(OPEN_KEY, isOpen ? '1' : '0');
    } catch (err) {
      /* storage blocked: the panel starts closed on the next page */
    }
  }

  /** `focus`: false when the page opens it by itself (a reload), so focus stays where the page has it. */
  function open(focus = true) {
    if (!panel.hidden) return;
    panel.hidden = false;
    launcher.hidden = true;
    launcher.setAttribute('aria-expanded', 'true');
    rememberOpen(true);
    unreadCount = 0;
    updateBadge();
    fitToViewport();
    scrollToEnd();
    ensureConnected();
    if (focus !== false) input.focus();
  }

  function close() {
    if (panel.hidden) return;
    const hadFocus = panel.contains(document.activeElement);
    panel.hidden = true;
    launcher.hidden = false;
    launcher.setAttribute('aria-expanded', 'false');
    rememberOpen(false);
    stopVisitorTyping();
    if (hadFocus || document.activeElement === document.body) launcher.focus();
  }

  // Phones: the panel fills the visual viewport (what the on-screen keyboard leaves of the screen).
  let viewportFrame = 0;
  function fitToViewport() {
    const viewport = window.visualViewport;
    if (!viewport) return; // the stylesheet's 100dvh then
    const stick = nearBottom();
    root.style.setProperty('--lumo-chat-viewport-height', `${Math.round(viewport.height)}px`);
    root.style.setProperty('--lumo-chat-viewport-top', `${Math.round(viewport.offsetTop)}px`);
    if (stick && !panel.hidden) scrollToEnd();
  }
  function viewportChanged() {
    if (viewportFrame) return;
    viewportFrame = window.requestAnimationFrame(() => {
      viewportFrame = 0;
      fitToViewport();
    });
  }

  launcher.addEventListener('click', () => open());
  closeButton.addEventListener('click', close);
  panel.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' || event.key === 'Esc') {
      event.preventDefault();
      close();
      launcher.focus();
    }
  });

  composer.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) {
      input.focus();
      return;
    }
    if (!updateLengthNote(true)) {
      input.focus(); // over the limit: nothing sent, the text stays to be shortened
      return;
    }
    input.value = '';
    updateLengthNote(false);
    sendVisitorMessage(text);
    input.focus();
  });
  input.addEventListener('input', noteVisitorTyping);
  input.addEventListener('input', () => updateLengthNote(false));
  input.addEventListener('blur', stopVisitorTyping);

  cancelButton.addEventListener('click', () => {
    ensureConnected();
    if (socket && socket.connected) socket.emit('cancel_waiting', {});
    input.focus();
  });

  ratingButtons.forEach((button, index) => {
    button.addEventListener('click', () => {
      if (!socket || !socket.connected) {
        ensureConnected();
        setConnection(T.disconnected);
        return;
      }
      socket.emit('rating', { score: index + 1 });
      ratingButtons.forEach((b) => (b.disabled = true));
      if (store.status) store.status = Object.assign({}, store.status, { ask_rating: false });
      store.ratedScore = index + 1; // the comment form follows
      save();
      renderStatus();
      commentInput.focus({ preventScroll: true });
      commentForm.scrollIntoView({ block: 'nearest' }); // the whole form, its buttons too, on a phone
    });
  });

  endButton.addEventListener('click', () => {
    ensureConnected();
    if (socket && socket.connected) socket.emit('end_conversation', {});
    input.focus();
  });

  function closeComment() {
    store.ratedScore = null;
    commentInput.value = '';
    commentInput.removeAttribute('aria-invalid');
    save();
    renderStatus();
    input.focus();
  }

  commentForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const comment = commentInput.value.trim();
    const limit = store.maxCommentChars || 1000;
    const length = characters(comment);
    if (length > limit) {
      // Not sent, never cut: the text stays to be shortened.
      commentInput.setAttribute('aria-invalid', 'true');
      commentError.textContent = format(T.commentTooLong, { length: wholeNumber(length), limit: wholeNumber(limit) });
      commentInput.focus();
      return;
    }
    if (!comment) {
      closeComment();
      return;
    }
    if (!socket || !socket.connected) {
      ensureConnected();
      commentError.textContent = T.connectFailed;
      return;
    }
    socket.emit('rating', { score: store.ratedScore, comment });
    setText(feedbackLive, T.commentSaved);
    closeComment();
  });
  commentSkip.addEventListener('click', closeComment);

  contactForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const fields = [contactName, contactContact, contactMessage];
    let firstInvalid = null;
    for (const control of fields) {
      const empty = !control.value.trim();
      if (empty) control.setAttribute('aria-invalid', 'true');
      else control.removeAttribute('aria-invalid');
      if (empty && !firstInvalid) firstInvalid = control;
    }
    if (firstInvalid) {
      contactError.textContent = T.contactMissing;
      firstInvalid.focus();
      return;
    }
    if (!socket || !socket.connected) {
      ensureConnected();
      contactError.textContent = T.connectFailed;
      return;
    }
    contactError.textContent = '';
    socket.emit('contact_request', {
      name: contactName.value.trim(),
      contact: contactContact.value.trim(),
      message: contactMessage.value.trim(),
    });
    contactSubmit.disabled = true;
    setText(statusText, T.contactSending);
    // The server answers with a status: thanks (form goes away) or a request to correct it.
  });
  contactCancel.addEventListener('click', () => {
    store.contactDismissed = true;
    save();
    renderStatus();
    input.focus();
  });

  // ---- start ----------------------------------------------------------------------------------------------
  function mount() {
    const stylesheet = el('link', { rel: 'stylesheet', href: new URL('widget.css', baseUrl).href });
    let shown = false;
    const remembered = rememberedOpen();
    const show = () => {
      if (shown) return;
      shown = true;
      root.hidden = false;
      if (remembered === true) open(false); // as this tab left it: the page keeps its focus
      else if (remembered === null && startOpen) open();
    };
    stylesheet.addEventListener('load', show);
    stylesheet.addEventListener('error', show);
    setTimeout(show, 3000);
    document.head.appendChild(stylesheet);
    document.body.appendChild(root);
    renderAll();
    renderStatus();
    window.addEventListener('storage', onStorage);
    if (window.visualViewport) {
      window.visualViewport.addEventListener('resize', viewportChanged);
      window.visualViewport.addEventListener('scroll', viewportChanged);
    }
    fitToViewport();
    // An existing conversation reconnects at once (new replies, unread badge); a first visit
    // creates no session until the visitor opens the chat.
    if (store.token || remembered === true || (remembered === null && startOpen)) ensureConnected();
  }

  window.LumoChat = Object.freeze({
    version: VERSION,
    /** The website's signed token of a logged-in visitor (null to forget it). */
    setAuthToken(token) {
      const next = typeof token === 'string' && token ? token : null;
      const changed = next !== authToken;
      authToken = next;
      const waited = authPending;
      authPending = false;
      // The service checks whose chat this is when the session is asked for: ask again.
      if (changed || waited) sessionRequest();
    },
    open: () => open(),
    close,
    /** Forget this browser's chat (session token and transcript), e.g. when the visitor logs out. */
    reset() {
      try {
        window.localStorage.removeItem(STORAGE_KEY);
      } catch (err) {
        /* ignore */
      }
      resetLocal();
    },
  });

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', mount);
  else mount();
}
