// WeChat's server-side credentials for Node backends: access_token and
// jsapi_ticket (refreshed once per cluster with a locking store), JS-SDK
// signatures, OAuth tokens and mini-program code2Session. Decisions are the
// Rust CredentialCore's; this file performs I/O and shapes results.
import { CredentialCore, checkWechatReply, isTokenRejection, miniProgramSession } from 'wxsession-bg';
import { codedError } from '../shared/errors.js';
import { ensureStarted } from '../shared/loader.js';
import { signJsapi, nonceStr, stripHash } from '../shared/signature.js';
import { wechatHttp } from './wechat-http.js';
import { credentialStore } from './credential-store.js';
import { runFlight } from './credential-steps.js';
import { FileStore } from './stores.js';

const TOKEN = 0, TICKET = 1, OAUTH = 2;
const JOINED = 0x80000000;

const nonEmpty = (v) => typeof v === 'string' && v !== '';

function badInput(what) { return codedError('BAD_INPUT', what); }

export class Wechat {
  /**
   * { appId, appSecret, store = new FileStore(), apiBase = 'https://api.weixin.qq.com',
   *   stableToken = false, timeout = 10000, margin = 300000, lockTtl, fetch }
   */
  constructor(options = {}) {
    ensureStarted();
    const { appId, appSecret, apiBase = 'https://api.weixin.qq.com', stableToken = false, timeout = 10000 } = options;
    if (!nonEmpty(appId) || !nonEmpty(appSecret)) throw codedError('BAD_CONFIG', 'Wechat needs appId and appSecret (non-empty strings)');
    if (!/^https?:\/\//.test(apiBase)) throw codedError('BAD_CONFIG', 'apiBase must be an http(s) URL');
    if (!(Number.isInteger(timeout) && timeout > 0)) throw codedError('BAD_CONFIG', 'timeout must be a positive whole number of ms');
    const fetch = options.fetch || globalThis.fetch;
    if (typeof fetch !== 'function') throw codedError('BAD_CONFIG', 'no fetch: use Node 18 or later, or pass options.fetch');
    const coreOptions = { timeout };
    if (options.margin !== undefined) coreOptions.margin = options.margin;
    if (options.lockTtl !== undefined) coreOptions.lockTtl = options.lockTtl;
    this.appId = appId;
    this._secret = appSecret;
    this._stable = !!stableToken;
    this._core = new CredentialCore(JSON.stringify(coreOptions));
    this._ownStore = !options.store;
    this.store = options.store || new FileStore({ appId });
    this._io = credentialStore(this.store);
    this._http = wechatHttp({ apiBase, timeout, fetch });
    this._flights = new Map();
    this._signing = new Map();
    this._exchanges = new Map();
    this.jssdk = { getSignature: (url, opts) => this._signature(url, opts) };
    this.oauth = {
      getAccessToken: (code, key) => this._oauthExchange(code, key),
      refreshAccessToken: (key) => this._oauthRefresh(key),
    };
    this.miniProgram = { code2Session: (code) => this._code2Session(code) };
  }

  /** The global access_token; `force` replaces the one currently stored. */
  async getAccessToken({ force = false } = {}) {
    return (await this._global(TOKEN, force)).value;
  }

  async getJsapiTicket({ force = false } = {}) {
    return (await this._global(TICKET, force)).value;
  }

  /**
   * wechat-jssdk's manual refresh of token and ticket: at most 5 per 2 h per
   * process (RATE_LIMITED beyond), since each spends WeChat's daily quota.
   */
  async refresh() {
    this._core.manualRefresh(Date.now());
    await this._global(TOKEN, true);
    await this._global(TICKET, true);
  }

  /**
   * Any API that takes `access_token`: resolves the reply object. A token
   * WeChat rejects (40001/40014/42001) is replaced, if the store still holds
   * it, and the call retried once.
   */
  async request(path, { method = 'GET', query = {}, body } = {}) {
    if (!nonEmpty(path) || path[0] !== '/') throw badInput('request path must start with /');
    let stale;
    for (let attempt = 0; ; attempt++) {
      const token = (await this._global(TOKEN, false, stale)).value;
      const text = await this._http(method, path, { ...query, access_token: token }, body);
      try {
        checkWechatReply(text);
        return JSON.parse(text);
      } catch (err) {
        if (attempt > 0 || !isTokenRejection(err.errcode)) throw err;
        stale = token;
      }
    }
  }

  async _global(kind, force, stale) {
    if (!force) {
      const memo = this._core.cached(kind, Date.now());
      if (memo !== undefined && memo !== stale) return { value: memo, refreshAt: this._core.number };
    }
    const info = await this._io.global();
    const current = info ? this._core.current(kind, JSON.stringify(info), Date.now()) : undefined;
    if (current !== undefined && !force && current !== stale) return { value: current, refreshAt: this._core.number };
    return this._refresh(kind, '', force ? current : stale, {
      read: () => this._io.freshGlobal(),
      fetch: (arg) => (kind === TOKEN ? this._fetchToken(force || stale !== undefined) : this._http('GET', '/cgi-bin/ticket/getticket', { access_token: arg, type: 'jsapi' })),
      token: (bad) => this._global(TOKEN, false, bad).then((c) => c.value),
      write: (patch) => this._io.updateGlobal(patch),
    });
  }

  _fetchToken(forceNew) {
    if (this._stable) {
      return this._http('POST', '/cgi-bin/stable_token', {}, { grant_type: 'client_credential', appid: this.appId, secret: this._secret, force_refresh: forceNew });
    }
    return this._http('GET', '/cgi-bin/token', { grant_type: 'client_credential', appid: this.appId, secret: this._secret });
  }

  /** One flight per credential in this process; the core says whether to join. */
  _refresh(kind, id, stale, io) {
    const answer = this._core.begin(kind, id, stale, this._io.canLock, Date.now());
    if (answer >= JOINED) return this._flights.get(answer - JOINED);
    const step = this._core.firstStep;
    const flight = runFlight(this._core, answer, step, { ...io, lock: this._io.lock, unlock: this._io.unlock }).finally(() => this._flights.delete(answer));
    this._flights.set(answer, flight);
    return flight;
  }

  /** -> { appId, timestamp, nonceStr, signature, url } for wx.config. */
  async _signature(url, { force = false } = {}) {
    if (!nonEmpty(url)) throw badInput('getSignature needs the page URL');
    const key = stripHash(url);
    if (!force) {
      const cached = await this._io.signature(key);
      // Served only while the ticket it was made with is the current one.
      if (cached && cached.signature && cached.jsapi_ticket === (await this._global(TICKET, false)).value) return this._public(cached);
    }
    return this._once(this._signing, key, () => this._sign(key));
  }

  async _sign(url) {
    const ticket = await this._global(TICKET, false);
    const now = Date.now();
    const info = { jsapi_ticket: ticket.value, nonceStr: nonceStr(16), timestamp: String(Math.floor(now / 1000)), url };
    info.signature = signJsapi({ jsapiTicket: info.jsapi_ticket, nonceStr: info.nonceStr, timestamp: info.timestamp, url });
    // Expires with its ticket, so the store never keeps it past usefulness.
    await this._io.saveSignature(url, { ...info, expiresAt: ticket.refreshAt, modifyDate: now });
    return this._public(info);
  }

  _public(sig) {
    return { appId: this.appId, timestamp: sig.timestamp, nonceStr: sig.nonceStr, signature: sig.signature, url: sig.url };
  }

  /** Exchanges an OAuth code (once, even if asked concurrently) and stores the token under `key` (default: openid). */
  _oauthExchange(code, key) {
    if (!nonEmpty(code)) return Promise.reject(badInput('oauth.getAccessToken needs the code'));
    if (key !== undefined && !nonEmpty(key)) return Promise.reject(badInput('the OAuth key must be a non-empty string'));
    return this._once(this._exchanges, 'oauth:' + code, async () => {
      const body = await this._http('GET', '/sns/oauth2/access_token', { appid: this.appId, secret: this._secret, code, grant_type: 'authorization_code' });
      const info = JSON.parse(this._core.oauthInfo(body, Date.now()));
      await this._io.saveOAuth(key || info.openid, info);
      return info;
    });
  }

  /** Refreshes the OAuth token stored under `key`; resolves the stored info. */
  async _oauthRefresh(key) {
    if (!nonEmpty(key)) throw badInput('oauth.refreshAccessToken needs the key the token was stored under');
    const stored = await this._io.oauth(key);
    const stale = stored && typeof stored.access_token === 'string' ? stored.access_token : undefined;
    await this._refresh(OAUTH, key, stale, {
      read: () => this._io.freshOAuth(key),
      fetch: (refreshToken) => this._http('GET', '/sns/oauth2/refresh_token', { appid: this.appId, grant_type: 'refresh_token', refresh_token: refreshToken }),
      token: () => Promise.reject(badInput('OAuth refreshes need no access_token')),
      write: (patch) => this._io.updateOAuth(key, patch),
    });
    return this._io.oauth(key);
  }

  /** -> { openid, sessionKey, unionid? }. The session_key is not stored. */
  _code2Session(code) {
    if (!nonEmpty(code)) return Promise.reject(badInput('code2Session needs the code from wx.login'));
    return this._once(this._exchanges, 'js:' + code, async () => {
      const body = await this._http('GET', '/sns/jscode2session', { appid: this.appId, secret: this._secret, js_code: code, grant_type: 'authorization_code' });
      return JSON.parse(miniProgramSession(body));
    });
  }

  // One call per key at a time: codes are single-use, and one page URL
  // needs one signature however many ask at once.
  _once(map, key, run) {
    const running = map.get(key);
    if (running) return running;
    const p = run().finally(() => map.delete(key));
    map.set(key, p);
    return p;
  }

  /** Destroys the store if this instance created it. */
  async close() {
    if (this._ownStore) await this.store.destroy();
  }
}
