// HTTP for the web and node entries, shaped like wx.request: JSON bodies,
// GET data as a query string, a body parsed as JSON when it is JSON.
import { codedError, withTimeout } from './errors.js';

function query(data) {
  return Object.keys(data).map((k) => encodeURIComponent(k) + '=' + encodeURIComponent(data[k])).join('&');
}

export function fetchSend(fetchImpl) {
  const http = async function http({ url, method, data, header, timeout }) {
    const headers = Object.assign({}, header);
    const upper = String(method || 'GET').toUpperCase();
    let body;
    if (data !== undefined && data !== null) {
      if (upper === 'GET' || upper === 'HEAD') {
        if (typeof data === 'object') url += (url.indexOf('?') < 0 ? '?' : '&') + query(data);
      } else if (typeof data === 'string') {
        body = data;
      } else {
        body = JSON.stringify(data);
        if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
      }
    }
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeout);
    try {
      const res = await fetchImpl(url, { method: upper, headers, body, signal: controller.signal });
      const text = await res.text();
      let parsed = text;
      if (text) { try { parsed = JSON.parse(text); } catch (_) { /* not JSON: keep the text */ } }
      return { status: res.status, data: parsed };
    } catch (err) {
      if (controller.signal.aborted) throw codedError('TIMEOUT', upper + ' ' + url + ' timed out after ' + timeout + ' ms');
      throw codedError('NETWORK', upper + ' ' + url + ' failed: ' + ((err && err.message) || err), { cause: err });
    } finally {
      clearTimeout(timer);
    }
  };
  return (opts, onOk, onErr) => { http(opts).then(onOk, onErr); };
}

// Web and node have no wx.login: the page supplies the code itself.
export function userGetCode(options) {
  return (ms) => withTimeout(Promise.resolve().then(() => options.getCode()), ms, 'getCode').then((code) => {
    if (typeof code !== 'string' || !code) throw codedError('LOGIN_FAILED', 'getCode returned no code');
    return code;
  }, (err) => {
    if (err && err.code === 'TIMEOUT') throw err;
    throw codedError('LOGIN_FAILED', 'getCode failed: ' + ((err && err.message) || err), { cause: err });
  });
}

export function memoryStorage() {
  const map = new Map();
  return {
    get: (k) => (map.has(k) ? map.get(k) : null),
    set: (k, v) => { map.set(k, v); },
    remove: (k) => { map.delete(k); },
  };
}

/** The host of the web and node entries: fetch, the page's own getCode, no wx.checkSession. */
export function fetchHost(options, storage) {
  return {
    now: () => Date.now(),
    checkSession: () => Promise.resolve(),
    getCode: userGetCode(options),
    send: fetchSend((url, init) => fetch(url, init)),
    storage,
  };
}

/** `options` without the keys only the host reads (the core rejects unknown ones). */
export function omit(options, keys) {
  const out = Object.assign({}, options);
  for (const k of keys) delete out[k];
  return out;
}
