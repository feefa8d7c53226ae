// The Token Store with wechat-jssdk's method names and promise semantics.
// The Rust StoreCore decides what is cached, dirty, expired or evicted and
// what a flush writes; this class only moves bytes between it and a backend
// ({ get, set, delete, lock?, unlock?, close? }, all async).
import { StoreCore } from 'wxsession-bg';
import { codedError } from './errors.js';
import { ensureStarted } from './loader.js';
import { checkKey, infoText } from './info.js';

const ABSENT = 0, HIT = 1, LOAD = 2;

function storeFailure(err, what) {
  if (err && (err.code === 'STORE_UNAVAILABLE' || err.code === 'STORE_CORRUPT' || err.code === 'BAD_INPUT')) return err;
  return codedError('STORE_UNAVAILABLE', what + ': ' + ((err && err.message) || err), { cause: err });
}


export class Store {
  /**
   * options: { backend?, interval = 600000, noInterval = false, maxSignatures = 10000 }.
   * Without a backend the store lives in memory only.
   */
  constructor(options = {}) {
    ensureStarted();
    const { backend = null, interval, noInterval, maxSignatures } = options;
    if (backend !== null && (typeof backend.get !== 'function' || typeof backend.set !== 'function' || typeof backend.delete !== 'function')) {
      throw codedError('BAD_CONFIG', 'a store backend needs get(key), set(key, value, ttlMs) and delete(key)');
    }
    const coreOptions = {};
    if (interval !== undefined) coreOptions.interval = interval;
    if (noInterval !== undefined) coreOptions.noInterval = noInterval;
    if (maxSignatures !== undefined) coreOptions.maxSignatures = maxSignatures;
    this.backend = backend;
    this._core = new StoreCore(JSON.stringify(coreOptions), backend !== null, Date.now());
    this._flushing = null;
    this._timer = null;
    this._destroyed = false;
    this._schedule();
  }

  // The periodic flush; its timer never keeps a Node process alive.
  _schedule() {
    const at = this._core.nextFlushAt();
    if (at === undefined || this.backend === null) return;
    this._timer = setTimeout(() => {
      this._timer = null;
      this.flush().catch(() => { /* stays dirty; the next flush retries */ }).then(() => this._schedule());
    }, Math.max(0, at - Date.now()));
    if (this._timer && typeof this._timer.unref === 'function') this._timer.unref();
  }

  async _get(kind, id) {
    const status = this._core.lookup(kind, id, Date.now());
    if (status === HIT) return JSON.parse(this._core.lastValue());
    if (status === ABSENT) return undefined;
    const epoch = this._core.lastEpoch();
    const raw = await this._read(this._core.lastValue(), kind);
    const info = this._core.loaded(kind, id, raw, epoch, Date.now());
    return info === undefined ? undefined : JSON.parse(info);
  }

  async _read(key, kind) {
    let raw;
    try {
      raw = await this.backend.get(key);
    } catch (err) {
      throw storeFailure(err, 'reading ' + kind);
    }
    if (raw === null || raw === undefined) return undefined;
    if (typeof raw !== 'string') throw codedError('STORE_CORRUPT', 'the backend answered a ' + typeof raw + ' for ' + kind + ', not a string');
    return raw;
  }

  async _save(kind, id, info, merge) {
    const json = infoText(info);
    if (this._core.save(kind, id, json, merge, Date.now()) === LOAD) {
      // An update of something not read yet: merge onto what the backend
      // has, even if memory has dropped it again by the time it arrives.
      const epoch = this._core.lastEpoch();
      const raw = await this._read(this._core.lastValue(), kind);
      return JSON.parse(this._core.saveLoaded(kind, id, raw, epoch, json, Date.now()));
    }
    return JSON.parse(this._core.lastValue());
  }

  getGlobalToken() { return this._get('global', '').then((info) => info || {}); }
  async updateGlobalToken(info) {
    const merged = await this._save('global', '', info, true);
    await this.flush();
    return merged;
  }

  async getSignature(url) { return this._get('signature', checkKey('url', url)); }
  async saveSignature(url, info) { return this._save('signature', checkKey('url', url), info, false); }
  async updateSignature(url, info) { return this._save('signature', checkKey('url', url), info, true); }
  isSignatureExisting(url) { return this.getSignature(url).then((info) => info !== undefined); }

  async getOAuthAccessToken(key) { return this._get('oauth', checkKey('key', key)); }
  async saveOAuthAccessToken(key, info) { return this._save('oauth', checkKey('key', key), info, false); }
  async updateOAuthAccessToken(key, info) { return this._save('oauth', checkKey('key', key), info, true); }

  /** Writes every dirty entry; a failed write stays dirty for the next flush. */
  flush() {
    if (this.backend === null) return Promise.resolve();
    // One flush at a time; a call during a flush waits for it, then runs.
    const run = () => this._flushOnce();
    this._flushing = (this._flushing || Promise.resolve()).then(run, run);
    return this._flushing;
  }

  async _flushOnce() {
    const writes = JSON.parse(this._core.flushBatch(Date.now()));
    const failures = [];
    await Promise.all(writes.map(async (w) => {
      try {
        if (w.value === null) await this.backend.delete(w.key);
        else await this.backend.set(w.key, w.value, w.ttlMs);
        this._core.writeDone(w.key, true, Date.now());
      } catch (err) {
        this._core.writeDone(w.key, false, Date.now());
        failures.push(err);
      }
    }));
    if (failures.length) {
      const first = storeFailure(failures[0], 'write failed');
      throw codedError(first.code, failures.length + ' of ' + writes.length + ' writes failed (kept in memory, retried on the next flush): ' + first.message, { cause: failures[0] });
    }
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
      if (this.backend && typeof this.backend.close === 'function') await this.backend.close();
    }
  }
}
