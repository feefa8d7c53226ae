// The Token Store for Node over its backends: memory, a JSON file, Redis,
// MongoDB or the user's own (`new Store({ backend })`).
import { join } from 'node:path';
import { StoreKind } from 'wxsession-bg';
import { Store, STORE_OPTIONS } from './store.js';
import { checkOptions } from '../shared/options.js';
import { fileBackend } from '../backends/file.js';
import { redisBackend } from '../backends/redis.js';
import { mongoBackend } from '../backends/mongo.js';
import './wasm.js'; // registers the synchronous start used by the constructors

function split(where, options, own) {
  const o = checkOptions(where, options, Object.assign({}, STORE_OPTIONS, own));
  const store = {};
  const backend = {};
  for (const key of Object.keys(o)) (own[key] ? backend : store)[key] = o[key];
  return { store, backend };
}

export { Store };

/** wechat-jssdk's FileStore: one JSON file, written atomically (0600). */
export class FileStore extends Store {
  constructor(options) {
    const { store, backend } = split('FileStore', options, { fileStorePath: 'nonEmptyString', appId: 'nonEmptyString' });
    const fileStorePath = backend.fileStorePath || join(process.cwd(), 'wechat-info.json');
    super(Object.assign(store, { backend: fileBackend({ fileStorePath, appId: backend.appId }) }));
    this.fileStorePath = fileStorePath;
  }
}

/** Keys `${prefix}:${appId}:…`, each with a TTL matching its record's expiry. */
export class RedisStore extends Store {
  constructor(options) {
    const { store, backend } = split('RedisStore', options, { url: 'nonEmptyString', prefix: 'nonEmptyString', appId: 'nonEmptyString', client: 'object' });
    if (store.timeout !== undefined) backend.timeout = store.timeout;
    super(Object.assign(store, { backend: redisBackend(backend) }));
  }
}

/**
 * Collections GlobalToken, Signature, OAuthToken, Card, MPSession and AppSession with
 * TTL indexes. Like wechat-jssdk, the `limit` (default 20) freshest
 * signatures are preloaded; `store.preloaded` settles when that is done (a
 * failure only means a cold cache, never an error).
 */
export class MongoStore extends Store {
  constructor(options) {
    const { store, backend: own } = split('MongoStore', options, {
      dbHost: 'nonEmptyString', dbPort: 'int', dbName: 'nonEmptyString', dbAddress: 'nonEmptyString', dbOptions: 'object', limit: 'int',
    });
    const backend = mongoBackend(own);
    super(Object.assign(store, { backend }));
    this.preloaded = backend.preload('sig:').then((rows) => {
      for (const [key, value] of rows) {
        try { this._core.preload(StoreKind.Signature, key.slice('sig:'.length), value, Date.now()); } catch (_) { /* unreadable: read again on demand */ }
      }
    }, () => {});
  }
}
