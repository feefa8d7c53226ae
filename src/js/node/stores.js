// The Token Store for Node: the shared Store (logic in the Rust core) over
// a memory, file, Redis, MongoDB or user backend.
import { join } from 'node:path';
import { Store as SharedStore } from '../shared/store.js';
import { fileBackend } from '../backends/file.js';
import { redisBackend } from '../backends/redis.js';
import { mongoBackend } from '../backends/mongo.js';
import './wasm.js'; // registers the synchronous start used by the constructors

const STORE_OPTIONS = ['interval', 'noInterval', 'maxSignatures'];
const pick = (options, keys) => {
  const out = {};
  for (const k of keys) if (options[k] !== undefined) out[k] = options[k];
  return out;
};

/** new Store() is memory only; new Store({ backend }) uses any { get, set, delete } object. */
export class Store extends SharedStore {}

/** wechat-jssdk's FileStore: one JSON file, written atomically. */
export class FileStore extends Store {
  constructor(options = {}) {
    const fileStorePath = options.fileStorePath || join(process.cwd(), 'wechat-info.json');
    super({ ...pick(options, STORE_OPTIONS), backend: fileBackend({ fileStorePath, appId: options.appId }) });
  }
}

/** Keys `${prefix}:${appId}:…`, each with a TTL matching its record's expiry. */
export class RedisStore extends Store {
  constructor(options = {}) {
    super({ ...pick(options, STORE_OPTIONS), backend: redisBackend(pick(options, ['url', 'prefix', 'appId', 'client', 'timeout'])) });
  }
}

/**
 * Collections GlobalToken, Signature and OAuthToken with TTL indexes. Like
 * the seed, the `limit` (default 20) freshest signatures are preloaded;
 * `store.preloaded` settles when that is done (a failure only means a cold
 * cache, never an error).
 */
export class MongoStore extends Store {
  constructor(options = {}) {
    const backend = mongoBackend(pick(options, ['dbHost', 'dbPort', 'dbName', 'dbAddress', 'dbOptions', 'limit']));
    super({ ...pick(options, STORE_OPTIONS), backend });
    this.preloaded = backend.preload('sig:').then((rows) => {
      for (const [key, value] of rows) {
        try { this._core.loaded('signature', key.slice('sig:'.length), value, Date.now()); } catch (_) { /* unreadable: read again on demand */ }
      }
    }, () => {});
  }
}
