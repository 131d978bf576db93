// The pages' HTTP client (liveagent/static/lib/api.js): CSRF header, one retry, error shape.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ApiError, jsonClient } from '../../liveagent/static/lib/api.js';

const TEXT = { network: 'Ei yhteyttä.', failed: 'Pyyntö epäonnistui ({status}).' };

function reply(status, body) {
  return { ok: status >= 200 && status < 300, status, json: async () => (body === undefined ? Promise.reject(new Error('no body')) : body) };
}

function client(responses, extra = {}) {
  const calls = [];
  let csrf = 'old';
  let expired = 0;
  globalThis.fetch = async (url, init) => {
    calls.push({ url, method: init.method, headers: init.headers, body: init.body });
    const next = responses.shift();
    if (next instanceof Error) throw next;
    return next;
  };
  const request = jsonClient({
    loginUrl: '/api/agent/login',
    meUrl: '/api/agent/me',
    csrf: { get: () => csrf, set: (token) => { csrf = token; } },
    text: TEXT,
    onUnauthorized: () => { expired += 1; },
    ...extra,
  });
  return { request, calls, csrf: () => csrf, expired: () => expired };
}

test('JSON in and out; the CSRF token only on non-GET requests', async () => {
  const c = client([reply(200, { ok: 1 }), reply(201, { id: 7 })]);
  assert.deepEqual(await c.request('GET', '/api/agent/queue'), { ok: 1 });
  assert.deepEqual(await c.request('POST', '/api/agent/x', { a: 1 }), { id: 7 });
  assert.equal(c.calls[0].headers['X-CSRF-Token'], undefined);
  assert.equal(c.calls[1].headers['X-CSRF-Token'], 'old');
  assert.equal(c.calls[1].body, '{"a":1}');
});

test('204 is null', async () => {
  const c = client([reply(204)]);
  assert.equal(await c.request('POST', '/api/agent/logout'), null);
});

test('a stale CSRF token is fetched again once and the request retried', async () => {
  const c = client([reply(403, { error: 'csrf' }), reply(200, { csrf_token: 'new' }), reply(200, { done: true })]);
  assert.deepEqual(await c.request('POST', '/api/agent/x', {}), { done: true });
  assert.deepEqual(c.calls.map((call) => call.url), ['/api/agent/x', '/api/agent/me', '/api/agent/x']);
  assert.equal(c.csrf(), 'new');
  assert.equal(c.calls[2].headers['X-CSRF-Token'], 'new');
});

test('a second CSRF refusal is an error, not a loop', async () => {
  const c = client([reply(403, { error: 'csrf', message: 'Kielletty.' }), reply(200, { csrf_token: 'new' }),
    reply(403, { error: 'csrf', message: 'Kielletty.' })]);
  await assert.rejects(c.request('POST', '/api/agent/x', {}), (err) => err instanceof ApiError && err.status === 403);
  assert.equal(c.calls.length, 3);
});

test('errors carry status, code, field and the server message or the page copy', async () => {
  const c = client([reply(400, { error: 'invalid', message: 'Liian pitkä.', field: 'answer' }), reply(502), new TypeError('offline')]);
  await assert.rejects(c.request('PUT', '/api/editor/topics/a', {}), (err) =>
    err.status === 400 && err.code === 'invalid' && err.field === 'answer' && err.message === 'Liian pitkä.');
  await assert.rejects(c.request('GET', '/api/agent/queue'), (err) => err.status === 502 && err.message === 'Pyyntö epäonnistui (502).');
  await assert.rejects(c.request('GET', '/api/agent/queue'), (err) => err.status === 0 && err.code === 'network' && err.message === 'Ei yhteyttä.');
});

test('401 ends the session, except on log-in and "who am I"', async () => {
  const c = client([reply(401, { error: 'unauthorized' }), reply(401, {}), reply(401, {})]);
  await assert.rejects(c.request('GET', '/api/agent/queue'));
  await assert.rejects(c.request('POST', '/api/agent/login', {}));
  await assert.rejects(c.request('GET', '/api/agent/me'));
  assert.equal(c.expired(), 1);
});
