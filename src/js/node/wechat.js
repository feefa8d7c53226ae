// WeChat's server-side credentials for Node backends: access_token and
// jsapi_ticket (refreshed once per cluster with a locking store, and seen by
// every process within `recheckInterval`), JS-SDK signatures, OAuth tokens
// and mini-program code2Session. Every decision is the Rust server core's,
// shared with the store it runs on; this file checks arguments, shapes
// results and hands the core an HTTP host.
import { CredKind } from 'wxsession-bg';
import { codedError } from '../shared/errors.js';
import { ensureStarted } from '../shared/loader.js';
import { checkOptions, intIn } from '../shared/options.js';
import { checkKey } from '../shared/info.js';
import { checked, keyText, text } from './args.js';
import { wechatHttp, checkApiBase } from './wechat-http.js';
import { Store, storeError } from './store.js';
import { FileStore } from './stores.js';
import { foreignStoreBackend, JSSDK_METHODS } from './foreign-store.js';
import { Sessions } from './sessions.js';
import { HandleMemo } from './handle-memo.js';

const TOKEN = CredKind.Token, TICKET = CredKind.Ticket;

const OPTIONS = {
  appId: 'nonEmptyString', appSecret: 'nonEmptyString', store: 'object', apiBase: 'string', stableToken: 'boolean',
  timeout: intIn(1, 600000, 'ms'), margin: intIn(0, 3600000, 'ms'), lockTtl: intIn(1, 3600000, 'ms'),
  recheckInterval: intIn(100, 3600000, 'ms'), fetch: 'function', sessions: 'object',
};
const SESSION_OPTIONS = { ttl: intIn(60000, 365 * 86400000, 'ms'), renew: 'boolean' };

const badInput = (what) => codedError('BAD_INPUT', what);

const oauthKey = (key) => keyText('the OAuth key', key, 4096);

/**
 * The store to run on: ours, our wechat-jssdk drop-in (its Store inside),
 * a wechat-jssdk-style one (wrapped: `foreign`), or a new FileStore.
 */
function storeFor(store, appId) {
  if (store === undefined) return { store: new FileStore({ appId }), own: true, foreign: false };
  if (store instanceof Store) return { store, own: false, foreign: false };
  if (store && store._inner instanceof Store) return { store: store._inner, own: false, foreign: false };
  const missing = JSSDK_METHODS.filter((m) => typeof store[m] !== 'function');
  if (missing.length) throw storeError(missing);
  return { store: new Store({ backend: foreignStoreBackend(store), noInterval: true }), own: true, foreign: true };
}

// The settings only this side knows. The core refuses a second Wechat
// whose other settings differ; these must agree too, or one Wechat would
// silently call WeChat through the other's fetch or apiBase.
function checkSameHost(store, host) {
  const first = store._wechatHost;
  if (first && (first.apiBase !== host.apiBase || first.fetch !== host.fetch)) {
    throw codedError('BAD_CONFIG', 'this Store already serves a Wechat with another ' + (first.apiBase !== host.apiBase ? 'apiBase' : 'fetch') + ': give each its own Store');
  }
}

const SESSION_HANDLERS = new Set(['loginHandler', 'middleware', 'koa', 'koaLogin']);

// A wechat-jssdk-style store holds only wechat-jssdk's records: sessions
// are refused before a code is spent, handlers when they are made.
function sessionsRefused() {
  const why = () => codedError('BAD_CONFIG', 'app sessions need a wxsession Store (memory, FileStore, RedisStore, MongoStore or a custom backend); a wechat-jssdk store has no place for them');
  const out = {};
  for (const m of Object.getOwnPropertyNames(Sessions.prototype)) {
    if (m === 'constructor' || m.startsWith('_')) continue;
    out[m] = SESSION_HANDLERS.has(m) ? () => { throw why(); } : () => Promise.reject(why());
  }
  return Object.freeze(out);
}

export class Wechat {
  /**
   * { appId, appSecret, store = new FileStore({ appId }), apiBase = 'https://api.weixin.qq.com',
   *   stableToken = false, timeout = 10000, margin = 300000, lockTtl, recheckInterval = 60000, fetch }
   */
  constructor(options) {
    ensureStarted();
    const o = checkOptions('Wechat', options, OPTIONS);
    if (o.appId === undefined || o.appSecret === undefined) throw codedError('BAD_CONFIG', 'Wechat needs appId and appSecret (non-empty strings)');
    const apiBase = checkApiBase(o.apiBase !== undefined ? o.apiBase : 'https://api.weixin.qq.com');
    const fetch = o.fetch || globalThis.fetch;
    if (typeof fetch !== 'function') throw codedError('BAD_CONFIG', 'no fetch in this Node: pass options.fetch');
    const sessions = checkOptions('Wechat sessions', o.sessions, SESSION_OPTIONS);
    const { store, own, foreign } = storeFor(o.store, o.appId);
    checkSameHost(store, { apiBase, fetch });
    store._core.configure({
      appId: o.appId, appSecret: o.appSecret, stableToken: o.stableToken, timeout: o.timeout,
      margin: o.margin, lockTtl: o.lockTtl, recheckInterval: o.recheckInterval,
      sessionTtl: sessions.ttl, sessionRenew: sessions.renew,
    });
    const timeout = o.timeout !== undefined ? o.timeout : 10000;
    if (!store._wechatHost) {
      store._wechatHost = { apiBase, fetch };
      store._driver.useHttp(wechatHttp({ apiBase, timeout, fetch, secrets: [o.appSecret] }));
    }
    this.appId = o.appId;
    this.store = o.store !== undefined ? o.store : store;
    this._store = store;
    this._own = own;
    this._foreign = foreign;
    this._core = store._core;
    this._driver = store._driver;
    this._views = new HandleMemo(10000);
    this.jssdk = { getSignature: (url, opts) => this._signature(url, opts) };
    this.oauth = {
      getAccessToken: (code, key) => this._oauthExchange(code, key),
      refreshAccessToken: (key) => checked(() => this._run(this._core.startOAuthRefresh(oauthKey(key), Date.now()))),
    };
    this.miniProgram = {
      code2Session: (code) => checked(() => this._run(this._core.startCode2Session(text('the code', code, 512), Date.now()))).then(JSON.parse),
      /** The user's phone number from a getPhoneNumber button's code (wxa/business/getuserphonenumber). */
      getPhoneNumber: (code) => checked(() => this.request('/wxa/business/getuserphonenumber', { method: 'POST', body: { code: text('the code', code, 512) } }))
        .then((reply) => reply.phone_info),
    };
    /** App sessions: login, verify, revoke, decrypt, and their HTTP handlers. */
    this.sessions = foreign ? sessionsRefused() : new Sessions(this);
  }

  _run(started) {
    return this._driver.run(started);
  }

  _credential(kind, options) {
    return checked(() => {
      const force = forceOf(options);
      if (!force) {
        const hit = this._core.credentialHit(kind, Date.now());
        if (hit !== undefined) return Promise.resolve(hit);
      }
      return this._run(this._core.startCredential(kind, undefined, force, Date.now())).then((c) => c.value);
    });
  }

  /** The global access_token; `{ force: true }` replaces the one currently stored. */
  getAccessToken(options) { return this._credential(TOKEN, options); }

  getJsapiTicket(options) { return this._credential(TICKET, options); }

  /**
   * wechat-jssdk's manual refresh of token and ticket: at most 5 per 2 h per
   * process (RATE_LIMITED beyond), since each spends WeChat's daily quota.
   */
  refresh() { return this._run(this._core.startManualRefresh(Date.now())).then(() => undefined); }

  /**
   * Any API that takes `access_token`: resolves the reply object. A token
   * WeChat rejects (40001/40014/42001) is replaced, if the store still holds
   * it, and the call retried once.
   */
  request(path, options) {
    return checked(() => {
      text('the API path', path, 1024);
      const o = checkOptions('request', options, { method: 'string', query: 'object', body: 'object' });
      const method = (o.method || 'GET').toUpperCase();
      if (method !== 'GET' && method !== 'POST') throw badInput('method must be GET or POST');
      const query = [];
      for (const [k, v] of Object.entries(o.query || {})) {
        if (typeof v !== 'string' && !(typeof v === 'number' && Number.isFinite(v))) throw badInput('query values must be strings or numbers (' + k + ')');
        query.push([k, String(v)]);
      }
      let body;
      if (o.body !== undefined) {
        try { body = JSON.stringify(o.body); } catch (err) { throw badInput('body cannot be sent as JSON: ' + err.message); }
      }
      return this._run(this._core.startApi(method === 'POST', path, query, body, Date.now())).then(JSON.parse);
    });
  }

  /** -> { appId, timestamp, nonceStr, signature, url } for wx.config (frozen). */
  _signature(url, options) {
    if (options === undefined) {
      // The cached path: a view served before, still good by the core's word.
      const known = this._views.get(url);
      if (known !== undefined && this._core.signatureViewLive(known.slot, known.generation, Date.now())) return Promise.resolve(known.value);
    }
    if (typeof url !== 'string' || url === '') return Promise.reject(badInput('getSignature needs the page URL (a string)'));
    return checked(() => {
      checkKey('the page URL', url);
      const force = forceOf(options);
      if (!force) {
        const hit = this._core.signatureHit(url, Date.now());
        if (hit !== undefined) {
          this._views.remember(url, this._core.signatureHandle(url), hit);
          return Promise.resolve(hit);
        }
      }
      // Not remembered here: by the time this settles the entry may hold a
      // newer view. The next call's signatureHit remembers the current one.
      const signed = this._run(this._core.startSignature(url, force, Date.now()));
      // A wechat-jssdk store is its owner's cache: write through to it.
      return this._foreign ? signed.then((v) => this._store.flush().then(() => v, () => v)) : signed;
    });
  }

  /** Exchanges an OAuth code (once, even if asked concurrently) and stores the token under `key` (default: the openid). */
  _oauthExchange(code, key) {
    return checked(() => {
      text('the code', code, 512);
      if (key !== undefined) oauthKey(key);
      return this._run(this._core.startOAuthExchange(code, key, Date.now()));
    });
  }

  /** Destroys the store if this instance created it. */
  async close() {
    if (this._own) await this._store.destroy();
  }
}

function forceOf(options) {
  const o = checkOptions('options', options, { force: 'boolean' });
  return o.force === true;
}
