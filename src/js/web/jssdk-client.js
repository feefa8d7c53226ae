// JS-SDK config for H5 pages: asks the app backend for a signature of the
// URL WeChat will check, caches it in the Token Store (localStorage), calls
// wx.config and settles on wx.ready / wx.error. No promise hangs.
import { codedError, withTimeout } from '../shared/errors.js';
import { ensureStarted } from '../shared/loader.js';
import { Store } from '../shared/store.js';
import { localStorageBackend } from '../backends/local-storage.js';
import { checkOptions, intIn } from '../shared/options.js';
import { badConfig, nonEmpty, oneOf, currentHref, requestJson, stripHash } from './common.js';

// iOS WeChat checks the signature against the URL the page was entered with
// (a later history.pushState does not change it). This module is evaluated
// when the page loads the entry, so this is that URL unless the entry is
// loaded lazily after a route change: then pass `landingUrl`.
const LANDING = currentHref();
const DEFAULT_TTL_MS = 7000 * 1000;   // WeChat's jsapi_ticket lives 7200 s
const MODES = ['auto', 'current', 'landing'];
const isStringList = (v) => Array.isArray(v) && v.every((s) => typeof s === 'string' && s !== '');
const names = (v) => (isStringList(v) ? '' : 'a list of non-empty strings');
const OPTIONS = {
  signatureUrl: 'nonEmptyString', wx: 'object', urlMode: oneOf(MODES), landingUrl: 'nonEmptyString',
  userAgent: 'string', timeout: intIn(1, 600000, 'ms'), fetch: 'function',
};
const CONFIG_OPTIONS = { jsApiList: names, openTagList: names, debug: 'boolean' };
const WHAT = 'JssdkClient';
// A URL still carrying an OAuth redirect's one-time code (or its state):
// signed for this page view, never kept.
const OAUTH_PARAM = /[?&](code|state)=/;
const cacheable = (url) => !OAUTH_PARAM.test(url);

// wx.config is global state in the JS-SDK (one outcome reported to
// wx.ready/wx.error at a time), so configs on one wx run one after another.
const queues = new WeakMap();
// One Store for the page, created on first use (it needs the wasm started).
let store = null;
const signatures = () => store || (store = new Store({ backend: localStorageBackend(), noInterval: true }));

const isInvalidSignature = (err) => !!err && err.code === 'JSSDK_CONFIG' && /invalid signature/i.test(err.errMsg || '');

export class JssdkClient {
  constructor(options) {
    ensureStarted();
    const o = checkOptions(WHAT, options, OPTIONS);
    if (!o.signatureUrl) throw badConfig(WHAT, 'signatureUrl is required');
    const wx = o.wx !== undefined ? o.wx : globalThis.wx;
    if (!wx || ['config', 'ready', 'error'].some((fn) => typeof wx[fn] !== 'function')) {
      throw badConfig(WHAT, 'wx (the JS-SDK, jweixin) with config, ready and error is missing');
    }
    const mode = o.urlMode === undefined ? 'auto' : o.urlMode;
    this._endpoint = o.signatureUrl;
    this._wx = wx;
    this._mode = mode;
    this._landing = o.landingUrl || LANDING;
    this._ua = o.userAgent !== undefined ? o.userAgent : (globalThis.navigator && globalThis.navigator.userAgent) || '';
    this._timeout = o.timeout || 10000;
    this._fetch = o.fetch;
    this._configs = new Map();
  }

  /** The URL config() has signed: the landing URL (iOS) or the current one (elsewhere), without '#…'. */
  signedUrl() {
    const landing = this._mode === 'landing' || (this._mode === 'auto' && /iPhone|iPad|iPod/.test(this._ua));
    const href = landing ? this._landing : currentHref();
    if (!href) throw badConfig(WHAT, 'no page URL to sign (pass landingUrl, or use it in a page)');
    return stripHash(href);
  }

  /** wx.config with a signature from the backend; resolves on wx.ready. */
  config(options) {
    let url, cfg;
    try {
      cfg = configOptions(options === undefined ? {} : options);
      url = this.signedUrl();
    } catch (err) {
      return Promise.reject(err);
    }
    // The same config asked for again while it runs: one run, one answer.
    const key = url + '\n' + JSON.stringify(cfg);
    const running = this._configs.get(key);
    if (running) return running;
    const run = (queues.get(this._wx) || Promise.resolve()).then(() => this._configure(url, cfg));
    const done = () => { this._configs.delete(key); };
    run.then(done, done);
    this._configs.set(key, run);
    queues.set(this._wx, run.then(() => {}, () => {}));
    return run;
  }

  async _configure(url, cfg) {
    const cached = await this._signature(url, false);
    try {
      return await this._apply(cached, cfg);
    } catch (err) {
      if (!isInvalidSignature(err)) throw err;
      // A stale entry (the ticket changed) or a bad signature: never use it
      // again, and ask once more, past any cache of the backend's own.
      await drop(url);
    }
    try {
      return await this._apply(await this._signature(url, true), cfg);
    } catch (err) {
      if (isInvalidSignature(err)) await drop(url);
      throw err;
    }
  }

  // Concurrent configs run one after another (see queues), so the second
  // finds what the first cached: one request per URL.
  async _signature(url, force) {
    const keep = cacheable(url);
    if (!force && keep) {
      const cached = await signatures().getSignature(url).catch(() => undefined);
      if (isSignature(cached)) return cached;
    }
    const sep = this._endpoint.indexOf('?') < 0 ? '?' : '&';
    const req = this._endpoint + sep + 'url=' + encodeURIComponent(url) + (force ? '&force=1' : '');
    const data = await requestJson(this._fetch, { url: req, method: 'GET', timeout: this._timeout }, 'GET ' + this._endpoint);
    if (!isSignature(data)) {
      throw codedError('JSSDK_CONFIG', 'the signature endpoint answered without {appId, timestamp, nonceStr, signature}', { data });
    }
    // Only what wx.config needs, and when to stop using it: never a ticket.
    const expiresAt = typeof data.expiresAt === 'number' && data.expiresAt > 0 ? data.expiresAt : Date.now() + DEFAULT_TTL_MS;
    const info = { appId: data.appId, timestamp: data.timestamp, nonceStr: data.nonceStr, signature: data.signature, expiresAt };
    if (!keep) return info;
    try {
      await signatures().saveSignature(url, info);
      await signatures().flush();
    } catch (_) { /* not cached (storage full or blocked): the next page load asks again */ }
    return info;
  }

  _apply(sig, cfg) {
    const wx = this._wx;
    const outcome = new Promise((resolve, reject) => {
      const fields = { debug: cfg.debug, appId: sig.appId, timestamp: sig.timestamp, nonceStr: sig.nonceStr, signature: sig.signature, jsApiList: cfg.jsApiList };
      if (cfg.openTagList) fields.openTagList = cfg.openTagList;
      wx.config(fields);
      // A callback of an earlier attempt that fires late settles nothing:
      // its promise has settled already.
      wx.ready(() => resolve());
      wx.error((res) => {
        const errMsg = res && typeof res.errMsg === 'string' ? res.errMsg : String(res);
        reject(codedError('JSSDK_CONFIG', 'wx.config failed: ' + errMsg, { errMsg }));
      });
    }).catch((err) => {
      if (err && err.code) throw err;
      throw codedError('JSSDK_CONFIG', 'wx.config threw: ' + ((err && err.message) || err), { cause: err });
    });
    return withTimeout(outcome, this._timeout, 'wx.config (neither wx.ready nor wx.error fired)');
  }
}

function configOptions(options) {
  const o = checkOptions('config', options, CONFIG_OPTIONS);
  if (!o.jsApiList) throw badConfig('config', 'jsApiList (the API names) is required');
  const cfg = { debug: !!o.debug, jsApiList: o.jsApiList.slice() };
  if (o.openTagList) cfg.openTagList = o.openTagList.slice();
  return cfg;
}

function isSignature(v) {
  return !!v && typeof v === 'object' && nonEmpty(v.appId) && nonEmpty(v.nonceStr) && nonEmpty(v.signature) &&
    (nonEmpty(v.timestamp) || (typeof v.timestamp === 'number' && Number.isFinite(v.timestamp)));
}

// The Store has no delete: an entry saved as already expired is gone from
// memory at once and from localStorage with the flush.
async function drop(url) {
  if (!cacheable(url)) return; // never stored, and its key would hold the code
  try {
    await signatures().saveSignature(url, { expiresAt: 1 });
    await signatures().flush();
  } catch (_) { /* at worst it is tried once more, and dropped again */ }
}
