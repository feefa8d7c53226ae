// Token Store backend for H5 pages: localStorage (or any object with
// getItem/setItem/removeItem), one JSON { value, expiresAt } record per key.
// localStorage is synchronous; the promises only match the other backends.
// No lock: tabs share the storage but not a lock primitive (navigator.locks
// would be the tool if the lead ever needs one).
import { storeError, checkKey, checkValue, checkTtl, expiresAtFor, isRecord, isLive } from './common.js';

function defaultStorage() {
  // Merely reading window.localStorage throws in some sandboxed iframes and
  // with cookies blocked: report it on use, not at construction.
  try {
    // Older WebViews (X5) have no globalThis.
    const root = typeof globalThis !== 'undefined' ? globalThis : typeof window !== 'undefined' ? window : undefined;
    return root ? root.localStorage : undefined;
  } catch (err) {
    return err;
  }
}

function isQuota(err) {
  // Chrome/Safari: QuotaExceededError (legacy code 22); old Firefox: NS_ERROR_DOM_QUOTA_REACHED (1014).
  return !!err && (err.name === 'QuotaExceededError' || err.name === 'NS_ERROR_DOM_QUOTA_REACHED' || err.code === 22 || err.code === 1014);
}

export function localStorageBackend(options) {
  const prefix = options && options.prefix !== undefined ? options.prefix : 'wxsession:';
  const storage = options && options.storage !== undefined ? options.storage : defaultStorage();

  function use(what, fn) {
    if (!storage || storage instanceof Error || typeof storage.getItem !== 'function') {
      throw storeError('STORE_UNAVAILABLE', 'localStorage is not available', storage instanceof Error ? storage : undefined);
    }
    try {
      return fn(storage);
    } catch (err) {
      if (isQuota(err)) throw storeError('STORE_UNAVAILABLE', 'storage quota exceeded while ' + what, err);
      throw storeError('STORE_UNAVAILABLE', 'localStorage failed while ' + what + ': ' + (err && err.message), err);
    }
  }

  return {
    get: async function (key) {
      checkKey(key);
      const text = use('reading', function (s) { return s.getItem(prefix + key); });
      if (text === null || text === undefined) return null;
      let record;
      try {
        record = JSON.parse(text);
      } catch (err) {
        throw storeError('STORE_CORRUPT', 'localStorage key ' + prefix + key + ' holds invalid JSON', err);
      }
      if (!isRecord(record)) throw storeError('STORE_CORRUPT', 'localStorage key ' + prefix + key + ' holds no token record');
      if (isLive(record, Date.now())) return record.value;
      // Expired: free the space (a failure to do so changes nothing for the caller).
      try { storage.removeItem(prefix + key); } catch (_) { /* ignored */ }
      return null;
    },
    set: async function (key, value, ttlMs) {
      checkKey(key); checkValue(value); checkTtl(ttlMs);
      const text = JSON.stringify({ value: value, expiresAt: expiresAtFor(ttlMs, Date.now()) });
      use('writing', function (s) { s.setItem(prefix + key, text); });
    },
    delete: async function (key) {
      checkKey(key);
      use('removing', function (s) { s.removeItem(prefix + key); });
    },
    close: async function () {},
  };
}
