/*
 * The demo website's login (index.html): pick a FICTIONAL demo customer, get a signed token from
 * POST /demo/token and hand it to the chat widget with LumoChat.setAuthToken(token).
 * The chosen customer is remembered for the site (localStorage), as a real site's login cookie is: the
 * token is fetched again on reload and in every other tab, and a login or logout in one tab is
 * followed by the others (the storage event), so no tab keeps a chat its visitor is no longer logged in to.
 */
(function () {
  'use strict';

  const REMEMBER_KEY = 'lumo-demo-customer';

  function giveToken(token) {
    if (window.LumoChat) {
      window.LumoChat.setAuthToken(token);
    } else {
      // The widget has not run yet: it reads this when it starts.
      window.lumoChatConfig = Object.assign({}, window.lumoChatConfig, { authToken: token, authPending: false });
    }
  }

  async function fetchToken(customerId) {
    const response = await fetch('/demo/token', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ customer_id: customerId }),
      credentials: 'same-origin',
    });
    let data = null;
    try {
      data = await response.json();
    } catch (err) {
      data = null;
    }
    if (!response.ok || !data || typeof data.token !== 'string') {
      const message = data && typeof data.message === 'string' ? data.message : null;
      throw new Error(message || 'Kirjautuminen ei onnistunut.');
    }
    return data.token;
  }

  function start() {
    const form = document.getElementById('demo-login-form');
    const select = document.getElementById('demo-customer');
    const logout = document.getElementById('demo-logout');
    const status = document.getElementById('demo-login-status');
    if (!form || !select || !logout || !status) return;

    function remember(customerId) {
      try {
        if (customerId) window.localStorage.setItem(REMEMBER_KEY, customerId);
        else window.localStorage.removeItem(REMEMBER_KEY);
      } catch (err) {
        /* storage blocked: the login lasts until reload */
      }
    }

    function known(customerId) {
      return Boolean(customerId) && Array.from(select.options).some((o) => o.value === customerId);
    }

    async function login(customerId) {
      status.textContent = 'Kirjaudutaan…';
      try {
        const token = await fetchToken(customerId);
        giveToken(token);
        remember(customerId);
        status.textContent = `Olet kirjautunut demoasiakkaana ${customerId}.`;
        logout.hidden = false;
      } catch (err) {
        giveToken(null);
        remember(null);
        status.textContent = `Kirjautuminen ei onnistunut: ${err.message}`;
        logout.hidden = true;
      }
    }

    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const customerId = select.value;
      if (!customerId) {
        status.textContent = 'Valitse ensin demoasiakas.';
        select.focus();
        return;
      }
      login(customerId);
    });

    /** Logged out here (`here`) or in another tab: no token, and no chat of the customer left on screen. */
    function loggedOut(here) {
      giveToken(null);
      if (here) remember(null);
      // A new visitor on this browser should not see the previous customer's chat.
      if (window.LumoChat && typeof window.LumoChat.reset === 'function') window.LumoChat.reset();
      select.value = '';
      logout.hidden = true;
      status.textContent = 'Kirjauduit ulos. Et ole kirjautunut.';
    }

    logout.addEventListener('click', () => {
      loggedOut(true);
      select.focus();
    });

    // Another tab of the site logged in or out: this one follows.
    window.addEventListener('storage', (event) => {
      if (event.key !== REMEMBER_KEY && event.key !== null) return;
      const customerId = event.key === null ? null : event.newValue;
      if (known(customerId)) {
        if (customerId === select.value && !logout.hidden) return;
        select.value = customerId;
        login(customerId);
      } else if (!logout.hidden) {
        loggedOut(false);
      }
    });

    let remembered = null;
    try {
      remembered = window.localStorage.getItem(REMEMBER_KEY);
    } catch (err) {
      remembered = null;
    }
    if (known(remembered)) {
      select.value = remembered;
      // The widget waits for the token before it asks for its session: the chat is this customer's.
      if (!window.LumoChat) window.lumoChatConfig = Object.assign({}, window.lumoChatConfig, { authPending: true });
      login(remembered);
    }
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
