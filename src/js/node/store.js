// The Token Store for Node, with wechat-jssdk's method names and promise
// semantics over the Rust server core, which decides what is cached,
// dirty, expired or evicted, what a flush writes and, once a Wechat is
// attached, everything about credentials. A memory hit is one synchronous
// wasm call that returns the stored object itself: results are deep-frozen
// (mutating one throws in strict mode) and shared between callers.
import { ServerCore, StoreKind } from 'wxsession-bg';
import { codedError } from '../shared/errors.js';
import { ensureStarted } from '../shared/loader.js';
import { checkOptions, intIn } from '../shared/options.js';
import { checkKey, infoParts } from '../shared/info.js';
import { backendHost, checkBackend } from './backend-host.js';
import { Driver } from './driver.js';
import { HandleMemo } from './handle-memo.js';

export const STORE_OPTIONS = {
  interval: intIn(1000, 86400000, 'ms'),
  noInterval: 'boolean',
  maxSignatures: intIn(1, 10000000),
  timeout: intIn(1, 600000, 'ms'),
};

const GLOBAL = StoreKind.Global, SIGNATURE = StoreKind.Signature, OAUTH = StoreKind.OAuth;
const CARD = StoreKind.Card, MP = StoreKind.MpSession;
const EMPTY = Object.freeze({});

// A flush nobody awaits (wechat-jssdk calls flush() and walks away) must
// not become an unhandled rejection; one that is awaited still rejects.
function handled(promise) {
  promise.catch(() => {});
  return promise;
}

export class Store {
  /**
   * options: { backend?, interval = 600000, noInterval = false,
   * maxSignatures = 10000, timeout = 5000 (per backend call) }. Without a
   * backend the store lives in memory only.
   */
  constructor(options) {
    ensureStarted();
    const o = checkOptions('Store', options, Object.assign({ backend: 'object' }, STORE_OPTIONS));
    const backend = o.backend || null;
    if (backend) checkBackend(backend);
    const timeout = o.timeout !== undefined ? o.timeout : 5000;
    const host = backend ? backendHost(backend, timeout) : null;
    this.backend = backend;
    this._core = new ServerCore({
      hasBackend: !!backend, canLock: !!(host && host.canLock), timeout,
      interval: o.interval, noInterval: o.noInterval, maxSignatures: o.maxSignatures,
    }, Date.now());
    this._host = host;
    this._driver = new Driver(this._core, host);
    // Signatures the core served, by URL; bounded like the core's own map.
    this._handles = new HandleMemo(o.maxSignatures !== undefined ? o.maxSignatures : 10000);
    this._timer = null;
    this._destroyed = false;
    this._schedule();
  }

  // The periodic flush; its timer never keeps a Node process alive.
  _schedule() {
    const at = this._core.nextFlushAt();
    if (at === undefined) return;
    this._timer = setTimeout(() => {
      this._timer = null;
      this.flush().catch(() => { /* stays dirty; the next flush retries */ }).then(() => this._schedule());
    }, Math.max(0, at - Date.now()));
    if (this._timer && typeof this._timer.unref === 'function') this._timer.unref();
  }

  _read(kind, id) {
    // One wasm call: the frozen record, undefined, true (ask the backend)
    // or an Error to reject with.
    const hit = this._core.get(kind, id, Date.now());
    if (hit === true) return this._driver.run(this._core.startGet(kind, id, Date.now()));
    return hit instanceof Error ? Promise.reject(hit) : Promise.resolve(hit);
  }

  _write(kind, id, info, merge, flush) {
    let parts;
    try {
      parts = infoParts(info);
    } catch (err) {
      return Promise.reject(err);
    }
    const text = parts.text;
    // A plain save keeps the frozen copy, sharing the caller's strings (no
    // second copy of each string from parsing the text again).
    const made = merge ? undefined : parts.copy;
    // Saves that need no I/O are done in one call; the rest run as operations.
    const done = this._core.saveNow(kind, id, text, made, merge, flush, Date.now());
    if (done !== true) return done instanceof Error ? Promise.reject(done) : Promise.resolve(done);
    return this._driver.run(this._core.startSave(kind, id, text, made, merge, flush, Date.now()));
  }

  _key(what, key) {
    try {
      return checkKey(what, key);
    } catch (err) {
      return err;
    }
  }

  getGlobalToken() { return this._read(GLOBAL, '').then((info) => info || EMPTY); }
  /** Merges, counts the update (`count`) and writes it through at once. */
  updateGlobalToken(info) { return this._write(GLOBAL, '', info, true, true); }

  getSignature(url) {
    const known = this._handles.get(url);
    if (known !== undefined) {
      if (this._core.signatureLive(known.slot, known.generation, Date.now())) return Promise.resolve(known.value);
      this._handles.forget(url);
    }
    const checked = this._key('url', url);
    if (checked !== url) return Promise.reject(checked);
    const hit = this._core.get(SIGNATURE, url, Date.now());
    if (hit === true) return this._driver.run(this._core.startGet(SIGNATURE, url, Date.now()));
    if (hit instanceof Error) return Promise.reject(hit);
    if (hit !== undefined) this._handles.remember(url, this._core.signatureHandle(url), hit);
    return Promise.resolve(hit);
  }
  saveSignature(url, info) { return this._keyed('url', url, (k) => this._write(SIGNATURE, k, info, false, false)); }
  updateSignature(url, info) { return this._keyed('url', url, (k) => this._write(SIGNATURE, k, info, true, false)); }
  isSignatureExisting(url) { return this.getSignature(url).then((info) => info !== undefined); }

  getOAuthAccessToken(key) { return this._keyed('key', key, (k) => this._read(OAUTH, k)); }
  saveOAuthAccessToken(key, info) { return this._keyed('key', key, (k) => this._write(OAUTH, k, info, false, false)); }
  updateOAuthAccessToken(key, info) { return this._keyed('key', key, (k) => this._write(OAUTH, k, info, true, false)); }

  getCardTicket() { return this._read(CARD, '').then((info) => info || EMPTY); }
  updateCardTicket(info) { return this._write(CARD, '', info, true, false); }

  /** A mini-program session (wechat-jssdk: keyed by openid, holding session_key). */
  getMPSession(key) { return this._keyed('key', key, (k) => this._read(MP, k)); }
  getMPSessionKey(key) { return this.getMPSession(key).then((s) => (s ? s.session_key : undefined)); }
  /**
   * Stores `data` under `key`; resolves the session it replaced (wechat-jssdk's
   * contract). Written through at once: `wechat.sessions` reads this record
   * (the session_key) from the backend, not from memory.
   */
  setMPSession(key, data) {
    return this._keyed('key', key, (k) => this._read(MP, k).then((old) => this._write(MP, k, data, false, true).then(() => old)));
  }

  _keyed(what, key, run) {
    const checked = this._key(what, key);
    return typeof checked === 'string' ? run(checked) : Promise.reject(checked);
  }

  /** Writes every dirty entry; a failed write stays dirty for the next flush. */
  flush() {
    return handled(this._driver.run(this._core.startFlush(Date.now())));
  }

  /** wechat-jssdk's clearStore: forgets credentials and signatures here and in the backend; app sessions and MP sessions stay (no one is logged out, no decrypt breaks). */
  clearStore() {
    return handled(this._driver.run(this._core.startClear(Date.now())));
  }

  /** Flushes, stops the timer and closes the backend; later calls reject with STORE_DESTROYED. */
  async destroy() {
    if (this._destroyed) return;
    this._destroyed = true;
    if (this._timer !== null) clearTimeout(this._timer);
    try {
      await this.flush();
    } finally {
      this._core.destroy();
      if (this._host) await this._host.close();
    }
  }

  /** Signatures held in memory now. */
  get size() { return this._core.signatureCount(); }
}

/** Refuses a store that is neither ours nor has wechat-jssdk's Store methods. */
export function storeError(missing) {
  return codedError('BAD_CONFIG', 'the store lacks ' + missing.join(', ') + ' (wechat-jssdk Store methods)');
}
