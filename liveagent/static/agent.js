/*
 * Lumo agent console (agent.html): plain ES2020, no framework, no build step.
 *
 * Talks only to the agent API of docs/agent-api.md: HTTP JSON under /api/agent (session cookie,
 * X-CSRF-Token on every non-GET request) and the websocket /api/agent/ws (queue, message, state,
 * typing, presence events; ping, typing and resume from here). Everything that comes from the
 * server is put on the page with textContent / createTextNode, never as HTML.
 */
(function () {
  'use strict';

  const API = '/api/agent';
  const BASE_TITLE = document.title;
  const PING_INTERVAL_MS = 30000;
  const TYPING_IDLE_MS = 3000;
  const TYPING_REFRESH_MS = 5000;
  const VISITOR_TYPING_TIMEOUT_MS = 10000;
  const RECONNECT_MAX_MS = 30000;
  const POLL_WHILE_OFFLINE_MS = 15000;

  const STATE_TEXT = {
    bot: 'Botilla',
    waiting: 'Jonossa',
    assigned: 'Käsittelyssä',
    closed: 'Suljettu',
  };
  const PRESENCE_TEXT = { online: 'Paikalla', away: 'Tauolla', offline: 'Poissa' };

  const $ = (id) => document.getElementById(id);
  const ui = {
    sessionBar: $('session-bar'),
    meName: $('me-name'),
    presence: $('presence'),
    sound: $('sound-toggle'),
    notifyButton: $('notify-button'),
    notifyState: $('notify-state'),
    connection: $('connection-state'),
    logout: $('logout-button'),
    loginView: $('login-view'),
    loginForm: $('login-form'),
    username: $('username'),
    password: $('password'),
    loginError: $('login-error'),
    loginButton: $('login-button'),
    consoleView: $('console-view'),
    deniedView: $('denied-view'),
    deniedTitle: $('denied-title'),
    deniedEditor: $('denied-editor'),
    agentOnly: document.querySelectorAll('.agent-only'),
    viewChats: $('view-chats'),
    viewTickets: $('view-tickets'),
    chatsView: $('chats-view'),
    ticketsView: $('tickets-view'),
    queueCount: $('queue-count'),
    queueError: $('queue-error'),
    queueEmpty: $('queue-empty'),
    queueList: $('queue-list'),
    mineEmpty: $('mine-empty'),
    mineList: $('mine-list'),
    convTitle: $('conversation-title'),
    convPlaceholder: $('conversation-placeholder'),
    convBody: $('conversation-body'),
    convBrief: $('conversation-brief'),
    convClaim: $('conversation-claim'),
    convClaimButton: $('conversation-claim-button'),
    convLog: $('conversation-log'),
    convTyping: $('conversation-typing'),
    convError: $('conversation-error'),
    convReadonly: $('conversation-readonly'),
    replyForm: $('reply-form'),
    noteToggle: $('note-toggle'),
    cannedSelect: $('canned-select'),
    cannedInsert: $('canned-insert'),
    replyLabel: $('reply-label'),
    replyInput: $('reply-input'),
    replySend: $('reply-send'),
    transferSelect: $('transfer-select'),
    transferButton: $('transfer-button'),
    returnButton: $('return-button'),
    closeButton: $('close-button'),
    ticketsCount: $('tickets-count'),
    ticketsRefresh: $('tickets-refresh'),
    ticketsShowHandled: $('tickets-show-handled'),
    ticketsError: $('tickets-error'),
    ticketsEmpty: $('tickets-empty'),
    ticketsList: $('tickets-list'),
    ticketsMore: $('tickets-more'),
    announcer: $('announcer'),
  };

  const state = {
    csrf: null, // kept in memory only
    me: null,
    queue: [], // Brief[], oldest first
    queueSeen: null, // Set of waiting conversation ids already alerted; null before the first snapshot
    mine: [], // Brief[] assigned to me
    agents: [],
    canned: [],
    tickets: [],
    ticketsNext: null, // `before` of the next page of tickets (null: no more)
    ticketsOpen: 0, // unhandled tickets in all, from the service
    open: null, // {brief, messages: Message[], ids: Set}
    noteMode: false,
    newestId: 0, // newest message id seen anywhere: the resume point after a reconnect
    view: 'chats',
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

  function announce(text) {
    // Clear first so the same sentence twice is announced twice.
    ui.announcer.textContent = '';
    window.setTimeout(() => {
      ui.announcer.textContent = text;
    }, 50);
  }

  function formatDuration(totalSeconds) {
    const s = Math.max(0, Math.floor(totalSeconds));
    if (s < 60) return `${s} s`;
    const minutes = Math.floor(s / 60);
    if (minutes < 60) return `${minutes} min ${String(s % 60).padStart(2, '0')} s`;
    return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
  }

  function formatTime(iso) {
    if (!iso) return '';
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return '';
    const today = new Date();
    const time = date.toLocaleTimeString('fi-FI', { hour: '2-digit', minute: '2-digit' });
    if (date.toDateString() === today.toDateString()) return time;
    return `${date.toLocaleDateString('fi-FI')} ${time}`;
  }

  function customerLabel(brief) {
    const customer = brief && brief.customer;
    if (customer && customer.verified && customer.customer_id) return str(customer.customer_id);
    return 'Tunnistamaton asiakas';
  }

  function customerDetail(brief) {
    const customer = brief && brief.customer;
    return customer && customer.verified && customer.customer_id ? 'tunnistettu asiakas' : 'ei tunnistettu';
  }

  function bumpNewest(id) {
    if (typeof id === 'number' && id > state.newestId) state.newestId = id;
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

  // ---- HTTP ----------------------------------------------------------------------------------------
  class ApiError extends Error {
    constructor(status, code, message) {
      super(message || 'Pyyntö epäonnistui.');
      this.status = status;
      this.code = code || '';
    }
  }

  async function api(method, path, body, retried) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (method !== 'GET' && state.csrf) headers['X-CSRF-Token'] = state.csrf;
    let response;
    try {
      response = await fetch(API + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'same-origin',
        cache: 'no-store',
      });
    } catch (err) {
      throw new ApiError(0, 'network', 'Palvelimeen ei saatu yhteyttä. Yritä uudelleen.');
    }
    let data = null;
    if (response.status !== 204) {
      try {
        data = await response.json();
      } catch (err) {
        data = null;
      }
    }
    if (response.ok) return data;
    const code = data && typeof data.error === 'string' ? data.error : '';
    const message = data && typeof data.message === 'string' ? data.message : '';
    if (response.status === 403 && code === 'csrf' && !retried && path !== '/login') {
      // The CSRF token is in memory only: fetch it again once and retry.
      try {
        const me = await api('GET', '/me', undefined, true);
        state.csrf = me.csrf_token;
        return api(method, path, body, true);
      } catch (err) {
        /* fall through to the original error */
      }
    }
    if (response.status === 401 && path !== '/login' && path !== '/me') {
      loggedOut('Istuntosi on päättynyt. Kirjaudu uudelleen.');
    }
    throw new ApiError(response.status, code, message || `Pyyntö epäonnistui (${response.status}).`);
  }

  // ---- login / logout ---------------------------------------------------------------------------------
  function showLogin(message) {
    ui.consoleView.hidden = true;
    ui.deniedView.hidden = true;
    ui.sessionBar.hidden = true;
    ui.loginView.hidden = false;
    ui.loginError.textContent = message || '';
    ui.password.value = '';
    ui.username.focus();
    document.title = BASE_TITLE;
  }

  function loggedOut(message) {
    state.csrf = null;
    state.me = null;
    stopSocket();
    state.open = null;
    state.queueSeen = null;
    showLogin(message);
  }

  ui.loginForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    unlockAudio();
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
      const data = await api('POST', '/login', { username, password });
      state.csrf = data.csrf_token;
      ui.password.value = '';
      await startConsole(data.agent, true);
    } catch (err) {
      ui.loginError.textContent = err.message;
      ui.password.value = '';
      ui.password.focus();
    } finally {
      ui.loginButton.disabled = false;
    }
  });

  ui.logout.addEventListener('click', async () => {
    try {
      await api('POST', '/logout');
    } catch (err) {
      /* logged out anyway */
    }
    loggedOut('Kirjauduit ulos.');
  });

  // The server decides (docs/agent-api.md, rights); the console only stops offering what would be refused.
  function hasRight(agent, right) {
    return Boolean(agent && Array.isArray(agent.rights) && agent.rights.includes(right));
  }

  function showDenied(agent) {
    state.me = agent;
    ui.loginView.hidden = true;
    ui.consoleView.hidden = true;
    ui.sessionBar.hidden = false;
    for (const node of ui.agentOnly) node.hidden = true;
    ui.meName.textContent = `${str(agent.display_name)} (${str(agent.username)})`;
    ui.deniedEditor.hidden = !hasRight(agent, 'edit_content');
    ui.deniedView.hidden = false;
    ui.deniedTitle.focus();
  }

  async function startConsole(agent, focusMain) {
    if (!hasRight(agent, 'handle_chats')) {
      // An editor: no queue, no chats, no socket; the page offers the editor instead.
      showDenied(agent);
      return;
    }
    state.me = agent;
    ui.loginView.hidden = true;
    ui.deniedView.hidden = true;
    ui.consoleView.hidden = false;
    ui.sessionBar.hidden = false;
    for (const node of ui.agentOnly) node.hidden = false;
    ui.meName.textContent = `${str(agent.display_name)} (${str(agent.username)})`;
    ui.presence.value = agent.presence in PRESENCE_TEXT ? agent.presence : 'offline';
    updateNotifyUi();
    showView('chats');
    if (focusMain) $('main').focus();
    await Promise.allSettled([loadQueue(), loadMine(), loadAgents(), loadCanned(), loadTickets()]);
    startSocket();
  }

  // ---- presence ---------------------------------------------------------------------------------------------
  ui.presence.addEventListener('change', async () => {
    const wanted = ui.presence.value;
    const previous = state.me ? state.me.presence : 'offline';
    try {
      const agent = await api('PUT', '/presence', { presence: wanted });
      state.me = Object.assign({}, state.me, agent);
      ui.presence.value = state.me.presence;
      announce(`Tilasi: ${PRESENCE_TEXT[state.me.presence] || state.me.presence}.`);
      if (state.me.presence === 'offline') loadMine();
    } catch (err) {
      ui.presence.value = previous;
      announce(err.message);
    }
  });

  // ---- views -----------------------------------------------------------------------------------------------
  function showView(view) {
    state.view = view;
    ui.chatsView.hidden = view !== 'chats';
    ui.ticketsView.hidden = view !== 'tickets';
    ui.viewChats.setAttribute('aria-pressed', String(view === 'chats'));
    ui.viewTickets.setAttribute('aria-pressed', String(view === 'tickets'));
    if (view === 'tickets') loadTickets();
  }
  ui.viewChats.addEventListener('click', () => showView('chats'));
  ui.viewTickets.addEventListener('click', () => showView('tickets'));

  // ---- queue ---------------------------------------------------------------------------------------------
  let queueLoadFailed = false;

  async function loadQueue() {
    try {
      const data = await api('GET', '/queue');
      setQueue(data.conversations || []);
      if (queueLoadFailed) ui.queueError.textContent = '';
      queueLoadFailed = false;
    } catch (err) {
      ui.queueError.textContent = err.message;
      queueLoadFailed = true;
    }
  }

  function withClock(brief) {
    const copy = Object.assign({}, brief);
    if (typeof brief.waiting_seconds === 'number') {
      copy._since = Date.now() - brief.waiting_seconds * 1000; // our clock: no server clock skew
    } else if (brief.waiting_since) {
      const since = Date.parse(brief.waiting_since);
      copy._since = Number.isNaN(since) ? Date.now() : since;
    } else {
      copy._since = Date.now();
    }
    return copy;
  }

  function setQueue(conversations) {
    const list = conversations.filter((c) => c && c.id).map(withClock);
    const fresh = state.queueSeen ? list.filter((c) => !state.queueSeen.has(c.id)) : [];
    const ids = new Set(list.map((c) => c.id));
    const left = state.queue.some((c) => !ids.has(c.id));
    state.queue = list;
    state.queueSeen = ids;
    if (left) loadMineSoon(); // maybe claimed in my other tab
    renderQueue();
    updateTitle();
    if (fresh.length) alertNewWaiting(fresh);
    const open = state.open;
    if (open && open.brief.state === 'waiting' && !state.queueSeen.has(open.brief.id)) {
      refreshOpenBrief(); // the chat in preview left the queue: someone claimed it, or the visitor left
    }
  }

  function updateTitle() {
    const count = state.queue.length;
    document.title = count > 0 ? `(${count}) ${BASE_TITLE}` : BASE_TITLE;
    ui.queueCount.textContent = count > 0 ? `(${count})` : '';
  }

  function renderQueue() {
    const key = focusKeyInside(ui.queueList);
    ui.queueList.textContent = '';
    ui.queueEmpty.hidden = state.queue.length > 0;
    for (const brief of state.queue) {
      const headingId = `queue-item-${brief.id}`;
      const intents = Array.isArray(brief.intents) ? brief.intents.map(str).filter(Boolean) : [];
      const lastMessages = Array.isArray(brief.last_messages) ? brief.last_messages.map(str).filter(Boolean) : [];
      const item = el('li', { className: 'card queue-item' }, [
        el('h3', { id: headingId, className: 'card-title' }, [
          customerLabel(brief),
          el('span', { className: 'small' }, [` – ${customerDetail(brief)}`]),
        ]),
        el('p', { className: 'wait' }, [
          'Odottanut ',
          el('span', { className: 'wait-time', dataset: { since: String(brief._since) } }, [
            formatDuration((Date.now() - brief._since) / 1000),
          ]),
        ]),
        brief.reason_text || brief.reason
          ? el('p', {}, [el('strong', { text: 'Syy: ' }), str(brief.reason_text || brief.reason)])
          : null,
        intents.length ? el('p', {}, [el('strong', { text: 'Aiheet: ' }), intents.join(', ')]) : null,
        brief.last_message ? el('p', { className: 'quote' }, [el('strong', { text: 'Viimeisin viesti: ' }), str(brief.last_message)]) : null,
        lastMessages.length && !brief.last_message
          ? el('div', { className: 'quote' }, [
              el('strong', { text: 'Viimeiset viestit:' }),
              el('ul', {}, lastMessages.slice(-3).map((m) => el('li', { text: m }))),
            ])
          : null,
        el('div', { className: 'card-actions' }, [
          el('button', {
            type: 'button',
            'aria-describedby': headingId,
            dataset: { focusKey: `claim:${brief.id}` },
            text: 'Ota käsittelyyn',
            onclick: () => claim(brief.id),
          }),
          el('button', {
            type: 'button',
            className: 'button-secondary',
            'aria-describedby': headingId,
            dataset: { focusKey: `preview:${brief.id}` },
            text: 'Näytä keskustelu',
            onclick: () => openConversation(brief.id),
          }),
        ]),
      ]);
      ui.queueList.appendChild(item);
    }
    restoreFocus(ui.queueList, key);
  }

  function tickWaitTimes() {
    const now = Date.now();
    for (const node of document.querySelectorAll('.wait-time[data-since]')) {
      const since = Number(node.dataset.since);
      if (!Number.isNaN(since)) node.textContent = formatDuration((now - since) / 1000);
    }
  }
  window.setInterval(tickWaitTimes, 1000);

  async function claim(id, fromConversation) {
    ui.queueError.textContent = '';
    ui.convError.textContent = '';
    try {
      const brief = await api('POST', `/conversations/${encodeURIComponent(id)}/claim`);
      upsertMine(brief);
      state.queue = state.queue.filter((c) => c.id !== id);
      renderQueue();
      updateTitle();
      announce(`Otit käsittelyyn: ${customerLabel(brief)}.`);
      await openConversation(brief.id || id);
      ui.replyInput.focus();
    } catch (err) {
      // 409 already_claimed / not_waiting: the server's own Finnish message.
      if (fromConversation) ui.convError.textContent = err.message;
      else ui.queueError.textContent = err.message;
      loadQueue();
      if (state.open && state.open.brief.id === id) refreshOpenBrief();
    }
  }

  // ---- alerts: sound, title, notification --------------------------------------------------------
  let audioContext = null;

  function unlockAudio() {
    const AudioCtx = window.AudioContext || window.webkitAudioContext;
    if (!AudioCtx) return;
    try {
      if (!audioContext) audioContext = new AudioCtx();
      if (audioContext.state === 'suspended') audioContext.resume();
    } catch (err) {
      audioContext = null;
    }
  }
  // Browsers start audio only after a user gesture: the first click or key press unlocks it.
  document.addEventListener('pointerdown', unlockAudio, { passive: true });
  document.addEventListener('keydown', unlockAudio);

  function beep() {
    if (!ui.sound.checked || !audioContext || audioContext.state !== 'running') return;
    const t = audioContext.currentTime;
    const oscillator = audioContext.createOscillator();
    const gain = audioContext.createGain();
    oscillator.type = 'sine';
    oscillator.frequency.setValueAtTime(880, t);
    oscillator.frequency.setValueAtTime(1175, t + 0.15);
    gain.gain.setValueAtTime(0.0001, t);
    gain.gain.exponentialRampToValueAtTime(0.25, t + 0.02);
    gain.gain.setValueAtTime(0.25, t + 0.28);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.35);
    oscillator.connect(gain);
    gain.connect(audioContext.destination);
    oscillator.start(t);
    oscillator.stop(t + 0.36);
  }

  function notificationsSupported() {
    return 'Notification' in window;
  }

  function updateNotifyUi() {
    if (!notificationsSupported()) {
      ui.notifyButton.hidden = true;
      ui.notifyState.textContent = 'Selain ei tue ilmoituksia.';
      return;
    }
    const permission = window.Notification.permission;
    ui.notifyButton.hidden = permission !== 'default';
    ui.notifyState.textContent =
      permission === 'granted' ? 'Ilmoitukset käytössä.' : permission === 'denied' ? 'Ilmoitukset estetty selaimessa.' : '';
  }

  ui.notifyButton.addEventListener('click', async () => {
    if (!notificationsSupported()) return;
    try {
      await window.Notification.requestPermission();
    } catch (err) {
      /* old callback-style API: the state is read below */
    }
    updateNotifyUi();
    ui.sound.focus();
  });

  function notify(title, body) {
    if (!notificationsSupported() || window.Notification.permission !== 'granted') return;
    try {
      const notification = new window.Notification(title, { body, tag: 'lumo-queue', lang: 'fi' });
      notification.addEventListener('click', () => {
        window.focus();
        notification.close();
      });
    } catch (err) {
      /* some browsers allow notifications only from a service worker */
    }
  }

  function alertNewWaiting(fresh) {
    beep();
    const first = fresh[0];
    const text =
      fresh.length === 1
        ? `Uusi asiakas jonossa: ${customerLabel(first)}${first.reason_text ? ' – ' + str(first.reason_text) : ''}.`
        : `${fresh.length} uutta asiakasta jonossa.`;
    announce(`${text} Jonossa yhteensä ${state.queue.length}.`);
    notify('Uusi asiakas jonossa', text);
  }

  // ---- my conversations ---------------------------------------------------------------------------------
  async function loadMine() {
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

  let mineTimer = null;
  function loadMineSoon() {
    window.clearTimeout(mineTimer);
    mineTimer = window.setTimeout(loadMine, 300);
  }

  function upsertMine(brief) {
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

  function renderMine() {
    const key = focusKeyInside(ui.mineList);
    ui.mineList.textContent = '';
    ui.mineEmpty.hidden = state.mine.length > 0;
    for (const brief of state.mine) {
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
                vh(unread === 1 ? ' (1 lukematon viesti)' : ` (${unread} lukematonta viestiä)`),
              ])
            : null,
          brief.last_message ? el('span', { className: 'mine-last', text: str(brief.last_message) }) : null,
          brief.reason_text ? el('span', { className: 'mine-last', text: str(brief.reason_text) }) : null,
        ]
      );
      ui.mineList.appendChild(el('li', {}, [button]));
    }
    restoreFocus(ui.mineList, key);
  }

  // ---- the open conversation -----------------------------------------------------------------------------
  function holdsOpen() {
    const open = state.open;
    return Boolean(open && state.me && open.brief.state === 'assigned' && open.brief.agent_id === state.me.id);
  }

  async function openConversation(id) {
    ui.convError.textContent = '';
    stopAgentTyping();
    let data;
    try {
      data = await api('GET', `/conversations/${encodeURIComponent(id)}`);
    } catch (err) {
      ui.convError.textContent = err.message;
      return;
    }
    const messages = Array.isArray(data.messages) ? data.messages : [];
    state.open = { brief: data.conversation || { id }, messages: [], ids: new Set() };
    ui.convPlaceholder.hidden = true;
    ui.convBody.hidden = false;
    ui.convTyping.hidden = true;
    ui.replyInput.value = '';
    setNoteMode(false);
    ui.convLog.setAttribute('aria-busy', 'true');
    ui.convLog.textContent = '';
    for (const message of messages) addMessage(message, false);
    ui.convLog.removeAttribute('aria-busy');
    ui.convLog.scrollTop = ui.convLog.scrollHeight;
    renderBrief();
    renderMine();
    markReadSoon();
    if (holdsOpen()) loadAgents();
  }

  function renderBrief() {
    const open = state.open;
    if (!open) return;
    const brief = open.brief;
    ui.convTitle.textContent = `Keskustelu: ${customerLabel(brief)}`;
    const rows = [
      ['Asiakas', `${customerLabel(brief)} (${customerDetail(brief)})`],
      [
        'Tila',
        `${STATE_TEXT[brief.state] || str(brief.state)}${brief.state === 'assigned' && brief.agent_name ? ': ' + str(brief.agent_name) : ''}`,
      ],
      ['Syy', str(brief.reason_text || brief.reason)],
      ['Aiheet', Array.isArray(brief.intents) ? brief.intents.map(str).join(', ') : ''],
    ];
    ui.convBrief.textContent = '';
    for (const [term, value] of rows) {
      if (!value) continue;
      ui.convBrief.appendChild(el('div', {}, [el('dt', { text: term }), el('dd', { text: value })]));
    }
    const holds = holdsOpen();
    ui.convClaim.hidden = brief.state !== 'waiting';
    for (const control of [
      ui.replyInput,
      ui.replySend,
      ui.noteToggle,
      ui.cannedSelect,
      ui.cannedInsert,
      ui.transferSelect,
      ui.transferButton,
      ui.returnButton,
      ui.closeButton,
    ]) {
      control.disabled = !holds;
    }
    ui.convReadonly.hidden = holds;
    renderTransferOptions();
  }

  function senderLabel(message) {
    if (message.kind === 'note') return `Sisäinen muistiinpano – ${str(message.agent_name) || 'asiakaspalvelija'}`;
    switch (message.sender) {
      case 'visitor':
        return 'Asiakas';
      case 'agent':
        return message.agent_name ? `${str(message.agent_name)}, asiakaspalvelija` : 'Asiakaspalvelija';
      case 'system':
        return 'Järjestelmä';
      default:
        return 'Botti';
    }
  }

  function messageClass(message) {
    if (message.kind === 'note') return 'note';
    return ['visitor', 'agent', 'system'].includes(message.sender) ? message.sender : 'bot';
  }

  function renderMessage(message) {
    const kind = messageClass(message);
    const replies = Array.isArray(message.quick_replies) ? message.quick_replies.filter((q) => q && q.title) : [];
    return el('div', { className: `msg msg--${kind}` }, [
      el('p', { className: 'msg-meta' }, [
        el('span', { className: 'msg-sender', text: senderLabel(message) }),
        message.created_at ? el('span', { className: 'msg-time' }, [' · ', formatTime(message.created_at)]) : null,
        vh(': '),
      ]),
      el('p', { className: 'msg-text', text: shownText(message) }),
      replies.length
        ? el('p', { className: 'msg-buttons' }, [
            el('strong', { text: 'Painikkeet: ' }),
            replies.map((q) => str(q.title)).join(' · '),
          ])
        : null,
    ]);
  }

  /** A visitor's quick-reply payload ("/intent") is shown as the button title the visitor saw. */
  function shownText(message) {
    const text = str(message.text);
    if (message.sender !== 'visitor' || !text.startsWith('/') || !state.open) return text;
    for (let i = state.open.messages.length - 1; i >= 0; i -= 1) {
      const replies = state.open.messages[i].quick_replies;
      const hit = Array.isArray(replies) ? replies.find((q) => q && q.payload === text && q.title) : null;
      if (hit) return `${str(hit.title)} [painike ${text}]`;
    }
    return text;
  }

  function addMessage(message, live) {
    const open = state.open;
    if (!open || !message || typeof message !== 'object') return false;
    bumpNewest(message.id);
    if (typeof message.id === 'number') {
      if (open.ids.has(message.id)) return false;
      open.ids.add(message.id);
    }
    open.messages.push(message);
    const log = ui.convLog;
    const stick = !live || log.scrollHeight - log.scrollTop - log.clientHeight < 80;
    log.appendChild(renderMessage(message));
    if (stick) log.scrollTop = log.scrollHeight;
    if (live && message.sender === 'visitor') ui.convTyping.hidden = true;
    return true;
  }

  // Read marks: the newest message of the open conversation, while the console is in view.
  let readTimer = null;
  function markReadSoon() {
    window.clearTimeout(readTimer);
    readTimer = window.setTimeout(markRead, 500);
  }

  async function markRead() {
    const open = state.open;
    if (!open || document.visibilityState !== 'visible' || !document.hasFocus()) return;
    const newest = open.messages.reduce((max, m) => (typeof m.id === 'number' && m.id > max ? m.id : max), 0);
    if (!newest || open.readUpTo >= newest) return;
    const isMine = state.mine.find((c) => c.id === open.brief.id);
    if (!isMine) return; // read marks matter only for my own conversations
    try {
      await api('POST', `/conversations/${encodeURIComponent(open.brief.id)}/read`, { message_id: newest });
      open.readUpTo = newest;
      isMine.unread = 0;
      renderMine();
    } catch (err) {
      /* the unread badge simply stays */
    }
  }
  window.addEventListener('focus', markReadSoon);
  document.addEventListener('visibilitychange', markReadSoon);

  // ---- reply box, notes, canned replies ---------------------------------------------------------------------
  function setNoteMode(on) {
    state.noteMode = on;
    ui.noteToggle.setAttribute('aria-pressed', String(on));
    ui.replyForm.classList.toggle('reply--note', on);
    ui.replyLabel.textContent = on ? 'Sisäinen muistiinpano (ei näy asiakkaalle)' : 'Vastaus asiakkaalle';
    ui.replySend.textContent = on ? 'Tallenna muistiinpano' : 'Lähetä';
    if (on) stopAgentTyping();
  }

  ui.noteToggle.addEventListener('click', () => {
    setNoteMode(!state.noteMode);
    ui.replyInput.focus();
  });

  ui.replyInput.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.altKey && !event.ctrlKey && !event.metaKey && !event.isComposing) {
      event.preventDefault();
      ui.replyForm.requestSubmit ? ui.replyForm.requestSubmit() : sendReply();
    }
  });

  ui.replyForm.addEventListener('submit', (event) => {
    event.preventDefault();
    sendReply();
  });

  let sending = false;
  async function sendReply() {
    const open = state.open;
    const text = ui.replyInput.value.trim();
    if (!open || !text || sending) return;
    if (!holdsOpen()) {
      ui.convError.textContent = 'Voit vastata vain keskusteluun, joka on sinun käsittelyssäsi.';
      return;
    }
    sending = true;
    ui.convError.textContent = '';
    const note = state.noteMode;
    stopAgentTyping();
    try {
      const message = await api('POST', `/conversations/${encodeURIComponent(open.brief.id)}/${note ? 'notes' : 'messages'}`, {
        text,
      });
      if (state.open === open) {
        if (note && message && !message.kind) message.kind = 'note';
        addMessage(message, true);
        ui.convLog.scrollTop = ui.convLog.scrollHeight;
        if (ui.replyInput.value.trim() === text) ui.replyInput.value = '';
        // Note mode stays on until the agent turns it off: a second note must not reach the visitor.
      }
    } catch (err) {
      ui.convError.textContent = err.message; // the text stays in the box
      if (err.status === 403 || err.status === 409) refreshOpenBrief();
    } finally {
      sending = false;
      ui.replyInput.focus();
    }
  }

  async function loadCanned() {
    try {
      const data = await api('GET', '/canned');
      state.canned = Array.isArray(data.canned) ? data.canned : [];
    } catch (err) {
      state.canned = [];
    }
    ui.cannedSelect.textContent = '';
    ui.cannedSelect.appendChild(el('option', { value: '', text: state.canned.length ? 'Valitse valmis vastaus' : 'Ei valmiita vastauksia' }));
    for (const item of state.canned) {
      ui.cannedSelect.appendChild(el('option', { value: str(item.id), text: str(item.title) }));
    }
  }

  ui.cannedInsert.addEventListener('click', () => {
    const item = state.canned.find((c) => str(c.id) === ui.cannedSelect.value);
    if (!item) {
      ui.cannedSelect.focus();
      return;
    }
    const input = ui.replyInput;
    const text = str(item.text);
    const start = input.selectionStart ?? input.value.length;
    const end = input.selectionEnd ?? input.value.length;
    input.value = input.value.slice(0, start) + text + input.value.slice(end);
    input.focus();
    const caret = start + text.length;
    input.setSelectionRange(caret, caret);
    noteAgentTyping();
  });

  // ---- transfer, return, close ---------------------------------------------------------------------------------
  async function loadAgents() {
    try {
      const data = await api('GET', '/agents');
      state.agents = Array.isArray(data.agents) ? data.agents : [];
    } catch (err) {
      /* keep the old list */
    }
    renderTransferOptions();
  }

  function renderTransferOptions() {
    const selected = ui.transferSelect.value;
    const others = state.agents.filter(
      (a) => a && a.presence === 'online' && (!state.me || a.id !== state.me.id) &&
        (!Array.isArray(a.rights) || a.rights.includes('handle_chats'))
    );
    ui.transferSelect.textContent = '';
    ui.transferSelect.appendChild(
      el('option', { value: '', text: others.length ? 'Valitse asiakaspalvelija' : 'Ei muita paikalla olevia' })
    );
    for (const agent of others) {
      ui.transferSelect.appendChild(el('option', { value: str(agent.id), text: str(agent.display_name || agent.username) }));
    }
    if (others.some((a) => str(a.id) === selected)) ui.transferSelect.value = selected;
  }

  async function conversationAction(path, body, done) {
    const open = state.open;
    if (!open) return;
    ui.convError.textContent = '';
    try {
      const brief = await api('POST', `/conversations/${encodeURIComponent(open.brief.id)}/${path}`, body);
      if (brief && brief.id) {
        open.brief = Object.assign({}, open.brief, brief);
        upsertMine(open.brief);
      }
      stopAgentTyping();
      renderBrief();
      announce(done);
      ui.convTitle.focus();
    } catch (err) {
      ui.convError.textContent = err.message;
      refreshOpenBrief();
    }
  }

  ui.transferButton.addEventListener('click', () => {
    const agentId = Number(ui.transferSelect.value);
    if (!ui.transferSelect.value || Number.isNaN(agentId)) {
      ui.convError.textContent = 'Valitse asiakaspalvelija, jolle keskustelu siirretään.';
      ui.transferSelect.focus();
      return;
    }
    const name = ui.transferSelect.selectedOptions[0] ? ui.transferSelect.selectedOptions[0].textContent : '';
    conversationAction('transfer', { agent_id: agentId }, `Keskustelu siirretty: ${name}.`);
  });

  ui.returnButton.addEventListener('click', () => {
    if (!window.confirm('Palautetaanko keskustelu botille?')) return;
    conversationAction('return', undefined, 'Keskustelu palautettu botille.');
  });

  ui.closeButton.addEventListener('click', () => {
    if (!window.confirm('Suljetaanko keskustelu? Asiakasta pyydetään arvioimaan palvelu.')) return;
    conversationAction('close', undefined, 'Keskustelu suljettu.');
  });

  ui.convClaimButton.addEventListener('click', () => {
    if (state.open) claim(state.open.brief.id, true);
  });

  function closeOpen(message) {
    stopAgentTyping();
    state.open = null;
    ui.convBody.hidden = true;
    ui.convPlaceholder.hidden = false;
    ui.convTitle.textContent = 'Keskustelu';
    ui.convLog.textContent = '';
    renderMine();
    announce(message);
  }

  async function refreshOpenBrief() {
    const open = state.open;
    if (!open) return;
    try {
      const data = await api('GET', `/conversations/${encodeURIComponent(open.brief.id)}`);
      if (state.open !== open) return;
      open.brief = data.conversation || open.brief;
      for (const message of data.messages || []) addMessage(message, true);
      renderBrief();
      upsertMine(open.brief);
    } catch (err) {
      // 403: a chat in preview that another agent claimed is no longer ours to see.
      if (err.status === 403 && state.open === open) closeOpen(err.message);
      /* otherwise keep what we have */
    }
  }

  // ---- agent typing (to the visitor) ------------------------------------------------------------------------------
  let agentTyping = false;
  let agentTypingSentAt = 0;
  let agentTypingTimer = null;
  let agentTypingConversation = null;

  function noteAgentTyping() {
    if (state.noteMode || !holdsOpen()) return;
    if (!ui.replyInput.value.trim()) {
      stopAgentTyping();
      return;
    }
    const now = Date.now();
    if (!agentTyping || now - agentTypingSentAt > TYPING_REFRESH_MS) {
      agentTyping = true;
      agentTypingSentAt = now;
      agentTypingConversation = state.open.brief.id;
      send({ type: 'typing', conversation_id: agentTypingConversation, on: true });
    }
    window.clearTimeout(agentTypingTimer);
    agentTypingTimer = window.setTimeout(stopAgentTyping, TYPING_IDLE_MS);
  }

  function stopAgentTyping() {
    window.clearTimeout(agentTypingTimer);
    if (agentTyping && agentTypingConversation) {
      send({ type: 'typing', conversation_id: agentTypingConversation, on: false });
    }
    agentTyping = false;
    agentTypingConversation = null;
  }

  ui.replyInput.addEventListener('input', noteAgentTyping);
  ui.replyInput.addEventListener('blur', stopAgentTyping);

  // ---- tickets -----------------------------------------------------------------------------------------------
  // One page at a time (newest first): a new contact request makes every console re-read the first
  // page only, and re-reads arriving while one is under way are folded into a single one after it.
  const TICKET_PAGE = 50;
  let ticketsLoading = null;
  let ticketsReloadWanted = false;

  function ticketsPath(before) {
    const params = new URLSearchParams({ limit: String(TICKET_PAGE) });
    if (!ui.ticketsShowHandled.checked) params.set('unhandled', '1');
    if (before != null) params.set('before', String(before));
    return `/tickets?${params}`;
  }

  async function loadTickets() {
    if (ticketsLoading) {
      ticketsReloadWanted = true;
      return ticketsLoading;
    }
    ticketsLoading = (async () => {
      try {
        const data = await api('GET', ticketsPath(null));
        state.tickets = Array.isArray(data.tickets) ? data.tickets : [];
        state.ticketsNext = typeof data.next_before === 'number' ? data.next_before : null;
        state.ticketsOpen = typeof data.unhandled === 'number' ? data.unhandled : 0;
        ui.ticketsError.textContent = '';
      } catch (err) {
        ui.ticketsError.textContent = err.message;
      }
      renderTickets();
    })();
    try {
      await ticketsLoading;
    } finally {
      ticketsLoading = null;
    }
    if (ticketsReloadWanted) {
      ticketsReloadWanted = false;
      await loadTickets();
    }
  }

  async function loadMoreTickets() {
    if (state.ticketsNext == null) return;
    try {
      const data = await api('GET', ticketsPath(state.ticketsNext));
      const known = new Set(state.tickets.map((t) => t.id));
      const more = Array.isArray(data.tickets) ? data.tickets.filter((t) => !known.has(t.id)) : [];
      state.tickets = state.tickets.concat(more);
      state.ticketsNext = typeof data.next_before === 'number' ? data.next_before : null;
      ui.ticketsError.textContent = '';
    } catch (err) {
      ui.ticketsError.textContent = err.message;
    }
    renderTickets();
  }

  function renderTickets() {
    const key = focusKeyInside(ui.ticketsList);
    ui.ticketsCount.textContent = state.ticketsOpen ? `(${state.ticketsOpen})` : '';
    const shown = ui.ticketsShowHandled.checked ? state.tickets : state.tickets.filter((t) => !t.handled);
    ui.ticketsEmpty.hidden = shown.length > 0;
    ui.ticketsMore.hidden = state.ticketsNext == null;
    ui.ticketsList.textContent = '';
    for (const ticket of shown) {
      const headingId = `ticket-${str(ticket.id)}`;
      const rows = [
        ['Yhteystieto', str(ticket.contact)],
        ['Jätetty', formatTime(ticket.created_at)],
        ['Tila', ticket.handled ? 'Käsitelty' : 'Käsittelemättä'],
      ];
      ui.ticketsList.appendChild(
        el('li', { className: `card ticket${ticket.handled ? ' ticket--handled' : ''}` }, [
          el('h3', { id: headingId, className: 'card-title', text: str(ticket.name) || 'Nimetön' }),
          el(
            'dl',
            { className: 'brief' },
            rows.filter(([, v]) => v).map(([t, v]) => el('div', {}, [el('dt', { text: t }), el('dd', { text: v })]))
          ),
          el('p', { className: 'msg-text quote', text: str(ticket.message) }),
          ticket.handled
            ? null
            : el('div', { className: 'card-actions' }, [
                el('button', {
                  type: 'button',
                  'aria-describedby': headingId,
                  dataset: { focusKey: `ticket:${str(ticket.id)}` },
                  text: 'Merkitse käsitellyksi',
                  onclick: () => ticketHandled(ticket),
                }),
              ]),
        ])
      );
    }
    restoreFocus(ui.ticketsList, key);
  }

  async function ticketHandled(ticket) {
    try {
      await api('POST', `/tickets/${encodeURIComponent(ticket.id)}/handled`);
      if (!ticket.handled) state.ticketsOpen = Math.max(0, state.ticketsOpen - 1);
      ticket.handled = true;
      renderTickets();
      announce('Yhteydenottopyyntö merkitty käsitellyksi.');
      ui.ticketsRefresh.focus();
    } catch (err) {
      ui.ticketsError.textContent = err.message;
    }
  }

  ui.ticketsRefresh.addEventListener('click', loadTickets);
  ui.ticketsShowHandled.addEventListener('change', loadTickets);
  ui.ticketsMore.addEventListener('click', loadMoreTickets);

  // ---- websocket ------------------------------------------------------------------------------------------------
  let socket = null;
  let socketWanted = false;
  let everConnected = false;
  let reconnectAttempt = 0;
  let reconnectTimer = null;
  let lastPing = 0;
  let visitorTypingTimer = null;

  function send(event) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(event));
      return true;
    }
    return false;
  }

  function startSocket() {
    socketWanted = true;
    connectSocket();
  }

  function stopSocket() {
    socketWanted = false;
    everConnected = false;
    window.clearTimeout(reconnectTimer);
    if (socket) {
      const old = socket;
      socket = null;
      old.close(1000, 'logout');
    }
    ui.connection.textContent = '';
  }

  // After a reconnect, or when the service says events may have been missed (resync): fetch again.
  function catchUp() {
    if (state.newestId > 0) send({ type: 'resume', after_id: state.newestId });
    loadQueue();
    loadMine();
    loadTickets();
    refreshOpenBrief();
  }

  function connectSocket() {
    if (!socketWanted || socket) return;
    const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${scheme}//${window.location.host}${API}/ws`);
    socket = ws;
    ws.addEventListener('open', () => {
      if (socket !== ws) return;
      const reconnect = everConnected;
      everConnected = true;
      reconnectAttempt = 0;
      ui.connection.textContent = reconnect ? 'Yhteys palautui.' : '';
      if (reconnect) {
        window.setTimeout(() => {
          if (ui.connection.textContent === 'Yhteys palautui.') ui.connection.textContent = '';
        }, 5000);
      }
      lastPing = 0;
      activity();
      if (reconnect) catchUp();
    });
    ws.addEventListener('message', (event) => {
      if (socket !== ws) return;
      let data;
      try {
        data = JSON.parse(event.data);
      } catch (err) {
        return;
      }
      if (data && typeof data === 'object') handleEvent(data);
    });
    ws.addEventListener('close', (event) => {
      if (socket !== ws) return;
      socket = null;
      if (!socketWanted) return;
      if (event.code === 4401) {
        checkSession();
        return;
      }
      ui.connection.textContent =
        event.code === 4403 ? 'Yhteys estettiin: sivun osoite ei ole sallittu.' : 'Yhteys katkesi. Yhdistetään uudelleen…';
      scheduleReconnect();
    });
  }

  function scheduleReconnect() {
    window.clearTimeout(reconnectTimer);
    const base = Math.min(RECONNECT_MAX_MS, 1000 * 2 ** Math.min(reconnectAttempt, 5));
    reconnectAttempt += 1;
    const delay = base / 2 + Math.random() * (base / 2); // jitter: not every console at once
    reconnectTimer = window.setTimeout(connectSocket, delay);
  }

  async function checkSession() {
    try {
      const data = await api('GET', '/me');
      state.csrf = data.csrf_token;
      scheduleReconnect();
    } catch (err) {
      if (err.status === 401) loggedOut('Istuntosi on päättynyt. Kirjaudu uudelleen.');
      else scheduleReconnect();
    }
  }

  function handleEvent(event) {
    switch (event.type) {
      case 'queue':
        setQueue(Array.isArray(event.conversations) ? event.conversations : []);
        break;
      case 'message':
        onMessageEvent(event.conversation_id, event.message);
        break;
      case 'resync':
        catchUp();
        break;
      case 'state':
        onStateEvent(event.conversation);
        break;
      case 'typing':
        if (state.open && state.open.brief.id === event.conversation_id) {
          ui.convTyping.hidden = !event.on;
          window.clearTimeout(visitorTypingTimer);
          if (event.on) {
            visitorTypingTimer = window.setTimeout(() => {
              ui.convTyping.hidden = true;
            }, VISITOR_TYPING_TIMEOUT_MS);
          }
        }
        break;
      case 'presence':
        onPresenceEvent(event.agent);
        break;
      case 'tickets':
        loadTickets(); // extension: a new contact request arrived
        break;
      default:
        break;
    }
  }

  function onMessageEvent(conversationId, message) {
    if (!message || typeof message !== 'object') return;
    bumpNewest(message.id);
    const mine = state.mine.find((c) => c.id === conversationId);
    if (mine && message.kind !== 'note' && message.text) mine.last_message = str(message.text);
    if (state.open && state.open.brief.id === conversationId) {
      if (addMessage(message, true)) {
        if (message.sender === 'visitor' && document.visibilityState === 'visible') markReadSoon();
        if (message.sender === 'visitor' && (!document.hasFocus() || document.visibilityState !== 'visible')) {
          loadMineSoon();
        }
      }
      renderMine();
      return;
    }
    if (message.sender === 'visitor') {
      announce(`Uusi viesti: ${mine ? customerLabel(mine) : 'asiakas'}.`);
      loadMineSoon(); // unread counts come from the server
    } else {
      renderMine();
    }
  }

  function onStateEvent(brief) {
    if (!brief || !brief.id) return;
    const wasMine = state.mine.some((c) => c.id === brief.id);
    upsertMine(brief);
    const isMine = brief.state === 'assigned' && state.me && brief.agent_id === state.me.id;
    if (isMine && !wasMine) {
      beep();
      announce(`Sinulle siirrettiin keskustelu: ${customerLabel(brief)}.`);
      notify('Sinulle siirrettiin keskustelu', customerLabel(brief));
    }
    if (state.open && state.open.brief.id === brief.id) {
      state.open.brief = Object.assign({}, state.open.brief, brief);
      renderBrief();
    }
    if (brief.state !== 'waiting' && state.queue.some((c) => c.id === brief.id)) {
      state.queue = state.queue.filter((c) => c.id !== brief.id);
      renderQueue();
      updateTitle();
    }
  }

  function onPresenceEvent(agent) {
    if (!agent || agent.id === undefined) return;
    const index = state.agents.findIndex((a) => a.id === agent.id);
    if (index >= 0) state.agents[index] = Object.assign({}, state.agents[index], agent);
    else state.agents.push(agent);
    renderTransferOptions();
    if (state.me && agent.id === state.me.id && agent.presence && agent.presence !== state.me.presence) {
      state.me = Object.assign({}, state.me, { presence: agent.presence });
      ui.presence.value = agent.presence;
      announce(`Tilasi vaihtui: ${PRESENCE_TEXT[agent.presence] || str(agent.presence)}.`);
      if (agent.presence === 'offline') loadMine();
    }
  }

  // While the websocket is down, poll so the queue and my chats stay roughly current.
  window.setInterval(() => {
    if (!state.me || !socketWanted || (socket && socket.readyState === WebSocket.OPEN)) return;
    loadQueue();
    loadMine();
    refreshOpenBrief();
  }, POLL_WHILE_OFFLINE_MS);

  // Activity pings (reset auto-away), at most one per 30 s.
  function activity() {
    const now = Date.now();
    if (now - lastPing < PING_INTERVAL_MS) return;
    if (send({ type: 'ping' })) lastPing = now;
  }
  for (const type of ['keydown', 'pointerdown', 'wheel', 'touchstart']) {
    document.addEventListener(type, activity, { passive: true });
  }
  window.addEventListener('focus', activity);

  // ---- start ----------------------------------------------------------------------------------------------
  async function init() {
    try {
      const data = await api('GET', '/me');
      state.csrf = data.csrf_token;
      await startConsole(data.agent, false);
    } catch (err) {
      showLogin(err.status === 401 ? '' : err.message);
    }
  }

  init();
})();
