// Promisified wx.* with a hard deadline: WeChat APIs report through
// success/fail callbacks, and a callback that never comes must not leave a
// caller waiting.
import { codedError } from '../shared/errors.js';

export function wxCall(api, args, ms) {
  return new Promise((resolve, reject) => {
    const fn = typeof wx !== 'undefined' ? wx[api] : undefined;
    if (typeof fn !== 'function') {
      reject(codedError('BAD_CONFIG', 'wx.' + api + ' is not available in this base library'));
      return;
    }
    let done = false;
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      reject(codedError('TIMEOUT', 'wx.' + api + ' timed out after ' + ms + ' ms'));
    }, ms);
    const finish = (settle, value) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      settle(value);
    };
    try {
      fn.call(wx, Object.assign({}, args, {
        success: (res) => finish(resolve, res),
        fail: (err) => finish(reject, err || { errMsg: api + ':fail' }),
      }));
    } catch (err) {
      finish(reject, err);
    }
  });
}

function errMsg(err) {
  return (err && (err.errMsg || err.message)) || String(err);
}

export const wxHost = {
  now: () => Date.now(),
  checkSession: (ms) => wxCall('checkSession', {}, ms),
  getCode: (ms) => wxCall('login', { timeout: ms }, ms).then((res) => {
    if (!res || typeof res.code !== 'string' || !res.code) throw codedError('LOGIN_FAILED', 'wx.login returned no code');
    return res.code;
  }, (err) => {
    if (err && err.code === 'TIMEOUT') throw err;
    throw codedError('LOGIN_FAILED', 'wx.login failed: ' + errMsg(err), { errMsg: err && err.errMsg });
  }),
  http: ({ url, method, data, header, timeout }) =>
    wxCall('request', { url, method, data, header, timeout }, timeout).then(
      (res) => ({ status: res.statusCode, data: res.data }),
      (err) => {
        if (err && err.code) throw err;
        const msg = errMsg(err);
        throw codedError(/timeout/i.test(msg) ? 'TIMEOUT' : 'NETWORK', msg, { errMsg: err && err.errMsg });
      },
    ),
  storage: {
    // wx.getStorageSync answers '' for a missing key.
    get: (key) => { const v = wx.getStorageSync(key); return typeof v === 'string' && v ? v : null; },
    set: (key, value) => wx.setStorageSync(key, value),
    remove: (key) => wx.removeStorageSync(key),
  },
};

// wx.getRandomValues (base library 2.15+) is asynchronous, so it seeds the
// core's generator once at start-up instead of serving each request.
export function wxRandomBytes(length, ms) {
  if (typeof wx === 'undefined' || typeof wx.getRandomValues !== 'function') return Promise.resolve(null);
  return wxCall('getRandomValues', { length }, ms).then(
    (res) => (res && res.randomValues ? new Uint8Array(res.randomValues) : null),
    () => null,
  );
}
