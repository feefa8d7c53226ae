// Token Store backend on MongoDB (the official `mongodb` driver), laid out
// like wechat-jssdk's MongoStore so an existing database stays readable by
// people who know it. Keys go to collections by prefix:
//   'global…' (access_token, jsapi_ticket…) -> GlobalToken
//   'sig:…'   (signatures per page URL)      -> Signature
//   'oauth:…' (OAuth tokens per user)        -> OAuthToken
//   'card'    (the card api_ticket)          -> CardTicket
//   'mp:…'    (mini-program sessions)        -> MPSession
//   'sess:…'  (app sessions, by token hash)  -> AppSession
//   'idx:…'   (a user's app sessions)        -> AppSession
//   anything else                            -> Misc
// Documents are { _id: key, value, expiresAt: Date|null }; locks live in Lock.
import { randomBytes } from 'node:crypto';
import {
  storeError, checkKey, checkValue, checkTtl, checkLockTtl, checkToken, withDeadline,
} from './common.js';
import { driver } from './drivers.js';

export function collectionFor(key) {
  if (key.startsWith('global')) return 'GlobalToken';
  if (key.startsWith('sig:')) return 'Signature';
  if (key.startsWith('oauth:')) return 'OAuthToken';
  if (key === 'card') return 'CardTicket';
  if (key.startsWith('mp:')) return 'MPSession';
  if (key.startsWith('sess:') || key.startsWith('idx:')) return 'AppSession';
  return 'Misc';
}

const escapeRegex = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
// MongoDB's TTL monitor runs about once a minute, so every read also filters
// on expiresAt itself: an expired credential must never be served.
const live = (now) => ({ $or: [{ expiresAt: null }, { expiresAt: { $gt: now } }] });

export function mongoBackend({
  dbHost = '127.0.0.1', dbPort = 27017, dbName = 'wechat', dbAddress, dbOptions = {}, limit = 20, timeout = 5000,
} = {}) {
  const { MongoClient } = driver('mongodb');
  // Fail fast when no server answers (the driver waits 30 s by default).
  let client;
  try {
    client = new MongoClient(dbAddress || 'mongodb://' + dbHost + ':' + dbPort,
      Object.assign({ serverSelectionTimeoutMS: 3000, connectTimeoutMS: 3000 }, dbOptions));
  } catch (err) {
    throw storeError('BAD_INPUT', 'mongoBackend: ' + err.message, err);
  }
  let connecting = null;
  const indexed = new Map(); // collection name -> promise of its TTL index
  let closed = false;

  function db() {
    if (!connecting) {
      // Not cached on failure: the next call tries again (the server may be back).
      connecting = client.connect().then(() => client.db(dbName), (err) => { connecting = null; throw err; });
    }
    return connecting;
  }

  async function collection(name) {
    const d = await db();
    if (!indexed.has(name)) {
      const p = d.collection(name).createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0 });
      indexed.set(name, p);
      p.catch(() => indexed.delete(name));
    }
    await indexed.get(name);
    return d.collection(name);
  }

  function run(what, fn) {
    if (closed) return Promise.reject(storeError('STORE_UNAVAILABLE', 'mongo backend is closed'));
    return withDeadline(fn(), timeout, 'mongo ' + what).catch((err) => {
      if (err && (err.code === 'STORE_UNAVAILABLE' || err.code === 'STORE_CORRUPT')) throw err;
      throw storeError('STORE_UNAVAILABLE', 'mongo ' + what + ' failed: ' + (err && err.message), err);
    });
  }

  function valueOf(doc, key) {
    if (!doc) return null;
    if (typeof doc.value !== 'string') throw storeError('STORE_CORRUPT', 'mongo document ' + key + ' has no string value');
    return doc.value;
  }

  return {
    limit,
    async get(key) {
      checkKey(key);
      return run('get', async () => {
        const col = await collection(collectionFor(key));
        return valueOf(await col.findOne({ _id: key, ...live(new Date()) }), key);
      });
    },
    async set(key, value, ttlMs) {
      checkKey(key); checkValue(value); checkTtl(ttlMs);
      const expiresAt = ttlMs > 0 ? new Date(Date.now() + ttlMs) : null;
      return run('set', async () => {
        const col = await collection(collectionFor(key));
        const upsert = () => col.updateOne({ _id: key }, { $set: { value, expiresAt } }, { upsert: true });
        // Two concurrent upserts of one new _id: the loser gets E11000 and,
        // retried, finds the document and updates it.
        try { await upsert(); } catch (err) { if (err.code !== 11000) throw err; await upsert(); }
      });
    },
    async delete(key) {
      checkKey(key);
      return run('delete', async () => { await (await collection(collectionFor(key))).deleteOne({ _id: key }); });
    },
    async lock(key, ttlMs) {
      checkKey(key); checkLockTtl(ttlMs);
      const token = randomBytes(16).toString('hex');
      return run('lock', async () => {
        const col = await collection('Lock');
        const now = new Date();
        const expiresAt = new Date(now.getTime() + ttlMs);
        try {
          await col.insertOne({ _id: key, token, expiresAt });
          return token;
        } catch (err) {
          if (err.code !== 11000) throw err;
        }
        // Held: take it over only if the holder's lock has expired (the TTL
        // monitor may not have removed it yet). The filter makes it atomic.
        const taken = await col.findOneAndUpdate({ _id: key, expiresAt: { $lte: now } },
          { $set: { token, expiresAt } }, { returnDocument: 'after' });
        return taken && taken.token === token ? token : null;
      });
    },
    async unlock(key, token) {
      checkKey(key); checkToken(token);
      return run('unlock', async () => {
        const col = await collection('Lock');
        const res = await col.deleteOne({ _id: key, token, expiresAt: { $gt: new Date() } });
        return res.deletedCount === 1;
      });
    },
    /** clearStore(): our collections emptied, but for app and MP sessions and locks (below). */
    async clear() {
      return run('clear', async () => {
        const d = await db();
        // AppSession and MPSession stay (see survivesClear in common.js), and
        // so do locks: a held user lock must not be released under its section.
        for (const name of ['GlobalToken', 'Signature', 'OAuthToken', 'CardTicket', 'Misc']) {
          await d.collection(name).deleteMany({});
        }
      });
    },
    // The seed warms its cache with up to `limit` signatures at start-up.
    // Returns [[key, value]], newest-expiring first.
    async preload(prefix = 'sig:', max = limit) {
      if (typeof prefix !== 'string') throw storeError('BAD_INPUT', 'preload prefix must be a string');
      if (!Number.isSafeInteger(max) || max < 0) throw storeError('BAD_INPUT', 'preload limit must be an integer >= 0');
      if (max === 0) return [];
      return run('preload', async () => {
        const col = await collection(collectionFor(prefix));
        const docs = await col.find({ _id: { $regex: '^' + escapeRegex(prefix) }, ...live(new Date()) })
          .sort({ expiresAt: -1 }).limit(max).toArray();
        return docs.filter((d) => typeof d.value === 'string').map((d) => [d._id, d.value]);
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      await client.close().catch(() => {});
    },
  };
}
