// The package's one fetch wrapper (web and node; mini-programs use
// wx.request): one deadline (withDeadline), an abort once it passes so the
// connection is released, and messages that never carry the query string,
// which may hold a code, a token or a secret. `fetchJson` shapes a call like
// wx.request for the session and the H5 clients.
import { codedError, withDeadline } from './errors.js';

/** `url` without its query and fragment: what messages may show. */
export function withoutQuery(url) {
  const s = String(url);
  const i = s.search(/[?#]/);
  return i < 0 ? s : s.slice(0, i);
}

// An underlying error's message without anything that looks like a query:
// node-fetch and others repeat the URL in their messages, not always
// encoded as it was given.
function reason(err) {
  return String((err && err.message) || err).replace(/\?[^\s"'<>]*/g, '');
}

/**
 * fetchImpl(url, init) within `ms`: resolves { status, text }, or rejects
 * TIMEOUT or NETWORK (with .cause). `what` names the call in messages and
 * must not contain the query.
 */
export function fetchText(fetchImpl, url, init, ms, what) {
  const controller = typeof AbortController === 'function' ? new AbortController() : null;
  const call = Promise.resolve()
    .then(() => fetchImpl(url, controller ? Object.assign({}, init, { signal: controller.signal }) : init))
    .then((res) => {
      if (!res || typeof res.status !== 'number' || typeof res.text !== 'function') throw new Error('fetch answered no response');
      return res.text().then((text) => ({ status: res.status, text: String(text) }));
    })
    .catch((err) => {
      throw codedError('NETWORK', what + ' failed: ' + reason(err), { cause: err });
    });
  return withDeadline(call, ms, 'TIMEOUT', what).catch((err) => {
    if (controller) controller.abort();
    throw err;
  });
}

function query(data) {
  return Object.keys(data).map((k) => encodeURIComponent(k) + '=' + encodeURIComponent(data[k])).join('&');
}

/**
 * wx.request's shape over fetch: `{ url, method, data, header, timeout }`
 * with JSON bodies and GET data as a query string; resolves
 * `{ status, data }` with the body parsed when it is JSON.
 */
export function fetchJson(fetchImpl, { url, method, data, header, timeout }) {
  const headers = Object.assign({}, header);
  const upper = String(method || 'GET').toUpperCase();
  let body;
  if (data !== undefined && data !== null) {
    if (upper === 'GET' || upper === 'HEAD') {
      if (typeof data === 'object') url += (url.indexOf('?') < 0 ? '?' : '&') + query(data);
    } else if (typeof data === 'string') {
      body = data;
    } else {
      try {
        body = JSON.stringify(data);
      } catch (err) {
        // BigInt, a cycle, a throwing toJSON: the request never leaves.
        return Promise.reject(codedError('NETWORK', upper + ' ' + withoutQuery(url) + ' failed: its data is not JSON: ' + reason(err), { cause: err }));
      }
      if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
    }
  }
  return fetchText(fetchImpl, url, { method: upper, headers, body }, timeout, upper + ' ' + withoutQuery(url)).then((res) => {
    let parsed = res.text;
    if (parsed) { try { parsed = JSON.parse(parsed); } catch (_) { /* not JSON: keep the text */ } }
    return { status: res.status, data: parsed };
  });
}
