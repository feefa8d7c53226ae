// The host of the web and node entries: fetch shaped like wx.request, the
// page's own getCode (there is no wx.login), no wx.checkSession.
import { codedError, withTimeout } from './errors.js';
import { fetchJson } from './http.js';

// Web and node have no wx.login: the page supplies the code itself.
function userGetCode(getCode) {
  return (ms) => withTimeout(Promise.resolve().then(() => getCode()), ms, 'getCode').then((code) => {
    if (typeof code !== 'string' || !code) throw codedError('LOGIN_FAILED', 'getCode returned no code');
    return code;
  }, (err) => {
    if (err && err.code === 'TIMEOUT') throw err;
    throw codedError('LOGIN_FAILED', 'getCode failed: ' + ((err && err.message) || err), { cause: err });
  });
}

const globalFetch = (url, init) => fetch(url, init);

export function fetchHost(options) {
  return {
    now: () => Date.now(),
    checkSession: () => Promise.resolve(),
    getCode: userGetCode(options.getCode),
    send: (opts, onOk, onErr) => { fetchJson(globalFetch, opts).then(onOk, onErr); },
  };
}
