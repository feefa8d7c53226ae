// A strict fake of the `wx` object, for the parts wxsession touches. It
// behaves like WeChat where that matters: callbacks only (no promises),
// wx.request calls success for every HTTP status, wx.getStorageSync answers
// '' for a missing key, storage round-trips values through serialisation and
// has a quota, and login codes come from WeChatAccounts (usable once).
// wx.uploadFile and wx.downloadFile are in fake-wx-files.mjs.
import { randomBytes } from 'node:crypto';
import { installFiles } from './fake-wx-files.mjs';

export function createWx({ accounts, latency = 0, quotaBytes = 10 * 1024 * 1024, baseLibrary = '3.5.0' } = {}) {
  const storage = new Map();
  const calls = { login: 0, checkSession: 0, request: 0, setStorageSync: 0, getStorageSync: 0, removeStorageSync: 0, getRandomValues: 0,
    getStorage: 0, setStorage: 0, removeStorage: 0 };
  const knobs = {
    failLogins: 0, hangLogin: false, failStorageWrites: false, hangRequests: false, hangStorage: false,
    hangRandom: false, failRandom: false, checkSessionDelay: 0,
  };
  const later = (fn) => setTimeout(fn, latency);
  const finish = (opts, ok, payload) => {
    const cb = ok ? opts.success : opts.fail;
    if (typeof cb === 'function') cb(payload);
    if (typeof opts.complete === 'function') opts.complete(payload);
  };
  const used = () => {
    let n = 0;
    for (const [k, v] of storage) n += k.length + JSON.stringify(v).length;
    return n;
  };
  const store = (api, key, value) => {
    if (typeof key !== 'string' || !key) throw new Error(api + ':fail parameter error: key should be String');
    if (knobs.failStorageWrites) throw new Error(api + ':fail exceed storage max size 10MB');
    const before = storage.has(key) ? key.length + JSON.stringify(storage.get(key)).length : 0;
    if (used() - before + key.length + JSON.stringify(value).length > quotaBytes) {
      throw new Error(api + ':fail exceed storage max size 10MB');
    }
    storage.set(key, JSON.parse(JSON.stringify(value)));
  };

  const wx = {
    calls,
    knobs,
    storage,
    SDKVersion: baseLibrary,
    login(opts = {}) {
      calls.login++;
      if (knobs.hangLogin) return;
      later(() => {
        if (knobs.failLogins > 0) {
          knobs.failLogins--;
          return finish(opts, false, { errMsg: 'login:fail system error' });
        }
        finish(opts, true, { code: accounts.issueCode(), errMsg: 'login:ok' });
      });
    },
    checkSession(opts = {}) {
      calls.checkSession++;
      // The answer is about the session when asked; checkSessionDelay
      // makes it arrive late (after a wx.login that renewed it, say).
      const valid = accounts.sessionValid;
      setTimeout(() => (valid
        ? finish(opts, true, { errMsg: 'checkSession:ok' })
        : finish(opts, false, { errMsg: 'checkSession:fail session time out, need relogin' })), latency + knobs.checkSessionDelay);
    },
    request(opts = {}) {
      calls.request++;
      if (knobs.hangRequests) return { abort() {} };
      const method = (opts.method || 'GET').toUpperCase();
      let url = opts.url;
      if (typeof url !== 'string' || !/^https?:\/\//.test(url)) {
        later(() => finish(opts, false, { errMsg: 'request:fail invalid url "' + url + '"' }));
        return { abort() {} };
      }
      const header = Object.assign({}, opts.header);
      let body;
      if (opts.data !== undefined && opts.data !== null) {
        if (method === 'GET') {
          if (typeof opts.data === 'object') {
            const q = new URLSearchParams(opts.data).toString();
            if (q) url += (url.includes('?') ? '&' : '?') + q;
          }
        } else {
          body = typeof opts.data === 'string' ? opts.data : JSON.stringify(opts.data);
          if (!Object.keys(header).some((h) => h.toLowerCase() === 'content-type')) header['content-type'] = 'application/json';
        }
      }
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), opts.timeout || 60000);
      fetch(url, { method, headers: header, body, signal: controller.signal }).then(async (res) => {
        const text = await res.text();
        let data = text;
        try { data = JSON.parse(text); } catch { /* dataType json falls back to text */ }
        clearTimeout(timer);
        finish(opts, true, { data, statusCode: res.status, header: Object.fromEntries(res.headers), errMsg: 'request:ok' });
      }, () => {
        clearTimeout(timer);
        finish(opts, false, { errMsg: controller.signal.aborted ? 'request:fail timeout' : 'request:fail net::ERR_CONNECTION_REFUSED' });
      });
      return { abort: () => controller.abort() };
    },
    getStorageSync(key) {
      calls.getStorageSync++;
      if (typeof key !== 'string' || !key) throw new Error('getStorageSync:fail parameter error: key should be String');
      return storage.has(key) ? JSON.parse(JSON.stringify(storage.get(key))) : '';
    },
    setStorageSync(key, value) {
      calls.setStorageSync++;
      store('setStorageSync', key, value);
    },
    removeStorageSync(key) {
      calls.removeStorageSync++;
      storage.delete(key);
    },
    // The asynchronous storage APIs share the same storage and quota; a
    // missing key fails (unlike getStorageSync's ''), as on a device.
    getStorage(opts = {}) {
      calls.getStorage++;
      if (knobs.hangStorage) return;
      later(() => {
        if (typeof opts.key !== 'string' || !opts.key) return finish(opts, false, { errMsg: 'getStorage:fail parameter error: key should be String' });
        if (!storage.has(opts.key)) return finish(opts, false, { errMsg: 'getStorage:fail data not found' });
        finish(opts, true, { data: JSON.parse(JSON.stringify(storage.get(opts.key))), errMsg: 'getStorage:ok' });
      });
    },
    setStorage(opts = {}) {
      calls.setStorage++;
      if (knobs.hangStorage) return;
      later(() => {
        try {
          store('setStorage', opts.key, opts.data);
        } catch (err) {
          return finish(opts, false, { errMsg: err.message });
        }
        finish(opts, true, { errMsg: 'setStorage:ok' });
      });
    },
    removeStorage(opts = {}) {
      calls.removeStorage++;
      if (knobs.hangStorage) return;
      later(() => {
        storage.delete(opts.key);
        finish(opts, true, { errMsg: 'removeStorage:ok' });
      });
    },
    getRandomValues(opts = {}) {
      calls.getRandomValues++;
      if (knobs.hangRandom) return;
      later(() => {
        if (knobs.failRandom) return finish(opts, false, { errMsg: 'getRandomValues:fail system error' });
        const n = opts.length;
        if (!Number.isInteger(n) || n <= 0 || n > 1024) return finish(opts, false, { errMsg: 'getRandomValues:fail invalid length' });
        const bytes = randomBytes(n);
        finish(opts, true, { randomValues: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + n), errMsg: 'getRandomValues:ok' });
      });
    },
  };
  installFiles(wx, { latency, finish });
  return wx;
}
