// HTTP to WeChat's API: every call bounded by `timeout`, failures mapped to
// NETWORK / TIMEOUT / HTTP_ERROR. Messages name the path only, never the
// query: it carries the app secret or a token.
import { codedError } from '../shared/errors.js';

export function wechatHttp({ apiBase, timeout, fetch }) {
  const base = apiBase.replace(/\/+$/, '');
  return async function call(method, path, query, body) {
    const url = base + path + '?' + new URLSearchParams(query).toString();
    const what = method + ' ' + path;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeout);
    try {
      const init = { method, signal: controller.signal };
      if (body !== undefined) {
        init.body = JSON.stringify(body);
        init.headers = { 'content-type': 'application/json' };
      }
      const res = await fetch(url, init);
      const text = await res.text();
      if (!res.ok) throw codedError('HTTP_ERROR', what + ' answered HTTP ' + res.status, { status: res.status });
      return text;
    } catch (err) {
      if (err && err.code === 'HTTP_ERROR') throw err;
      if (controller.signal.aborted) throw codedError('TIMEOUT', what + ' timed out after ' + timeout + ' ms');
      throw codedError('NETWORK', what + ' failed: ' + ((err && err.cause && err.cause.message) || (err && err.message) || err), { cause: err });
    } finally {
      clearTimeout(timer);
    }
  };
}
