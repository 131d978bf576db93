/*
 * Lumo content editor (editor.html): plain ES2017, no framework, no build step.
 *
 * A client of the editor API of docs/editor-api.md (/api/editor; session cookie from the agents'
 * log-in, X-CSRF-Token on every non-GET request, the token kept in memory only). Everything that
 * comes from the server or from the editor's own typing is put on the page with textContent /
 * createTextNode, never as HTML. The answer preview builds the same DOM the visitor widget
 * (widget.js) builds for a bot message and is styled by widget.css itself.
 */
(function () {
  'use strict';

  const AGENT_API = '/api/agent';
  const EDITOR_API = '/api/editor';
  const MAX_ANSWER_CHARS = 700; // content.checks.MAX_ANSWER_CHARS
  const MAX_TITLE_CHARS = 60; // content.repository.MAX_TITLE_CHARS
  const MIN_EXAMPLES = 10; // content.checks.MIN_EXAMPLES
  const RECOMMENDED_EXAMPLES = 30; // content.checks.RECOMMENDED_EXAMPLES
  const NAME_PATTERN = /^[a-z][a-z0-9_]{1,39}$/; // content.repository.NAME
  const POLL_MS = 2000;
  const MISSED_TEXTS_SHOWN = 10;

  // What the visitor widget shows (widget.js: default data-title and T.bot), and the bot's
  // "did you mean" line that offers topics by their title (domain.yml: utter_ask_rephrase).
  const WIDGET_TITLE = 'Lumo-chat';
  const WIDGET_BOT = 'Lumo-botti';
  const WIDGET_QUICK_REPLIES = 'Vastausvaihtoehdot';
  const WIDGET_NEW_WINDOW = '(avautuu uuteen välilehteen)';
  const REPHRASE_TEXT = 'En ihan ymmärtänyt. Tarkoititko jotain näistä?';

  const RUN_KIND = { publish: 'Julkaisu', rollback: 'Palautus' };
  const RUN_STATE = { running: 'Käynnissä', succeeded: 'Onnistui', failed: 'Epäonnistui' };
  const RUN_STAGE = {
    validate: 'sisällön tarkistus',
    train: 'mallin koulutus',
    test: 'testaus',
    load: 'käyttöönotto',
    done: 'valmis',
  };

  const $ = (id) => document.getElementById(id);
  const ui = {
    sessionBar: $('session-bar'),
    meName: $('me-name'),
    logout: $('logout-button'),
    main: $('main'),
    loginView: $('login-view'),
    loginForm: $('login-form'),
    username: $('username'),
    password: $('password'),
    loginError: $('login-error'),
    loginButton: $('login-button'),
    deniedView: $('denied-view'),
    deniedTitle: $('denied-title'),
    deniedMessage: $('denied-message'),
    editorView: $('editor-view'),
    status: $('editor-status'),
    alert: $('editor-alert'),
    nav: {
      topics: $('nav-topics'),
      missed: $('nav-missed'),
      changes: $('nav-changes'),
      publish: $('nav-publish'),
    },
    views: {
      topics: $('topics-view'),
      missed: $('missed-view'),
      changes: $('changes-view'),
      publish: $('publish-view'),
    },
    missedCount: $('missed-count'),
    publishRunningNote: $('publish-running-note'),
    // topics
    topicsCount: $('topics-count'),
    topicFilter: $('topic-filter'),
    topicsEmpty: $('topics-empty'),
    topicList: $('topic-list'),
    newTopicButton: $('new-topic-button'),
    placeholder: $('topic-placeholder'),
    detail: $('topic-detail'),
    topicHeading: $('topic-heading'),
    topicMeta: $('topic-meta'),
    topicComment: $('topic-comment'),
    conflict: $('topic-conflict'),
    conflictMessage: $('topic-conflict-message'),
    topicReload: $('topic-reload'),
    draft: $('topic-draft'),
    draftText: $('topic-draft-text'),
    answerForm: $('answer-form'),
    answerTitle: $('answer-title'),
    answerText: $('answer-text'),
    answerCount: $('answer-count'),
    answerSave: $('answer-save'),
    answerResult: $('answer-result'),
    answerPreview: $('answer-preview'),
    answerTitlePreview: $('answer-title-preview'),
    examplesTitle: $('examples-title'),
    examplesCount: $('examples-count'),
    examplesAdvice: $('examples-advice'),
    examplesList: $('examples-list'),
    examplesForm: $('examples-form'),
    examplesNew: $('examples-new'),
    examplesAdd: $('examples-add'),
    examplesResult: $('examples-result'),
    topicChanges: $('topic-changes'),
    topicChangesEmpty: $('topic-changes-empty'),
    // new topic
    newForm: $('new-topic-form'),
    newHeading: $('new-topic-heading'),
    newOrigin: $('new-topic-origin'),
    newName: $('new-topic-name'),
    newTitle: $('new-topic-title'),
    newAnswer: $('new-topic-answer'),
    newAnswerCount: $('new-topic-answer-count'),
    newExamples: $('new-topic-examples'),
    newExamplesCount: $('new-topic-examples-count'),
    newPreview: $('new-topic-preview'),
    newTitlePreview: $('new-topic-title-preview'),
    newSubmit: $('new-topic-submit'),
    newCancel: $('new-topic-cancel'),
    // missed
    missedTitle: $('missed-title'),
    missedRefresh: $('missed-refresh'),
    missedEmpty: $('missed-empty'),
    missedList: $('missed-list'),
    answeredEmpty: $('answered-empty'),
    answeredList: $('answered-list'),
    // changes
    changesRefresh: $('changes-refresh'),
    changesEmpty: $('changes-empty'),
    changesList: $('changes-list'),
    // publishing
    findingsSummary: $('findings-summary'),
    findingsList: $('findings-list'),
    findingsRefresh: $('findings-refresh'),
    publishButton: $('publish-button'),
    rollbackButton: $('rollback-button'),
    progressBox: $('publish-progress-box'),
    progressLabel: $('publish-progress-label'),
    progress: $('publish-progress'),
    percent: $('publish-percent'),
    publishDetail: $('publish-detail'),
    publishResult: $('publish-result'),
    runsEmpty: $('runs-empty'),
    runsList: $('runs-list'),
  };

  const state = {
    csrf: null, // kept in memory only
    me: null,
    view: 'topics',
    topics: [], // [{name, title, path, examples_count, answer}]
    current: null, // {topic, changes} of the open topic
    panel: 'empty', // 'empty' | 'topic' | 'new'
    newTopic: null, // {missedIds: [], nameTouched: bool} while the new-topic form is open
    missed: [],
    missedChoice: new Map(), // group key -> topic chosen in its select
    answered: [],
    changes: [],
    agentNames: new Map(), // agent id -> display name
    findings: [],
    runs: [],
    canRollback: false,
    watchedRunId: null, // the run this page shows progress of
    shownRunId: null, // the finished run whose result is shown
    findingsRequest: 0, // only the latest findings request may change the checks panel
    pollTimer: null,
  };

  // ---- helpers --------------------------------------------------------------------------------
  function el(tag, props, children) {
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

  function vh(text) {
    return el('span', { className: 'vh', text });
  }

  function str(value) {
    return value === null || value === undefined ? '' : String(value);
  }

  function list(value) {
    return Array.isArray(value) ? value : [];
  }

  /** Characters as Python counts them (code points), so the counter agrees with the server. */
  function charCount(text) {
    return Array.from(text).length;
  }

  function plural(n, one, many) {
    return `${n} ${n === 1 ? one : many}`;
  }

  function quoted(text) {
    return `”${text}”`;
  }

  /** Lower case without accents: "paivays" finds "päiväys". */
  function folded(text) {
    return str(text)
      .toLowerCase()
      .normalize('NFD')
      .replace(/[\u0300-\u036f]/g, '');
  }

  function exampleKey(text) {
    return str(text).toLowerCase().split(/\s+/).filter(Boolean).join(' ');
  }

  function lines(text) {
    return str(text)
      .split(/\r\n|\r|\n/)
      .map((line) => line.trim())
      .filter(Boolean);
  }

  function formatDateTime(iso) {
    if (!iso) return '';
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return '';
    const day = date.toLocaleDateString('fi-FI', { day: 'numeric', month: 'numeric', year: 'numeric' });
    const time = date.toLocaleTimeString('fi-FI', { hour: '2-digit', minute: '2-digit' });
    return `${day} klo ${time}`;
  }

  function timeElement(iso) {
    const text = formatDateTime(iso);
    return text ? el('time', { datetime: str(iso), text }) : null;
  }

  function setText(node, text) {
    if (node.textContent !== text) node.textContent = text; // unchanged text is not announced again
  }

  let statusTimer = null;
  let alertTimer = null;

  /** A general message in the role=status line (cleared first so a repeat is announced again). */
  function setStatus(text) {
    window.clearTimeout(statusTimer);
    ui.status.textContent = '';
    statusTimer = window.setTimeout(() => {
      ui.status.textContent = text;
    }, 50);
  }

  /** An error in the role=alert line. */
  function setAlert(text) {
    window.clearTimeout(alertTimer);
    ui.alert.textContent = '';
    if (!text) return;
    alertTimer = window.setTimeout(() => {
      ui.alert.textContent = text;
    }, 50);
  }

  function clearAlert() {
    window.clearTimeout(alertTimer);
    ui.alert.textContent = '';
  }

  /** Keep keyboard focus on "the same" control when a list is drawn again. */
  function focusKeyInside(container) {
    const active = document.activeElement;
    return active && container.contains(active) && active.dataset ? active.dataset.focusKey || null : null;
  }

  function restoreFocus(container, key) {
    if (!key) return;
    const target = container.querySelector(`[data-focus-key="${CSS.escape(key)}"]`);
    if (target) target.focus();
  }

  function topicByName(name) {
    return state.topics.find((t) => t.name === name) || null;
  }

  function topicLabel(name) {
    const topic = topicByName(name);
    return topic ? `${str(topic.title)} (${name})` : str(name);
  }

  function agentName(change) {
    if (change.agent_name) return str(change.agent_name);
    const known = state.agentNames.get(change.agent_id);
    if (known) return known;
    if (state.me && change.agent_id === state.me.id) return str(state.me.display_name || state.me.username);
    return '';
  }

  // ---- HTTP ----------------------------------------------------------------------------------------
  class ApiError extends Error {
    constructor(status, code, message, field) {
      super(message || 'Pyyntö epäonnistui.');
      this.status = status;
      this.code = code || '';
      this.field = field || null;
    }
  }

  async function api(method, path, body, retried) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (method !== 'GET' && state.csrf) headers['X-CSRF-Token'] = state.csrf;
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'same-origin',
        cache: 'no-store',
      });
    } catch (err) {
      throw new ApiError(0, 'network', 'Palvelimeen ei saatu yhteyttä. Tarkista verkkoyhteys ja yritä uudelleen.');
    }
    let data = null;
    if (response.status !== 204) {
      try {
        data = await response.json();
      } catch (err) {
        data = null;
      }
    }
    if (response.ok) return data || {};
    const code = data && typeof data.error === 'string' ? data.error : '';
    const message = data && typeof data.message === 'string' ? data.message : '';
    const field = data && typeof data.field === 'string' ? data.field : null;
    const login = path === `${AGENT_API}/login`;
    const me = path === `${AGENT_API}/me`;
    if (response.status === 403 && code === 'csrf' && !retried && !login) {
      // The CSRF token is in memory only: fetch it again once and retry.
      try {
        const fresh = await api('GET', `${AGENT_API}/me`, undefined, true);
        state.csrf = fresh.csrf_token;
        return api(method, path, body, true);
      } catch (err) {
        /* fall through to the original error */
      }
    }
    if (response.status === 401 && !login && !me && state.me) {
      loggedOut('Istuntosi on päättynyt. Kirjaudu uudelleen.');
    }
    throw new ApiError(response.status, code, message || `Pyyntö epäonnistui (virhe ${response.status}).`, field);
  }

  function editor(path) {
    return EDITOR_API + path;
  }

  function topicPath(name, rest) {
    return editor(`/topics/${encodeURIComponent(name)}${rest || ''}`);
  }

  // ---- field errors -------------------------------------------------------------------------------------
  // Which control the API's `field` is about, per form. Each control has an error line <id>-error.
  const FIELDS = {
    answer: { answer: 'answer-text', title: 'answer-title' },
    examples: { examples: 'examples-new' },
    newTopic: {
      name: 'new-topic-name',
      title: 'new-topic-title',
      answer: 'new-topic-answer',
      examples: 'new-topic-examples',
    },
  };

  function fieldError(controlId, message) {
    const control = $(controlId);
    const line = $(`${controlId}-error`);
    if (control) control.setAttribute('aria-invalid', 'true');
    if (line) line.textContent = message;
  }

  function clearFieldError(controlId) {
    const control = $(controlId);
    const line = $(`${controlId}-error`);
    if (control) control.removeAttribute('aria-invalid');
    if (line) line.textContent = '';
  }

  function clearFieldErrors(form) {
    for (const controlId of Object.values(FIELDS[form])) clearFieldError(controlId);
  }

  /** An API error: the message in the alert line and, when it names a field of this form, next to it. */
  function reportError(err, form) {
    setAlert(err.message);
    const controlId = err.field && FIELDS[form] ? FIELDS[form][err.field] : null;
    if (controlId && $(controlId)) {
      fieldError(controlId, err.message);
      $(controlId).focus();
      return true;
    }
    return false;
  }

  /** Client-side checks: [[controlId, message]] -> shown; the first control gets focus. */
  function showInvalid(problems) {
    if (!problems.length) return false;
    for (const [controlId, message] of problems) fieldError(controlId, message);
    setAlert(
      problems.length === 1
        ? problems[0][1]
        : `Lomakkeessa on ${problems.length} korjattavaa kohtaa. Ohjeet näkyvät kenttien alla.`
    );
    $(problems[0][0]).focus();
    return true;
  }

  function answerProblems(controlId, text) {
    const clean = text.trim();
    if (!clean) return [[controlId, 'Vastaus puuttuu. Kirjoita vastaus, jonka botti antaa tähän aiheeseen.']];
    const n = charCount(clean);
    if (n > MAX_ANSWER_CHARS) {
      return [[controlId, `Vastaus on ${n} merkkiä pitkä; chat-ikkunaan mahtuu enintään ${MAX_ANSWER_CHARS} merkkiä. Lyhennä vastausta.`]];
    }
    return [];
  }

  function titleProblems(controlId, title) {
    if (!title) return [[controlId, 'Otsikko puuttuu. Kirjoita aiheelle lyhyt otsikko; asiakas näkee sen ehdotuspainikkeessa.']];
    const n = charCount(title);
    if (n > MAX_TITLE_CHARS) {
      return [[controlId, `Otsikko on ${n} merkkiä pitkä; painikkeeseen mahtuu enintään ${MAX_TITLE_CHARS} merkkiä. Lyhennä otsikkoa.`]];
    }
    return [];
  }

  // ---- the widget's bot message, for the preview ---------------------------------------------------------
  /** Text with https links as <a> elements, exactly as widget.js linkified() does it. */
  function linkified(text) {
    const fragment = document.createDocumentFragment();
    const pattern = /https:\/\/[^\s<>"'`]+/gi;
    let last = 0;
    let match;
    while ((match = pattern.exec(text)) !== null) {
      let raw = match[0];
      const trailing = /[.,;:!?)\]}]+$/.exec(raw);
      if (trailing) raw = raw.slice(0, raw.length - trailing[0].length);
      let url = null;
      try {
        url = new URL(raw);
      } catch (err) {
        url = null;
      }
      if (!url || url.protocol !== 'https:' || !raw) continue;
      if (match.index > last) fragment.appendChild(document.createTextNode(text.slice(last, match.index)));
      const link = el('a', { href: url.href, target: '_blank', rel: 'noopener noreferrer' }, [raw]);
      link.appendChild(el('span', { className: 'lumo-chat-vh', text: ' ' + WIDGET_NEW_WINDOW }));
      fragment.appendChild(link);
      last = match.index + raw.length;
      pattern.lastIndex = last;
    }
    if (last < text.length) fragment.appendChild(document.createTextNode(text.slice(last)));
    return fragment;
  }

  function previewTime() {
    return new Date().toLocaleTimeString('fi-FI', { hour: '2-digit', minute: '2-digit' });
  }

  /** The DOM widget.js renderEntry() builds for a bot message with quick replies. */
  function botMessage(text, buttons, emptyNote, onButton) {
    const body = el('p', { className: 'lumo-chat-text' });
    if (text) body.appendChild(linkified(text));
    else body.appendChild(el('span', { className: 'preview-empty', text: emptyNote }));
    const item = el('div', { className: 'lumo-chat-message lumo-chat-message--bot' }, [
      el('p', { className: 'lumo-chat-meta' }, [
        el('span', { className: 'lumo-chat-sender', text: WIDGET_BOT }),
        el('span', { className: 'lumo-chat-time' }, [' · ', previewTime()]),
        el('span', { className: 'lumo-chat-vh', text: ': ' }),
      ]),
      body,
      el('p', { className: 'lumo-chat-delivery', hidden: true }),
    ]);
    const replies = list(buttons).filter((b) => b && b.title);
    if (replies.length) {
      const group = el('div', { className: 'lumo-chat-quick-replies', role: 'group', 'aria-label': WIDGET_QUICK_REPLIES });
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
  function widgetPanel(label, messages) {
    return el('div', { className: 'lumo-chat-panel preview-panel', role: 'group', 'aria-label': label }, [
      el('div', { className: 'lumo-chat-header' }, [el('p', { className: 'lumo-chat-title', text: WIDGET_TITLE })]),
      el('div', { className: 'lumo-chat-log' }, messages),
    ]);
  }

  function renderPreview(container, titleContainer, answer, title, buttons) {
    container.textContent = '';
    container.appendChild(
      widgetPanel('Esikatselu: vastaus chat-ikkunassa', [
        // In the preview a button tells what it would send.
        botMessage(answer.trim(), buttons, 'Kirjoita vastaus, niin näet sen tässä.', (reply) =>
          setStatus(
            `Esikatselu: chatissa painike ${quoted(str(reply.title))} lähettää botille ${quoted(str(reply.payload || reply.title))}.`
          )
        ),
      ])
    );
    titleContainer.textContent = '';
    titleContainer.appendChild(
      widgetPanel('Esikatselu: otsikko ehdotuspainikkeessa', [
        // The "did you mean" button sends the topic's example question (actions/fallback.py).
        botMessage(REPHRASE_TEXT, [{ title: title.trim() || '(otsikko puuttuu)' }], '', () =>
          setStatus('Esikatselu: chatissa tämä painike lähettää botille aiheen esimerkkikysymyksen.')
        ),
      ])
    );
  }

  function renderCounter(node, text) {
    const n = charCount(text.trim());
    const over = n - MAX_ANSWER_CHARS;
    node.textContent =
      over > 0
        ? `${n} / ${MAX_ANSWER_CHARS} merkkiä – ${over} liikaa. Lyhennä vastausta.`
        : `${n} / ${MAX_ANSWER_CHARS} merkkiä`;
    node.classList.toggle('counter--over', over > 0);
  }

  // ---- diffs and change lists -------------------------------------------------------------------------------
  function diffBlock(diff) {
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

  function diffLegend() {
    return el('p', {
      className: 'small',
      text: 'Rivit, jotka alkavat plusmerkillä (+), lisättiin tiedostoon; miinusmerkillä (-) alkavat poistettiin.',
    });
  }

  /** Summary and diff of a change just made (PUT/POST answer). */
  function showChangeResult(container, result, heading) {
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

  function hideChangeResult(container) {
    container.hidden = true;
    container.textContent = '';
  }

  function changeItem(change, options) {
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

  // ---- log-in / log-out ---------------------------------------------------------------------------------
  function hideAll() {
    ui.loginView.hidden = true;
    ui.deniedView.hidden = true;
    ui.editorView.hidden = true;
  }

  function showLogin(message) {
    hideAll();
    ui.sessionBar.hidden = true;
    ui.loginView.hidden = false;
    ui.loginError.textContent = message || '';
    ui.password.value = '';
    ui.username.focus();
  }

  function stopPolling() {
    window.clearTimeout(state.pollTimer);
    state.pollTimer = null;
  }

  function loggedOut(message) {
    state.csrf = null;
    state.me = null;
    state.current = null;
    state.newTopic = null;
    state.watchedRunId = null;
    stopPolling();
    // Nothing of the previous session stays on the page for the next person to log in.
    for (const control of [ui.newName, ui.newTitle, ui.newAnswer, ui.newExamples, ui.examplesNew, ui.topicFilter]) {
      control.value = '';
    }
    state.missed = [];
    state.missedChoice.clear();
    state.answered = [];
    state.changes = [];
    state.runs = [];
    showPanel('empty');
    hideProgress();
    showRunResult(null);
    ui.status.textContent = '';
    clearAlert();
    showLogin(message);
  }

  ui.loginForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const username = ui.username.value.trim();
    const password = ui.password.value;
    if (!username || !password) {
      ui.loginError.textContent = 'Kirjoita käyttäjätunnus ja salasana.';
      (username ? ui.password : ui.username).focus();
      return;
    }
    ui.loginButton.disabled = true;
    ui.loginError.textContent = '';
    try {
      const data = await api('POST', `${AGENT_API}/login`, { username, password });
      state.csrf = data.csrf_token;
      ui.password.value = '';
      await startEditor(data.agent, true);
    } catch (err) {
      ui.loginError.textContent = err.message;
      ui.password.value = '';
      ui.password.focus();
    } finally {
      ui.loginButton.disabled = false;
    }
  });

  ui.logout.addEventListener('click', async () => {
    if (!confirmDiscard()) return;
    try {
      await api('POST', `${AGENT_API}/logout`);
    } catch (err) {
      /* logged out anyway */
    }
    loggedOut('Kirjauduit ulos.');
  });

  async function startEditor(agent, focusMain) {
    state.me = agent || {};
    ui.meName.textContent = `${str(state.me.display_name)} (${str(state.me.username)})`;
    ui.sessionBar.hidden = false;
    hideAll();
    // The server decides who may edit: a 403 editor_only comes with the Finnish reason.
    try {
      const data = await api('GET', editor('/topics'));
      setTopics(data.topics);
    } catch (err) {
      if (err.status === 403) {
        ui.deniedMessage.textContent = err.message;
        ui.deniedView.hidden = false;
        ui.deniedTitle.focus();
        return;
      }
      if (err.status === 401) return;
      setAlert(err.message);
    }
    ui.editorView.hidden = false;
    showView('topics');
    if (focusMain) ui.main.focus();
    loadMissed();
    loadRuns();
  }

  // ---- views -------------------------------------------------------------------------------------------------
  function showView(view) {
    state.view = view;
    for (const [name, node] of Object.entries(ui.views)) node.hidden = name !== view;
    for (const [name, button] of Object.entries(ui.nav)) button.setAttribute('aria-pressed', String(name === view));
    if (view === 'missed') {
      loadMissed();
      loadAnswered();
    } else if (view === 'changes') {
      loadChanges();
    } else if (view === 'publish') {
      loadFindings();
      loadRuns();
    }
  }

  for (const [name, button] of Object.entries(ui.nav)) {
    button.addEventListener('click', () => showView(name));
  }

  // ---- unsaved work ----------------------------------------------------------------------------------------
  function answerDirty() {
    const current = state.current;
    if (!current || state.panel !== 'topic') return false;
    return ui.answerText.value !== str(current.topic.answer) || ui.answerTitle.value !== str(current.topic.title);
  }

  function newTopicDirty() {
    if (state.panel !== 'new') return false;
    return [ui.newName, ui.newTitle, ui.newAnswer, ui.newExamples].some((c) => c.value.trim() !== '');
  }

  function unsaved() {
    return answerDirty() || newTopicDirty() || (state.panel === 'topic' && ui.examplesNew.value.trim() !== '');
  }

  function confirmDiscard() {
    if (!unsaved()) return true;
    return window.confirm('Sinulla on tallentamattomia muutoksia. Haluatko hylätä ne?');
  }

  window.addEventListener('beforeunload', (event) => {
    if (state.me && unsaved()) {
      event.preventDefault();
      event.returnValue = '';
    }
  });

  // ---- topic list ----------------------------------------------------------------------------------------------
  function setTopics(topics) {
    state.topics = list(topics).filter((t) => t && t.name);
    renderTopicList();
    renderMissed(); // the topic selects and guesses use the titles
  }

  async function loadTopics() {
    try {
      const data = await api('GET', editor('/topics'));
      setTopics(data.topics);
    } catch (err) {
      setAlert(err.message);
    }
  }

  function renderTopicList() {
    const key = focusKeyInside(ui.topicList);
    const query = folded(ui.topicFilter.value.trim());
    const shown = state.topics.filter(
      (t) => !query || folded(`${str(t.title)} ${str(t.name)} ${str(t.answer)}`).includes(query)
    );
    ui.topicList.textContent = '';
    const openName = state.panel === 'topic' && state.current ? state.current.topic.name : null;
    for (const topic of shown) {
      const count = Number(topic.examples_count) || 0;
      ui.topicList.appendChild(
        el('li', {}, [
          el(
            'button',
            {
              type: 'button',
              className: 'topic-button',
              'aria-current': topic.name === openName ? 'true' : null,
              dataset: { name: str(topic.name), focusKey: `topic:${str(topic.name)}` },
              onclick: () => openTopic(topic.name, { focus: true }),
            },
            [
              el('span', { className: 'topic-title', text: str(topic.title) || str(topic.name) }),
              el('span', { className: 'topic-info' }, [
                el('span', { className: 'topic-name', text: str(topic.name) }),
                ' · ',
                plural(count, 'esimerkki', 'esimerkkiä'),
                count < MIN_EXAMPLES ? el('span', { className: 'topic-warning', text: ' · liian vähän esimerkkejä' }) : null,
              ]),
            ]
          ),
        ])
      );
    }
    ui.topicsCount.textContent = state.topics.length ? `(${state.topics.length})` : '';
    if (!state.topics.length) {
      ui.topicsEmpty.textContent = 'Aiheita ei ole vielä. Luo ensimmäinen aihe Uusi aihe -painikkeella.';
      ui.topicsEmpty.hidden = false;
    } else if (!shown.length) {
      ui.topicsEmpty.textContent = `Yksikään aihe ei vastaa hakua ${quoted(ui.topicFilter.value.trim())}.`;
      ui.topicsEmpty.hidden = false;
    } else {
      ui.topicsEmpty.hidden = true;
    }
    restoreFocus(ui.topicList, key);
  }

  ui.topicFilter.addEventListener('input', renderTopicList);

  // ---- one topic -------------------------------------------------------------------------------------------------
  function showPanel(panel) {
    state.panel = panel;
    ui.placeholder.hidden = panel !== 'empty';
    ui.detail.hidden = panel !== 'topic';
    ui.newForm.hidden = panel !== 'new';
    renderTopicList();
  }

  /**
   * Opens a topic. The same topic again (after a change) keeps the unsaved answer and title the
   * editor is writing, unless `reset` is set (the reload after a conflict).
   */
  async function openTopic(name, options) {
    const opts = options || {};
    const same = state.panel === 'topic' && state.current && state.current.topic.name === name;
    if (!same && !opts.skipConfirm && !confirmDiscard()) return false;
    try {
      const data = await api('GET', topicPath(name));
      showTopic(data, Object.assign({ same }, opts));
      return true;
    } catch (err) {
      setAlert(err.message);
      if (err.status === 404) loadTopics();
      return false;
    }
  }

  function openTopicFromElsewhere(name) {
    if (!confirmDiscard()) return;
    showView('topics');
    openTopic(name, { focus: true, skipConfirm: true });
  }

  function showTopic(data, opts) {
    const topic = data.topic || {};
    const keepEdits = opts.same && !opts.reset && answerDirty();
    const keptText = ui.answerText.value;
    const keptTitle = ui.answerTitle.value;
    if (!opts.same) {
      hideChangeResult(ui.answerResult);
      hideChangeResult(ui.examplesResult);
      ui.examplesNew.value = '';
      ui.draft.hidden = true;
      ui.draft.open = false;
    }
    ui.conflict.hidden = true;
    state.current = { topic, changes: list(data.changes) };
    showPanel('topic');

    ui.topicHeading.textContent = str(topic.title) || str(topic.name);
    ui.topicMeta.textContent = '';
    const examples = list(topic.examples);
    const facts = [
      ['Tunniste', str(topic.name)],
      ['Tiedosto', str(topic.path)],
      ['Esimerkkikysymys', str(topic.example_question)],
    ];
    for (const [term, value] of facts) {
      if (value) ui.topicMeta.appendChild(el('div', {}, [el('dt', { text: term }), el('dd', { text: value })]));
    }
    ui.topicComment.textContent = '';
    if (topic.comment) {
      ui.topicComment.appendChild(el('strong', { text: 'Kuvaus: ' }));
      ui.topicComment.appendChild(document.createTextNode(str(topic.comment)));
    }
    ui.topicComment.hidden = !topic.comment;

    ui.answerTitle.value = keepEdits ? keptTitle : str(topic.title);
    ui.answerText.value = keepEdits ? keptText : str(topic.answer);
    clearFieldErrors('answer');
    updateAnswerPreview();

    renderExamples(topic, opts.focusExample);
    renderTopicChanges();
    if (opts.focus) ui.topicHeading.focus();
  }

  async function reloadTopic(opts) {
    if (!state.current) return false;
    return openTopic(state.current.topic.name, Object.assign({ skipConfirm: true }, opts || {}));
  }

  function updateAnswerPreview() {
    const topic = state.current ? state.current.topic : {};
    renderCounter(ui.answerCount, ui.answerText.value);
    renderPreview(ui.answerPreview, ui.answerTitlePreview, ui.answerText.value, ui.answerTitle.value, topic.buttons);
  }

  ui.answerText.addEventListener('input', () => {
    clearFieldError('answer-text');
    updateAnswerPreview();
  });
  ui.answerTitle.addEventListener('input', () => {
    clearFieldError('answer-title');
    updateAnswerPreview();
  });

  function showConflict(message, draftText) {
    ui.conflictMessage.textContent = message;
    ui.conflict.hidden = false;
    if (draftText) {
      ui.draftText.textContent = draftText;
      ui.draft.hidden = false;
    }
    setAlert(message);
    ui.topicReload.focus();
  }

  ui.topicReload.addEventListener('click', async () => {
    const ok = await reloadTopic({ reset: true, focus: true });
    if (ok) {
      clearAlert();
      setStatus('Aihe ladattiin uudelleen. Tee muutoksesi uudestaan.');
    }
  });

  ui.answerForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const current = state.current;
    if (!current) return;
    clearFieldErrors('answer');
    clearAlert();
    const text = ui.answerText.value;
    const title = ui.answerTitle.value.trim();
    if (showInvalid(answerProblems('answer-text', text).concat(titleProblems('answer-title', title)))) return;
    const body = { text, version: str(current.topic.version) };
    if (title !== str(current.topic.title)) body.title = title;
    ui.answerSave.disabled = true;
    try {
      const result = await api('PUT', topicPath(current.topic.name, '/answer'), body);
      showChangeResult(ui.answerResult, result, 'Tallennettu');
      setStatus(`Tallennettu: ${str(result.summary)}. Muutos tulee botin käyttöön, kun julkaiset muutokset.`);
      ui.draft.hidden = true;
      await reloadTopic({ reset: true });
      loadTopics();
    } catch (err) {
      if (err.status === 409) {
        const draft = body.title !== undefined ? `Otsikko: ${title}\n\n${text}` : text;
        showConflict(err.message, draft);
      } else {
        reportError(err, 'answer');
      }
    } finally {
      ui.answerSave.disabled = false;
    }
  });

  // ---- examples -----------------------------------------------------------------------------------------------
  function renderExamples(topic, focusIndex) {
    const examples = list(topic.examples).map(str);
    const question = exampleKey(topic.example_question);
    ui.examplesCount.textContent = `(${examples.length})`;
    if (examples.length < MIN_EXAMPLES) {
      ui.examplesAdvice.textContent = `Aiheessa on liian vähän esimerkkejä julkaisuun: lisää vielä vähintään ${
        MIN_EXAMPLES - examples.length
      }. Suositus on ainakin ${RECOMMENDED_EXAMPLES} eri tavoin muotoiltua kysymystä.`;
      ui.examplesAdvice.className = 'small advice advice--warning';
    } else if (examples.length < RECOMMENDED_EXAMPLES) {
      ui.examplesAdvice.textContent = `Botti tunnistaa aiheen sitä varmemmin, mitä enemmän erilaisia esimerkkejä on. Suositus on ainakin ${RECOMMENDED_EXAMPLES}.`;
      ui.examplesAdvice.className = 'small advice';
    } else {
      ui.examplesAdvice.textContent = '';
      ui.examplesAdvice.className = 'small';
    }
    ui.examplesList.textContent = '';
    examples.forEach((example, index) => {
      const isQuestion = question && exampleKey(example) === question;
      ui.examplesList.appendChild(
        el('li', { className: 'example' }, [
          el('span', { className: 'example-text', text: example }),
          isQuestion ? el('span', { className: 'tag', text: 'esimerkkikysymys' }) : null,
          el(
            'button',
            {
              type: 'button',
              className: 'button-secondary button-small example-remove',
              dataset: { focusKey: `example:${index}` },
              onclick: () => removeExample(example, index),
            },
            ['Poista', vh(` esimerkki ${quoted(example)}`)]
          ),
        ])
      );
    });
    if (typeof focusIndex === 'number') {
      const buttons = ui.examplesList.querySelectorAll('.example-remove');
      if (buttons.length) buttons[Math.min(focusIndex, buttons.length - 1)].focus();
      else ui.examplesNew.focus();
    }
  }

  async function removeExample(example, index) {
    const current = state.current;
    if (!current) return;
    if (!window.confirm(`Poistetaanko esimerkki ${quoted(example)}?`)) return;
    clearAlert();
    try {
      const result = await api('POST', topicPath(current.topic.name, '/examples/remove'), {
        example,
        version: str(current.topic.version),
      });
      showChangeResult(ui.examplesResult, result, 'Poistettu');
      setStatus(`${str(result.summary)}.`);
      await reloadTopic({ focusExample: index });
      loadTopics();
    } catch (err) {
      if (err.status === 409) showConflict(err.message);
      else setAlert(err.message);
    }
  }

  ui.examplesNew.addEventListener('input', () => clearFieldError('examples-new'));

  ui.examplesForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const current = state.current;
    if (!current) return;
    clearFieldErrors('examples');
    clearAlert();
    const examples = lines(ui.examplesNew.value);
    if (!examples.length) {
      showInvalid([['examples-new', 'Kirjoita vähintään yksi esimerkkikysymys, yksi kysymys per rivi.']]);
      return;
    }
    ui.examplesAdd.disabled = true;
    try {
      const result = await api('POST', topicPath(current.topic.name, '/examples'), {
        examples,
        version: str(current.topic.version),
      });
      ui.examplesNew.value = '';
      showChangeResult(ui.examplesResult, result, 'Lisätty');
      setStatus(`${str(result.summary)}. Muutos tulee botin käyttöön, kun julkaiset muutokset.`);
      await reloadTopic();
      loadTopics();
      ui.examplesNew.focus();
    } catch (err) {
      if (err.status === 409) showConflict(err.message);
      else reportError(err, 'examples');
    } finally {
      ui.examplesAdd.disabled = false;
    }
  });

  function renderTopicChanges() {
    const changes = state.current ? state.current.changes : [];
    ui.topicChanges.textContent = '';
    ui.topicChangesEmpty.hidden = changes.length > 0;
    for (const change of changes) {
      ui.topicChanges.appendChild(changeItem(change, { prefix: 'topic', headingTag: 'h4', withTopic: false }));
    }
  }

  // ---- new topic -------------------------------------------------------------------------------------------------
  /** A name suggestion from the title: "Pysäköinti ja parkki" -> "pysakointi_ja_parkki". */
  function suggestName(title) {
    let name = folded(title)
      .replace(/[^a-z0-9]+/g, '_')
      .replace(/^_+|_+$/g, '')
      .replace(/^[0-9_]+/, '');
    name = name.slice(0, 40).replace(/_+$/, '');
    return name;
  }

  /**
   * Opens the new-topic form, optionally prefilled: {examples: [], answer, title, missedIds: [], origin}.
   * The missed ids travel with the form and are marked handled when the topic is created.
   */
  function openNewTopic(prefill) {
    if (!confirmDiscard()) return;
    const fill = prefill || {};
    showView('topics');
    state.current = null;
    state.newTopic = { missedIds: list(fill.missedIds), nameTouched: false };
    clearFieldErrors('newTopic');
    clearAlert();
    ui.newTitle.value = str(fill.title);
    ui.newName.value = fill.title ? suggestName(fill.title) : '';
    ui.newAnswer.value = str(fill.answer);
    ui.newExamples.value = list(fill.examples).map(str).join('\n');
    ui.newOrigin.textContent = str(fill.origin);
    ui.newOrigin.hidden = !fill.origin;
    showPanel('new');
    updateNewTopic();
    ui.newHeading.focus();
  }

  function updateNewTopic() {
    renderCounter(ui.newAnswerCount, ui.newAnswer.value);
    const n = lines(ui.newExamples.value).length;
    const missing = MIN_EXAMPLES - n;
    ui.newExamplesCount.textContent =
      missing > 0
        ? `${plural(n, 'esimerkki', 'esimerkkiä')}. Julkaisuun tarvitaan vielä vähintään ${missing}.`
        : `${plural(n, 'esimerkki', 'esimerkkiä')}.`;
    renderPreview(ui.newPreview, ui.newTitlePreview, ui.newAnswer.value, ui.newTitle.value, []);
  }

  ui.newTopicButton.addEventListener('click', () => openNewTopic());

  ui.newTitle.addEventListener('input', () => {
    clearFieldError('new-topic-title');
    if (state.newTopic && !state.newTopic.nameTouched) ui.newName.value = suggestName(ui.newTitle.value);
    updateNewTopic();
  });
  ui.newName.addEventListener('input', () => {
    clearFieldError('new-topic-name');
    if (state.newTopic) state.newTopic.nameTouched = ui.newName.value !== '';
  });
  ui.newAnswer.addEventListener('input', () => {
    clearFieldError('new-topic-answer');
    updateNewTopic();
  });
  ui.newExamples.addEventListener('input', () => {
    clearFieldError('new-topic-examples');
    updateNewTopic();
  });

  ui.newCancel.addEventListener('click', () => {
    if (newTopicDirty() && !window.confirm('Hylätäänkö uuden aiheen luonnos?')) return;
    state.newTopic = null;
    clearFieldErrors('newTopic');
    for (const control of [ui.newName, ui.newTitle, ui.newAnswer, ui.newExamples]) control.value = '';
    showPanel('empty');
    ui.newTopicButton.focus();
  });

  ui.newForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFieldErrors('newTopic');
    clearAlert();
    const name = ui.newName.value.trim();
    const title = ui.newTitle.value.trim();
    const answer = ui.newAnswer.value;
    const examples = lines(ui.newExamples.value);
    const problems = [];
    if (!NAME_PATTERN.test(name)) {
      problems.push([
        'new-topic-name',
        name
          ? `Tunniste ${quoted(name)} ei kelpaa. Käytä 2–40 merkkiä: pieniä kirjaimia a–z ilman ääkkösiä, numeroita ja alaviivoja, ja aloita kirjaimella, esimerkiksi pysakointi.`
          : 'Tunniste puuttuu. Kirjoita aiheelle tunniste, esimerkiksi pysakointi.',
      ]);
    }
    problems.push(...titleProblems('new-topic-title', title));
    problems.push(...answerProblems('new-topic-answer', answer));
    if (!examples.length) problems.push(['new-topic-examples', 'Anna vähintään yksi esimerkkikysymys, yksi per rivi.']);
    if (showInvalid(problems)) return;
    const missedIds = state.newTopic ? state.newTopic.missedIds : [];
    const body = { name, title, answer, examples };
    if (missedIds.length) body.missed_ids = missedIds;
    ui.newSubmit.disabled = true;
    try {
      const result = await api('POST', editor('/topics'), body);
      if (missedIds.length) {
        const handled = new Set(missedIds);
        state.missed = state.missed.filter((g) => !list(g.ids).some((id) => handled.has(id)));
        renderMissed();
      }
      for (const control of [ui.newName, ui.newTitle, ui.newAnswer, ui.newExamples]) control.value = '';
      state.newTopic = null;
      await loadTopics();
      await openTopic(name, { focus: true, skipConfirm: true });
      showChangeResult(ui.answerResult, result, 'Uusi aihe luotu');
      setStatus(
        `Uusi aihe ${quoted(title)} luotu${missedIds.length ? ' ja kysymykset merkitty käsitellyiksi' : ''}. Se tulee botin käyttöön, kun julkaiset muutokset.`
      );
      if (examples.length < MIN_EXAMPLES) {
        ui.examplesNew.focus();
      }
    } catch (err) {
      reportError(err, 'newTopic');
    } finally {
      ui.newSubmit.disabled = false;
    }
  });

  // ---- what the bot missed --------------------------------------------------------------------------------------
  let missedLoading = null;

  async function loadMissed() {
    if (missedLoading) return missedLoading;
    missedLoading = (async () => {
      try {
        const data = await api('GET', editor('/missed'));
        state.missed = list(data.groups).filter((g) => g && list(g.ids).length);
        renderMissed();
      } catch (err) {
        if (state.view === 'missed') setAlert(err.message);
      } finally {
        missedLoading = null;
      }
    })();
    return missedLoading;
  }

  function groupKey(group) {
    return list(group.ids)
      .slice()
      .sort((a, b) => a - b)
      .join(',');
  }

  function updateMissedCount() {
    const n = state.missed.length;
    ui.missedCount.textContent = n ? `(${n})` : '';
  }

  function topicSelect(id, selected) {
    const select = el('select', { id, className: 'missed-topic' });
    select.appendChild(el('option', { value: '', text: 'Valitse aihe' }));
    for (const topic of state.topics) {
      select.appendChild(el('option', { value: str(topic.name), text: `${str(topic.title)} (${str(topic.name)})` }));
    }
    if (selected && topicByName(selected)) select.value = selected;
    return select;
  }

  function guessText(group) {
    if (group.guess_topic) return topicLabel(group.guess_topic);
    if (group.guess) return str(group.guess);
    return 'ei arvausta';
  }

  function renderMissed() {
    updateMissedCount();
    const key = focusKeyInside(ui.missedList);
    ui.missedList.textContent = '';
    ui.missedEmpty.hidden = state.missed.length > 0;
    state.missed.forEach((group, index) => {
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
          text: 'Lisää esimerkiksi',
          onclick: act(missedAdd),
        }),
        el('button', {
          type: 'button',
          className: 'button-secondary missed-new-topic',
          'aria-describedby': titleId,
          dataset: { focusKey: `new:${gkey}` },
          text: 'Uusi aihe tästä',
          onclick: () => missedNewTopic(group),
        }),
        el('button', {
          type: 'button',
          className: 'button-secondary missed-dismiss',
          'aria-describedby': titleId,
          dataset: { focusKey: `dismiss:${gkey}` },
          text: 'Ohita',
          onclick: act(missedDismiss),
        })
      );
      item.appendChild(el('h3', { id: titleId, className: 'card-title', text: quoted(str(group.representative)) }));
      item.appendChild(
        el('p', { className: 'missed-facts' }, [
          el('strong', { text: `${count} ${count === 1 ? 'kerta' : 'kertaa'}` }),
          group.last_seen ? ' · viimeksi ' : null,
          timeElement(group.last_seen),
        ])
      );
      if (reasons.length) {
        item.appendChild(
          el('ul', { className: 'tags', 'aria-label': 'Syyt' }, reasons.map((r) =>
            el('li', { className: 'tag', text: `${str(r.label || r.reason)} (${Number(r.count) || 0})` })
          ))
        );
      }
      item.appendChild(el('p', {}, [el('strong', { text: 'Botin arvaus: ' }), guessText(group)]));
      if (texts.length) {
        item.appendChild(
          el('details', { className: 'missed-texts' }, [
            el('summary', {}, [`Kysymysten muotoilut (${texts.length})`, vh(` ryhmässä ${quoted(str(group.representative))}`)]),
            el('ul', {}, texts.map((t) => el('li', { text: t }))),
          ])
        );
      }
      item.appendChild(
        el('div', { className: 'missed-actions' }, [
          el('div', { className: 'inline-field' }, [el('label', { for: select.id, text: 'Aihe' }), select]),
          buttons[0],
          buttons[1],
          buttons[2],
        ])
      );
      item.appendChild(errorLine);
      ui.missedList.appendChild(item);
    });
    restoreFocus(ui.missedList, key);
  }

  /** Removes a handled group and puts focus on the next one (or the heading). */
  function dropGroup(group, index) {
    state.missed = state.missed.filter((g) => g !== group);
    state.missedChoice.delete(groupKey(group));
    renderMissed();
    const selects = ui.missedList.querySelectorAll('.missed-topic');
    if (selects.length) selects[Math.min(index, selects.length - 1)].focus();
    else ui.missedTitle.focus();
  }

  function groupError(ctx, message, invalidSelect) {
    ctx.errorLine.textContent = message;
    if (invalidSelect) ctx.select.setAttribute('aria-invalid', 'true');
    setAlert(message);
  }

  async function missedAdd(ctx) {
    const name = ctx.select.value;
    ctx.errorLine.textContent = '';
    ctx.select.removeAttribute('aria-invalid');
    clearAlert();
    if (!name) {
      groupError(ctx, 'Valitse ensin aihe, johon kysymykset lisätään esimerkeiksi.', true);
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
      setStatus(`Aiheeseen ${quoted(str(topic.title || name))}: ${str(result.summary)}. Ryhmä ${quoted(str(ctx.group.representative))} on käsitelty.`);
      dropGroup(ctx.group, ctx.index);
      loadTopics();
      if (state.panel === 'topic' && state.current && state.current.topic.name === name) reloadTopic();
    } catch (err) {
      groupError(ctx, err.message, err.status === 404);
    }
  }

  async function missedDismiss(ctx) {
    ctx.errorLine.textContent = '';
    clearAlert();
    try {
      const result = await api('POST', editor('/missed/dismiss'), { ids: list(ctx.group.ids) });
      const n = Number(result.dismissed);
      setStatus(
        `Ohitettu: ${quoted(str(ctx.group.representative))}${Number.isFinite(n) ? ` (${plural(n, 'kysymys', 'kysymystä')})` : ''}.`
      );
      dropGroup(ctx.group, ctx.index);
    } catch (err) {
      groupError(ctx, err.message, false);
    }
  }

  function missedNewTopic(group) {
    const texts = list(group.texts).map(str);
    openNewTopic({
      examples: texts,
      missedIds: list(group.ids),
      origin: `Esimerkit tulevat kohdasta Mitä botti ei ymmärtänyt (ryhmä ${quoted(str(group.representative))}). Kun luot aiheen, ryhmän kysymykset merkitään käsitellyiksi. Lisää esimerkkejä niin, että niitä on vähintään ${MIN_EXAMPLES}.`,
    });
  }

  ui.missedRefresh.addEventListener('click', () => {
    loadMissed();
    loadAnswered();
    setStatus('Kysymykset päivitetty.');
  });

  // ---- what the agents answered ------------------------------------------------------------------------------------
  async function loadAnswered() {
    try {
      const data = await api('GET', editor('/answered'));
      state.answered = list(data.answered).filter((a) => a && (a.question || a.answer));
    } catch (err) {
      if (state.view === 'missed') setAlert(err.message);
    }
    renderAnswered();
  }

  function renderAnswered() {
    const key = focusKeyInside(ui.answeredList);
    ui.answeredList.textContent = '';
    ui.answeredEmpty.hidden = state.answered.length > 0;
    state.answered.forEach((item, index) => {
      const titleId = `answered-${index}-title`;
      ui.answeredList.appendChild(
        el('li', { className: 'card answered' }, [
          el('h3', { id: titleId, className: 'card-title' }, [vh('Kysymys: '), quoted(str(item.question))]),
          el('p', { className: 'small' }, ['Suljettu ', timeElement(item.closed_at)]),
          el('p', { className: 'answered-label', text: 'Asiakaspalvelijan vastaus:' }),
          el('blockquote', { className: 'answered-answer', text: str(item.answer) }),
          el('div', { className: 'card-actions' }, [
            el('button', {
              type: 'button',
              className: 'button-secondary answered-draft',
              'aria-describedby': titleId,
              dataset: { focusKey: `answered:${str(item.conversation_id)}:${index}` },
              text: 'Tee aiheluonnos',
              onclick: () =>
                openNewTopic({
                  examples: lines(item.question),
                  answer: str(item.answer),
                  origin:
                    'Luonnos asiakaspalvelijan vastauksesta. Muokkaa vastaus sellaiseksi, että se sopii kaikille kysyjille, ja poista asiakkaan omat tiedot. Lisää myös esimerkkikysymyksiä, vähintään 10.',
                }),
            }),
          ]),
        ])
      );
    });
    restoreFocus(ui.answeredList, key);
  }

  // ---- change history ------------------------------------------------------------------------------------------
  async function loadChanges() {
    try {
      const data = await api('GET', editor('/changes'));
      state.changes = list(data.changes);
      for (const change of state.changes) {
        if (change.agent_name && change.agent_id !== undefined) state.agentNames.set(change.agent_id, str(change.agent_name));
      }
    } catch (err) {
      setAlert(err.message);
    }
    renderChanges();
  }

  function renderChanges() {
    const key = focusKeyInside(ui.changesList);
    ui.changesList.textContent = '';
    ui.changesEmpty.hidden = state.changes.length > 0;
    for (const change of state.changes) {
      ui.changesList.appendChild(changeItem(change, { prefix: 'log', headingTag: 'h3', withTopic: true }));
    }
    restoreFocus(ui.changesList, key);
  }

  ui.changesRefresh.addEventListener('click', async () => {
    await loadChanges();
    setStatus('Muutoshistoria päivitetty.');
  });

  // ---- findings --------------------------------------------------------------------------------------------------
  // Every request ends in a final text: the findings, or why they could not be had. Requests may overlap
  // (opening the view, a run ending, the button): only the latest one changes the panel.
  async function loadFindings() {
    const request = ++state.findingsRequest;
    ui.findingsSummary.className = 'findings-summary';
    ui.findingsSummary.textContent = 'Tarkistetaan sisältöä…';
    ui.findingsRefresh.disabled = true;
    try {
      const data = await api('GET', editor('/findings'));
      if (request !== state.findingsRequest) return;
      const found = list(data.findings);
      // Errors ("virhe") first, then warnings; the server's order within each.
      state.findings = found
        .filter((f) => f.severity === 'virhe')
        .concat(found.filter((f) => f.severity !== 'virhe'));
      renderFindings();
    } catch (err) {
      if (request !== state.findingsRequest) return;
      ui.findingsSummary.textContent = `Tarkistusta ei saatu tehtyä: ${err.message}`;
    } finally {
      if (request === state.findingsRequest) ui.findingsRefresh.disabled = false;
    }
  }

  function findingTopic(path) {
    const match = /^data\/faq\/([a-z][a-z0-9_]*)\.yml$/.exec(str(path));
    return match && topicByName(match[1]) ? match[1] : null;
  }

  function renderFindings() {
    const errors = state.findings.filter((f) => f.severity === 'virhe').length;
    const warnings = state.findings.length - errors;
    if (!state.findings.length) {
      ui.findingsSummary.textContent = 'Ei huomautettavaa. Sisältö on valmis julkaistavaksi.';
    } else if (errors) {
      ui.findingsSummary.textContent = `${plural(errors, 'virhe', 'virhettä')}${
        warnings ? ` ja ${plural(warnings, 'varoitus', 'varoitusta')}` : ''
      }. Virheet on korjattava ennen julkaisua; varoitukset kannattaa tarkistaa.`;
    } else {
      ui.findingsSummary.textContent = `${plural(warnings, 'varoitus', 'varoitusta')}. Varoitukset eivät estä julkaisua, mutta ne kannattaa tarkistaa.`;
    }
    ui.findingsSummary.className = errors ? 'findings-summary findings-summary--error' : 'findings-summary';
    ui.findingsList.textContent = '';
    state.findings.forEach((finding, index) => {
      const isError = finding.severity === 'virhe';
      const name = findingTopic(finding.path);
      const messageId = `finding-${index}`;
      ui.findingsList.appendChild(
        el('li', { className: `finding ${isError ? 'finding--error' : 'finding--warning'}` }, [
          el('span', { className: 'finding-badge', text: isError ? 'Virhe' : 'Varoitus' }),
          el('span', { className: 'vh', text: ': ' }),
          el('span', { id: messageId, className: 'finding-message', text: str(finding.message) }),
          el('span', { className: 'finding-place small' }, [
            str(finding.path),
            finding.line ? `, rivi ${str(finding.line)}` : '',
          ]),
          name
            ? el('button', {
                type: 'button',
                className: 'button-secondary button-small',
                'aria-describedby': messageId,
                text: `Avaa aihe ${str(topicByName(name).title)}`,
                onclick: () => openTopicFromElsewhere(name),
              })
            : null,
        ])
      );
    });
  }

  ui.findingsRefresh.addEventListener('click', loadFindings);

  // ---- publishing ------------------------------------------------------------------------------------------------
  function runningRun() {
    return state.runs.find((r) => r && r.state === 'running') || null;
  }

  function updatePublishButtons() {
    const running = Boolean(runningRun()) || state.watchedRunId !== null;
    ui.publishButton.disabled = running;
    ui.rollbackButton.disabled = running || !state.canRollback;
    ui.publishRunningNote.textContent = running ? '(käynnissä)' : '';
  }

  function showProgress(run) {
    const percent = Math.max(0, Math.min(100, Number(run.percent) || 0));
    ui.progressBox.hidden = false;
    setText(ui.progressLabel, run.kind === 'rollback' ? 'Palautuksen eteneminen' : 'Julkaisun eteneminen');
    ui.progress.value = percent;
    ui.progress.textContent = `${Math.round(percent)} %`;
    setText(ui.percent, `${Math.round(percent)} %`);
    const stage = RUN_STAGE[run.stage] ? ` (vaihe: ${RUN_STAGE[run.stage]})` : '';
    setText(ui.publishDetail, str(run.detail) || `${RUN_KIND[run.kind] || 'Julkaisu'} käynnissä${stage}.`);
  }

  function hideProgress() {
    ui.progressBox.hidden = true;
    setText(ui.publishDetail, '');
  }

  /** The result of a finished run; ``quiet``: shown when the page opens, without announcing it. */
  function showRunResult(run, quiet) {
    ui.publishResult.textContent = '';
    if (!run) {
      state.shownRunId = null;
      ui.publishResult.hidden = true;
      return;
    }
    state.shownRunId = run.id;
    const ok = run.state === 'succeeded';
    const kind = run.kind === 'rollback' ? 'Palautus' : 'Julkaisu';
    ui.publishResult.className = `publish-result ${ok ? 'publish-result--ok' : 'publish-result--failed'}`;
    ui.publishResult.appendChild(el('h4', { text: ok ? `${kind} onnistui` : `${kind} epäonnistui` }));
    ui.publishResult.appendChild(el('p', { text: str(run.message) || (ok ? 'Valmis.' : 'Syytä ei kerrottu.') }));
    const details = list(run.details).map(str).filter(Boolean);
    if (details.length) {
      ui.publishResult.appendChild(el('p', { className: 'result-details-title', text: 'Korjattavaa:' }));
      ui.publishResult.appendChild(el('ul', { className: 'result-details' }, details.map((d) => el('li', { text: d }))));
    }
    ui.publishResult.hidden = false;
    if (quiet) return;
    const message = `${kind} ${ok ? 'onnistui' : 'epäonnistui'}: ${str(run.message)}`;
    if (ok) {
      setStatus(message);
    } else {
      setStatus(''); // "Julkaisu aloitettu…" is over
      setAlert(message);
    }
  }

  function schedulePoll() {
    window.clearTimeout(state.pollTimer);
    state.pollTimer = window.setTimeout(pollRuns, POLL_MS);
  }

  async function pollRuns() {
    state.pollTimer = null;
    if (!state.me) return;
    const ok = await loadRuns();
    if (!ok && state.watchedRunId !== null && state.me) {
      setText(ui.publishDetail, 'Julkaisun tilaa ei juuri nyt saatu. Yritetään uudelleen…');
      schedulePoll();
    }
  }

  /** GET /runs; follows a running run until it ends. Returns false if the list could not be loaded. */
  async function loadRuns() {
    let data;
    try {
      data = await api('GET', editor('/runs'));
    } catch (err) {
      if (state.view === 'publish' && state.watchedRunId === null) setAlert(err.message);
      return false;
    }
    state.runs = list(data.runs).filter((r) => r && typeof r === 'object');
    state.canRollback = Boolean(data.can_rollback);
    const running = runningRun();
    if (running) {
      state.watchedRunId = running.id;
      showProgress(running);
      schedulePoll();
    } else if (state.watchedRunId !== null) {
      const finished = state.runs.find((r) => r.id === state.watchedRunId) || null;
      state.watchedRunId = null;
      hideProgress();
      showRunResult(finished);
      loadFindings();
    } else {
      // Nothing running: the page shows how the latest run ended (also after a reload), never a bar.
      hideProgress();
      const latest = state.runs[0] || null;
      if (latest && latest.id !== state.shownRunId) showRunResult(latest, true);
    }
    renderRuns();
    updatePublishButtons();
    return true;
  }

  function renderRuns() {
    ui.runsList.textContent = '';
    ui.runsEmpty.hidden = state.runs.length > 0;
    for (const run of state.runs.slice(0, 20)) {
      const kind = RUN_KIND[run.kind] || str(run.kind);
      const details = list(run.details).map(str).filter(Boolean);
      const stateText = RUN_STATE[run.state] || str(run.state);
      const percent = Math.round(Number(run.percent) || 0);
      ui.runsList.appendChild(
        el('li', { className: `card run run--${str(run.state)}` }, [
          el('h4', { className: 'card-title' }, [`${kind}: `, el('span', { className: 'run-state', text: stateText })]),
          el('dl', { className: 'brief' }, [
            el('div', {}, [el('dt', { text: 'Aloitettu' }), el('dd', {}, [timeElement(run.created_at)])]),
            run.finished_at
              ? el('div', {}, [el('dt', { text: 'Valmistui' }), el('dd', {}, [timeElement(run.finished_at)])])
              : null,
            run.state === 'running'
              ? el('div', {}, [
                  el('dt', { text: 'Vaihe' }),
                  el('dd', { text: `${RUN_STAGE[run.stage] || str(run.stage)}, ${percent} %` }),
                ])
              : null,
          ]),
          run.message ? el('p', { text: str(run.message) }) : null,
          details.length
            ? el('details', {}, [
                el('summary', { text: `Korjattavaa (${details.length})` }),
                el('ul', {}, details.map((d) => el('li', { text: d }))),
              ])
            : null,
        ])
      );
    }
  }

  async function startRun(path, kind) {
    clearAlert();
    showRunResult(null);
    ui.publishButton.disabled = true;
    ui.rollbackButton.disabled = true;
    try {
      const data = await api('POST', editor(path));
      const run = data.run || {};
      state.watchedRunId = run.id !== undefined ? run.id : -1;
      state.runs = [run].concat(state.runs.filter((r) => r.id !== run.id));
      showProgress(Object.assign({ kind, percent: 0 }, run));
      renderRuns();
      updatePublishButtons();
      ui.progressBox.focus();
      setStatus(kind === 'rollback' ? 'Palautus aloitettu.' : 'Julkaisu aloitettu. Botti vastaa entisellä mallilla, kunnes uusi on valmis.');
      schedulePoll();
    } catch (err) {
      setAlert(err.message);
      await loadRuns(); // 409 run_in_progress: follow the run that is going on
      updatePublishButtons();
    }
  }

  // No confirmation: a publish with errors stops at its first stage within seconds and lists them.
  ui.publishButton.addEventListener('click', () => startRun('/publish', 'publish'));

  ui.rollbackButton.addEventListener('click', () => {
    if (
      !window.confirm(
        'Palautetaanko edellinen malli käyttöön? Botti alkaa vastata mallilla, joka oli käytössä ennen viimeisintä julkaisua.'
      )
    ) {
      return;
    }
    startRun('/rollback', 'rollback');
  });

  // ---- start ----------------------------------------------------------------------------------------------
  async function init() {
    try {
      const data = await api('GET', `${AGENT_API}/me`);
      state.csrf = data.csrf_token;
      await startEditor(data.agent, false);
    } catch (err) {
      showLogin(err.status === 401 ? '' : err.message);
    }
  }

  init();
})();
