// What the H5 clients (JS-SDK config, OAuth) share: option kinds, the page
// URL, and JSON over fetch with the session's error codes.
import { codedError } from '../shared/errors.js';
import { fetchJson } from '../shared/http.js';

export function badConfig(what, message) {
  return codedError('BAD_CONFIG', what + ': ' + message);
}

export function nonEmpty(v) {
  return typeof v === 'string' && v !== '';
}

/** A checkOptions kind: one of `values`. */
export function oneOf(values) {
  return (v) => (values.indexOf(v) >= 0 ? '' : values.map((x) => "'" + x + "'").join(' or '));
}

/** The URL as WeChat signs and checks it: without its '#…' fragment. */
export function stripHash(url) {
  const i = url.indexOf('#');
  return i < 0 ? url : url.slice(0, i);
}

/** The page's address, or undefined where there is none (Node, a sandboxed frame). */
export function currentHref() {
  try {
    return globalThis.location.href;
  } catch (_) {
    return undefined;
  }
}

const globalFetch = (url, init) => fetch(url, init);

/**
 * JSON over fetch: resolves with the parsed 2xx body; rejects HTTP_ERROR
 * (with .status and .data), NETWORK or TIMEOUT.
 */
export function requestJson(fetchImpl, opts, what) {
  return fetchJson(fetchImpl || globalFetch, Object.assign({ header: {} }, opts)).then((res) => {
    if (res.status < 200 || res.status > 299) {
      throw codedError('HTTP_ERROR', what + ' answered HTTP ' + res.status, { status: res.status, data: res.data });
    }
    return res.data;
  });
}
