// Token Store backend for mini-programs: wx.getStorage/setStorage/
// removeStorage (the asynchronous ones, so a large record never blocks the
// UI thread). ES2017 and no Node APIs: this file ships to devices. No lock:
// a mini-program is one process, and the core serialises its own work.
import { storeError, checkKey, checkValue, checkTtl, expiresAtFor, isRecord, isLive } from './common.js';
import { callWx, errMsg } from '../miniprogram/wx.js';

// Looked up per call, not at import: the bundle may load before `wx` exists
// (and tests swap it).
function currentWx() {
  return typeof wx !== 'undefined' ? wx : undefined;
}

// A missing API and a callback WeChat never calls are both an unavailable store.
const STORE_CODES = { timeout: 'STORE_UNAVAILABLE', missing: 'STORE_UNAVAILABLE' };

// Through the package's one wx caller: settles once, with its deadline.
function call(api, args, ms) {
  return new Promise(function (resolve, reject) {
    callWx(currentWx(), STORE_CODES, api, args, ms, resolve, reject);
  });
}

function unavailable(api, err) {
  if (err && err.code === 'STORE_UNAVAILABLE') return err;
  const msg = errMsg(err);
  // WeChat allows 10 MB per mini-program (1 MB per key); past that it fails with "exceed…".
  const why = msg.indexOf('exceed') >= 0 ? 'storage quota exceeded: ' : 'wx.' + api + ' failed: ';
  return storeError('STORE_UNAVAILABLE', why + msg, err);
}

export function wxStorageBackend(options) {
  const prefix = options && options.prefix !== undefined ? options.prefix : 'wxsession:';
  const timeout = options && options.timeout !== undefined ? options.timeout : 5000;

  return {
    get: function (key) {
      return Promise.resolve().then(function () {
        checkKey(key);
        return call('getStorage', { key: prefix + key }, timeout).then(function (res) {
          const record = res ? res.data : undefined;
          // A key cleared by hand or by another SDK version reads as ''.
          if (record === '' || record === undefined || record === null) return null;
          if (!isRecord(record)) throw storeError('STORE_CORRUPT', 'wx storage key ' + prefix + key + ' holds no token record');
          if (isLive(record, Date.now())) return record.value;
          // Free the space now; a failure here changes nothing for the caller.
          call('removeStorage', { key: prefix + key }, timeout).catch(function () {});
          return null;
        }, function (err) {
          if (errMsg(err).indexOf('data not found') >= 0) return null;
          throw unavailable('getStorage', err);
        });
      });
    },
    set: function (key, value, ttlMs) {
      return Promise.resolve().then(function () {
        checkKey(key); checkValue(value); checkTtl(ttlMs);
        const record = { value: value, expiresAt: expiresAtFor(ttlMs, Date.now()) };
        return call('setStorage', { key: prefix + key, data: record }, timeout).then(function () {}, function (err) {
          throw unavailable('setStorage', err);
        });
      });
    },
    delete: function (key) {
      return Promise.resolve().then(function () {
        checkKey(key);
        return call('removeStorage', { key: prefix + key }, timeout).then(function () {}, function (err) {
          throw unavailable('removeStorage', err);
        });
      });
    },
    // Nothing to release: every wx call is bounded by its own deadline.
    close: function () { return Promise.resolve(); },
  };
}
