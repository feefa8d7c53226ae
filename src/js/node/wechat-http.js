// HTTP to WeChat's API for the server core: every call bounded by
// `timeout`, failures mapped to NETWORK / TIMEOUT / HTTP_ERROR. Queries
// carry the app secret, login codes and tokens, so no message, cause or
// cause-of-cause that leaves here holds a URL or any of those values:
// messages name the path only, and a custom fetch's own error (node-fetch
// puts the URL in it) is copied with every secret scrubbed.
import { codedError, withTimeout } from '../shared/errors.js';

const SENSITIVE = /([?&#]|\b)(secret|appsecret|js_code|code|access_token|refresh_token|ticket|session_key)=[^&#\s"'<>]*/gi;

/** `text` with the query values that carry secrets, and `secrets` themselves, replaced by ***. */
export function scrub(text, secrets) {
  let out = String(text).replace(SENSITIVE, '$1$2=***');
  for (const s of secrets) {
    if (s && s.length >= 4) out = out.split(s).join('***');
  }
  return out;
}

/** A copy of `err` (and its causes, three deep) holding nothing secret. */
export function scrubbed(err, secrets, depth = 0) {
  if (!err || typeof err !== 'object') return err === undefined ? undefined : new Error(scrub(String(err), secrets));
  const copy = new Error(scrub(err.message || String(err), secrets));
  copy.name = typeof err.name === 'string' ? err.name : 'Error';
  if (typeof err.code === 'string' || typeof err.code === 'number') copy.code = err.code;
  if (depth < 3 && err.cause !== undefined) copy.cause = scrubbed(err.cause, secrets, depth + 1);
  return copy;
}

/** `apiBase` as a URL prefix, or BAD_CONFIG. */
export function checkApiBase(apiBase) {
  let url;
  try {
    url = new URL(apiBase);
  } catch (_) {
    throw codedError('BAD_CONFIG', 'apiBase must be an http(s) URL');
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password || url.search || url.hash) {
    throw codedError('BAD_CONFIG', 'apiBase must be an http(s) URL without credentials, query or fragment');
  }
  return url.href.replace(/\/+$/, '');
}

export function wechatHttp({ apiBase, timeout, fetch, secrets }) {
  const base = checkApiBase(apiBase);
  return async function call(method, path, query, body) {
    const what = method + ' ' + path;
    const qs = new URLSearchParams(query).toString();
    const url = base + path + (qs ? '?' + qs : '');
    const controller = new AbortController();
    // The abort is a courtesy to fetches that honour it; the deadline is
    // what bounds the call, so a fetch that ignores the signal, or a body
    // that stalls after the headers, still ends in TIMEOUT.
    const timer = setTimeout(() => controller.abort(), timeout);
    try {
      const init = { method, signal: controller.signal };
      if (body !== undefined) {
        init.body = body;
        init.headers = { 'content-type': 'application/json' };
      }
      const exchange = (async () => {
        const res = await fetch(url, init);
        return { res, text: await res.text() };
      })();
      const { res, text } = await withTimeout(exchange, timeout, what);
      if (!res.ok) throw codedError('HTTP_ERROR', what + ' answered HTTP ' + res.status, { status: res.status });
      if (typeof text !== 'string') throw codedError('HTTP_ERROR', what + ' answered no text');
      return text;
    } catch (err) {
      if (err && err.code === 'HTTP_ERROR') throw err;
      if (controller.signal.aborted) throw codedError('TIMEOUT', what + ' timed out after ' + timeout + ' ms');
      const cause = scrubbed(err, secrets);
      const why = (cause && cause.cause && cause.cause.message) || (cause && cause.message) || 'unknown error';
      throw codedError('NETWORK', what + ' failed: ' + why, { cause });
    } finally {
      clearTimeout(timer);
    }
  };
}
