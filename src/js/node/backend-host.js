// A Store backend as the server core's host uses it. Backends are the
// user's code as often as ours, so none is trusted: every call is bounded
// by the store's deadline (STORE_UNAVAILABLE, never a hang), a synchronous
// throw becomes a rejection, and an answer of the wrong type (a `get` that
// answers 42, {} or a Buffer) is STORE_CORRUPT rather than a silent miss.
import { codedError, withDeadline } from '../shared/errors.js';

const STORE_CODES = ['STORE_UNAVAILABLE', 'STORE_CORRUPT', 'BAD_INPUT', 'BAD_CONFIG'];

function what(v) {
  if (v === null) return 'null';
  if (typeof Buffer !== 'undefined' && Buffer.isBuffer(v)) return 'a Buffer';
  return Array.isArray(v) ? 'an array' : typeof v;
}

export function checkBackend(backend) {
  const missing = ['get', 'set', 'delete'].filter((m) => typeof backend[m] !== 'function');
  if (missing.length) throw codedError('BAD_CONFIG', 'a store backend needs get(key), set(key, value, ttlMs) and delete(key); missing ' + missing.join(', '));
  if ((typeof backend.lock === 'function') !== (typeof backend.unlock === 'function')) {
    throw codedError('BAD_CONFIG', 'a store backend has lock() and unlock() together or neither');
  }
}

export function backendHost(backend, timeout) {
  const call = (method, args) => withDeadline(
    Promise.resolve().then(() => backend[method].apply(backend, args)),
    timeout, 'STORE_UNAVAILABLE', 'backend ' + method,
  ).catch((err) => {
    if (err && STORE_CODES.indexOf(err.code) >= 0) throw err;
    throw codedError('STORE_UNAVAILABLE', 'backend ' + method + ' failed: ' + ((err && err.message) || err), { cause: err });
  });
  const text = (method) => (v) => {
    if (v === null || v === undefined) return null;
    if (typeof v !== 'string') throw codedError('STORE_CORRUPT', 'backend ' + method + ' answered ' + what(v) + ', not a string or null');
    return v;
  };
  return {
    canLock: typeof backend.lock === 'function',
    get: (key) => call('get', [key]).then(text('get')),
    set: (key, value, ttlMs) => call('set', [key, value, ttlMs]).then(() => null),
    delete: (key) => call('delete', [key]).then(() => null),
    lock: (name, ttlMs) => call('lock', [name, ttlMs]).then((token) => (token === false ? null : text('lock')(token))),
    unlock: (name, token) => call('unlock', [name, token]).then(() => null),
    clear: () => {
      if (typeof backend.clear !== 'function') return Promise.reject(codedError('BAD_CONFIG', 'this backend has no clear()'));
      return call('clear', []).then(() => null);
    },
    close: () => (typeof backend.close === 'function' ? call('close', []) : Promise.resolve()),
  };
}
