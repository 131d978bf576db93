/*
 * JSON over HTTP for the agent console and the editor: the session cookie, X-CSRF-Token on every
 * non-GET request, one retry with a fresh CSRF token, and errors as ApiError {status, code, field}.
 */
import { format } from './format.js';

export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code || '';
    this.field = field || null;
  }
}

/**
 * A request function bound to one page:
 *   loginUrl, meUrl      the agent API's log-in and "who am I" URLs (no retry or expiry on those)
 *   csrf                 {get(), set(token)}: where the page keeps its CSRF token (memory only)
 *   text                 {network, failed}: the page's copy; `failed` may use {status}
 *   onUnauthorized()     a 401 on any other URL: the session ended
 * request(method, url, body) resolves to the JSON body (null for 204) or throws ApiError.
 */
export function jsonClient({ loginUrl, meUrl, csrf, text, onUnauthorized }) {
  async function request(method, url, body, retried) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const token = csrf.get();
    if (method !== 'GET' && token) headers['X-CSRF-Token'] = token;
    let response;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'same-origin',
        cache: 'no-store',
      });
    } catch (err) {
      throw new ApiError(0, 'network', text.network);
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
    const field = data && typeof data.field === 'string' ? data.field : null;
    if (response.status === 403 && code === 'csrf' && !retried && url !== loginUrl) {
      // The CSRF token is in memory only: fetch it again once and retry.
      try {
        const me = await request('GET', meUrl, undefined, true);
        csrf.set(me.csrf_token);
        return request(method, url, body, true);
      } catch (err) {
        /* fall through to the original error */
      }
    }
    if (response.status === 401 && url !== loginUrl && url !== meUrl) onUnauthorized();
    throw new ApiError(response.status, code, message || format(text.failed, { status: response.status }), field);
  }
  return (method, url, body) => request(method, url, body, false);
}
