// What the H5 clients (JS-SDK config, OAuth) share: option checks, the page
// URL, and JSON over fetch with the session's error codes.
import { codedError } from '../shared/errors.js';
import { fetchSend } from '../shared/fetch-host.js';

/** `options` as an object with only `allowed` keys; anything else is BAD_CONFIG (a typo never silently does nothing). */
export function checkOptions(options, allowed, what) {
  if (!options || typeof options !== 'object') throw codedError('BAD_CONFIG', what + ' needs an options object');
  for (const key of Object.keys(options)) {
    if (allowed.indexOf(key) < 0) throw codedError('BAD_CONFIG', what + ': unknown option ' + key);
  }
  return options;
}

export function badConfig(what, message) {
  return codedError('BAD_CONFIG', what + ': ' + message);
}

export function nonEmpty(v) {
  return typeof v === 'string' && v !== '';
}

export function isTimeout(v) {
  return v === undefined || (Number.isInteger(v) && v > 0);
}

/** The page's address, or undefined where there is none (Node, a sandboxed frame). */
export function currentHref() {
  try {
    return globalThis.location.href;
  } catch (_) {
    return undefined;
  }
}

/**
 * JSON over fetch: resolves with the parsed 2xx body; rejects HTTP_ERROR
 * (with .status and .data), NETWORK or TIMEOUT.
 */
export function requestJson(fetchImpl, opts, what) {
  const send = fetchSend(fetchImpl || ((url, init) => fetch(url, init)));
  return new Promise((resolve, reject) => send(Object.assign({ header: {} }, opts), resolve, reject)).then((res) => {
    if (res.status < 200 || res.status > 299) {
      throw codedError('HTTP_ERROR', what + ' answered HTTP ' + res.status, { status: res.status, data: res.data });
    }
    return res.data;
  });
}
