// A key/value backend in memory, with the { get, set, delete } contract of
// every other backend (ttlMs 0 = no expiry): the node session's default
// storage. ES2017 and no host APIs.
import { checkKey, checkValue, checkTtl, expiresAtFor, isLive } from './common.js';

export function memoryBackend() {
  const entries = new Map();
  return {
    get: function (key) {
      checkKey(key);
      const record = entries.get(key);
      if (!record) return null;
      if (isLive(record, Date.now())) return record.value;
      entries.delete(key);
      return null;
    },
    set: function (key, value, ttlMs) {
      checkKey(key); checkValue(value); checkTtl(ttlMs);
      entries.set(key, { value: value, expiresAt: expiresAtFor(ttlMs, Date.now()) });
    },
    delete: function (key) {
      checkKey(key);
      entries.delete(key);
    },
  };
}
