// Official-account web authorization (OAuth) for H5 pages: the authorize
// URL with a CSPRNG state kept in sessionStorage for `stateTtl`, and, on the
// way back, a state check and one exchange of the code at the app backend.
import { codedError } from '../shared/errors.js';
import { ensureStarted } from '../shared/loader.js';
import { nonceStr } from '../shared/nonce.js';
import { checkOptions, intIn } from '../shared/options.js';
import { badConfig, oneOf, currentHref, requestJson } from './common.js';

const AUTHORIZE = 'https://open.weixin.qq.com/connect/oauth2/authorize';
const SCOPES = ['snsapi_base', 'snsapi_userinfo'];
const isStorage = (s) => !!s && ['getItem', 'setItem', 'removeItem'].every((fn) => typeof s[fn] === 'function');
const OPTIONS = {
  appId: 'nonEmptyString',
  redirectUri: (v) => (typeof v === 'string' && /^https?:\/\//.test(v) ? '' : 'an http(s) URL'),
  scope: oneOf(SCOPES),
  exchangeUrl: 'nonEmptyString',
  storage: (v) => (isStorage(v) ? '' : 'an object with getItem, setItem and removeItem'),
  fetch: 'function',
  authorizeBase: 'nonEmptyString',
  timeout: intIn(1, 600000, 'ms'),
  // Long enough to read WeChat's consent page, short enough that a state
  // copied out of an old tab is worthless.
  stateTtl: intIn(1000, 86400000, 'ms'),
};
const DEFAULT_STATE_TTL = 10 * 60 * 1000;
const STATE_KEY = 'wxsession:oauth:state';
const DONE_KEY = 'wxsession:oauth:done';
const WHAT = 'OAuthClient';

// Exchanges by code for this page: a code is redeemed once however many
// callers (or clients) ask.
const exchanges = new Map();

function defaultStorage() {
  try {
    return globalThis.sessionStorage;
  } catch (_) {
    return undefined; // blocked storage: reported as BAD_CONFIG below
  }
}

export class OAuthClient {
  constructor(options) {
    ensureStarted();
    const o = checkOptions(WHAT, options, OPTIONS);
    for (const key of ['appId', 'redirectUri', 'exchangeUrl']) {
      if (o[key] === undefined) throw badConfig(WHAT, key + ' is required');
    }
    const scope = o.scope === undefined ? 'snsapi_base' : o.scope;
    const storage = o.storage !== undefined ? o.storage : defaultStorage();
    if (!isStorage(storage)) throw badConfig(WHAT, 'storage (default sessionStorage) with getItem, setItem and removeItem is not available');
    this._appId = o.appId;
    this._redirectUri = o.redirectUri;
    this._scope = scope;
    this._exchangeUrl = o.exchangeUrl;
    this._storage = storage;
    this._fetch = o.fetch;
    this._base = o.authorizeBase || AUTHORIZE;
    this._timeout = o.timeout || 10000;
    this._stateTtl = o.stateTtl || DEFAULT_STATE_TTL;
  }

  /** Where to send the user; remembers a fresh state for stateTtl (the latest one wins). */
  authorizeUrl() {
    const state = nonceStr(16);
    this._write(STATE_KEY, JSON.stringify({ state, expiresAt: Date.now() + this._stateTtl }));
    return this._base + '?appid=' + encodeURIComponent(this._appId) +
      '&redirect_uri=' + encodeURIComponent(this._redirectUri) +
      '&response_type=code&scope=' + this._scope + '&state=' + state + '#wechat_redirect';
  }

  /**
   * On the page WeChat redirected back to: null without a code; else the
   * exchange's answer (once per code, also across reloads), or OAUTH_STATE
   * when the state is missing or not ours (the backend is never asked).
   */
  handleRedirect(href) {
    const target = href === undefined ? currentHref() : href;
    let params;
    try {
      params = new URL(target).searchParams;
    } catch (_) {
      return Promise.reject(codedError('BAD_INPUT', 'handleRedirect needs an absolute URL, got ' + target));
    }
    const code = params.get('code');
    if (!code) return Promise.resolve(null);
    let p = exchanges.get(code);
    if (!p) {
      p = this._redeem(code, params.get('state'));
      exchanges.set(code, p);
      p.catch(() => { exchanges.delete(code); });
      // The code and state leave the address bar once settled (not before:
      // a reload meanwhile still finds them, and the stored answer).
      const clean = () => { cleanAddressBar(target); };
      p.then(clean, clean);
    }
    return p;
  }

  // The state is checked before anything else: against the one this tab
  // sent (single use, within stateTtl), or, for a reload of a callback this
  // tab already handled, against the state that exchange consumed.
  async _redeem(code, state) {
    if (!state) throw codedError('OAUTH_STATE', 'the OAuth redirect carries no state');
    const now = Date.now();
    const sent = this._read(STATE_KEY);
    if (!sent || sent.state !== state) {
      const done = this._read(DONE_KEY);
      if (done && done.state === state && done.code === code && done.expiresAt > now) return done.result;
      throw codedError('OAUTH_STATE', 'the OAuth state does not match the one this tab sent');
    }
    // Single use: a replay of this state (with another code) fails the check.
    this._storage.removeItem(STATE_KEY);
    if (!(sent.expiresAt > now)) throw codedError('OAUTH_STATE', 'the OAuth state expired (older than stateTtl): start again from authorizeUrl()');
    const result = await requestJson(this._fetch, { url: this._exchangeUrl, method: 'POST', data: { code, state }, timeout: this._timeout }, 'POST ' + this._exchangeUrl);
    if (!result || typeof result !== 'object') {
      throw codedError('HTTP_ERROR', 'POST ' + this._exchangeUrl + ' answered without a JSON object', { status: 200, data: result });
    }
    // Only what the backend answered (the app's session, never WeChat's
    // access_token), so a reload with the code still in the URL needs no
    // second exchange: WeChat would refuse a used code anyway.
    try {
      this._write(DONE_KEY, JSON.stringify({ code, state, result, expiresAt: now + this._stateTtl }));
    } catch (_) { /* not remembered: a reload would fail OAUTH_STATE rather than exchange twice */ }
    return result;
  }

  _read(key) {
    try {
      return JSON.parse(this._storage.getItem(key));
    } catch (_) {
      return null;
    }
  }

  _write(key, value) {
    try {
      this._storage.setItem(key, value);
    } catch (err) {
      throw codedError('STORE_UNAVAILABLE', 'storage failed while writing ' + key + ': ' + ((err && err.message) || err), { cause: err });
    }
  }
}

// Drops code= and state= from the query, keeping every other parameter
// byte for byte (an Android JS-SDK signature is made for this URL) and the
// hash, except the '#wechat_redirect' that browsers carry over from the
// authorize URL. Only when the page is still at the URL that was handled.
function cleanAddressBar(target) {
  const h = globalThis.history;
  if (currentHref() !== target || !h || typeof h.replaceState !== 'function') return;
  const hashAt = target.indexOf('#');
  const hash = hashAt < 0 || target.slice(hashAt) === '#wechat_redirect' ? '' : target.slice(hashAt);
  const beforeHash = hashAt < 0 ? target : target.slice(0, hashAt);
  const q = beforeHash.indexOf('?');
  if (q < 0) return;
  const kept = beforeHash.slice(q + 1).split('&').filter((pair) => {
    const name = pair.split('=')[0];
    return name !== 'code' && name !== 'state';
  });
  try {
    h.replaceState(h.state, '', beforeHash.slice(0, q) + (kept.length ? '?' + kept.join('&') : '') + hash);
  } catch (_) { /* a sandboxed frame: the URL keeps them, and a reload resolves the stored answer */ }
}
