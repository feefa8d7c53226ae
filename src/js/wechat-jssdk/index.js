// require('wxsession/wechat-jssdk'): Store classes that wechat-jssdk 5's own
// Wechat, JSSDK, OAuth and MiniProgram accept as their `store` (they keep a
// store only if it is `instanceof` their Store, and silently replace
// anything else with a new FileStore at ./wechat-info.json), each one
// delegating every call to a wxsession store. So switching the storage of
// an existing wechat-jssdk app is one line, and nothing else changes:
//
//   const { Wechat } = require('wechat-jssdk');
//   const { RedisStore } = require('wxsession/wechat-jssdk');
//   const wx = new Wechat({ ...config, store: new RedisStore({ url, appId }) });
//
// wechat-jssdk is an optional peer dependency of wxsession: this entry needs
// it installed and says so (BAD_CONFIG) when it is not.
import { codedError } from '../shared/errors.js';
import { checkOptions } from '../shared/options.js';

/* global require */
// The node entry itself, so both entries share one wasm instance and one
// set of classes.
const ours = require('./index.cjs');

function jssdkStore() {
  try {
    return require('wechat-jssdk/lib/store/Store');
  } catch (err) {
    throw codedError('BAD_CONFIG', 'wxsession/wechat-jssdk needs the wechat-jssdk package: npm install wechat-jssdk', { cause: err });
  }
}

const Base = jssdkStore();

// wechat-jssdk's callers may change what they get back (ours are frozen).
const copy = (v) => (v === undefined || v === null ? v : structuredClone(v));
const updated = (v) => Object.assign(copy(v) || {}, { updated: true });
// wechat-jssdk's own calls do not await flush() or destroy(): a failure must
// not become an unhandled rejection, yet an awaited call still rejects.
function handled(promise) {
  promise.catch(() => {});
  return promise;
}

// wechat-jssdk's option names beside ours; `clearStore` empties the store
// at start, `compareConfigKeys` is accepted and has nothing to compare (our
// files and keys are per appId already).
const JSSDK_OPTIONS = { clearStore: 'boolean', compareConfigKeys: 'any', storeOptions: 'any' };

function split(where, options, wechatConfig, own) {
  const o = checkOptions(where, options, Object.assign({}, JSSDK_OPTIONS, own));
  const out = {};
  for (const key of Object.keys(o)) if (!JSSDK_OPTIONS[key]) out[key] = o[key];
  if (out.appId === undefined && own.appId && wechatConfig && typeof wechatConfig.appId === 'string') out.appId = wechatConfig.appId;
  return { options: out, clear: o.clearStore === true };
}

export class Store extends Base {
  /** (options, wechatConfig) as wechat-jssdk's stores take them. */
  constructor(options, wechatConfig) {
    // Their constructor would start a flush timer of its own: ours runs it.
    super({ noInterval: true });
    const { inner, clear } = this._open(options, wechatConfig);
    this._inner = inner;
    this.ready = clear ? inner.clearStore() : Promise.resolve();
    handled(this.ready);
  }

  _open(options, wechatConfig) {
    const { options: o, clear } = split('Store', options, wechatConfig, { interval: 'any', noInterval: 'any', maxSignatures: 'any', timeout: 'any', backend: 'any' });
    return { inner: new ours.Store(o), clear };
  }

  async getGlobalToken() { return Object.assign({ count: 0 }, copy(await this._inner.getGlobalToken())); }
  async updateGlobalToken(info) { return copy(await this._inner.updateGlobalToken(info)); }
  // wechat-jssdk's MongoStore sends each signature, OAuth token and card
  // ticket to the database as it is saved, without waiting for it; its
  // FileStore keeps them for the periodic flush. The stores on a shared
  // backend (Redis, MongoDB) do as its MongoStore, so another process finds
  // an OAuth token saved here at once and a crash loses none; a write that
  // fails stays dirty and goes out with the next flush.
  _sent(result) {
    if (this._shared) this.flush();
    return result;
  }

  async getSignature(url) { return copy(await this._inner.getSignature(url)); }
  async saveSignature(url, info) { return this._sent(updated(await this._inner.saveSignature(url, info))); }
  async updateSignature(url, info) { return this._sent(updated(await this._inner.updateSignature(url, info))); }
  isSignatureExisting(url) { return this._inner.isSignatureExisting(url); }
  async getOAuthAccessToken(key) { return copy(await this._inner.getOAuthAccessToken(key)); }
  async saveOAuthAccessToken(key, info) { return this._sent(copy(await this._inner.saveOAuthAccessToken(key, info))); }
  async updateOAuthAccessToken(key, info) { return this._sent(updated(await this._inner.updateOAuthAccessToken(key, info))); }
  async getCardTicket() { return copy(await this._inner.getCardTicket()); }
  async updateCardTicket(info) { return this._sent(copy(await this._inner.updateCardTicket(info))); }
  getMPSessionKey(key) { return this._inner.getMPSessionKey(key); }
  async getMPSession(key) { return copy(await this._inner.getMPSession(key)); }
  async setMPSession(key, data) {
    if (!key) throw new Error('missing key for the session!');
    return copy(await this._inner.setMPSession(key, data));
  }

  flush() { return handled(this._inner.flush()); }
  clearStore() { return handled(this._inner.clearStore()); }
  destroy() {
    const done = this._inner.destroy();
    this.store = null;
    return handled(done.then(() => this.emit(Base.StoreEvents.DESTROYED, true)));
  }
}

export class FileStore extends Store {
  _open(options, wechatConfig) {
    const { options: o, clear } = split('FileStore', options, wechatConfig, {
      fileStorePath: 'any', appId: 'any', interval: 'any', noInterval: 'any', maxSignatures: 'any', timeout: 'any',
    });
    const inner = new ours.FileStore(o);
    this.fileStorePath = inner.fileStorePath;
    return { inner, clear };
  }
}

export class RedisStore extends Store {
  get _shared() { return true; }

  _open(options, wechatConfig) {
    const { options: o, clear } = split('RedisStore', options, wechatConfig, {
      url: 'any', prefix: 'any', appId: 'any', client: 'any', interval: 'any', noInterval: 'any', maxSignatures: 'any', timeout: 'any',
    });
    return { inner: new ours.RedisStore(o), clear };
  }
}

/** Emits 'initialized' once its preload settles, as wechat-jssdk's MongoStore does. */
export class MongoStore extends Store {
  get _shared() { return true; }

  _open(options, wechatConfig) {
    const { options: o, clear } = split('MongoStore', options, wechatConfig, {
      dbHost: 'any', dbPort: 'any', dbName: 'any', dbAddress: 'any', dbOptions: 'any', limit: 'any',
      interval: 'any', noInterval: 'any', maxSignatures: 'any', timeout: 'any',
    });
    const inner = new ours.MongoStore(o);
    inner.preloaded.then(() => this.emit('initialized'));
    return { inner, clear };
  }
}
