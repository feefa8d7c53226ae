// Token Store backends (src/js/backends, imported as source): one shared
// contract per backend, then the faults each must survive.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync, writeFileSync, readdirSync, statSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { transformSync } from 'esbuild';
import { createClient } from 'redis';
import { MongoClient } from 'mongodb';
import { storeContract, rejectsWith, sleep } from './support/store-contract.mjs';
import { startRedis } from './support/redis-server.mjs';
import { createWx } from './support/fake-wx.mjs';
import { fileBackend } from '../src/js/backends/file.js';
import { redisBackend } from '../src/js/backends/redis.js';
import { mongoBackend, collectionFor } from '../src/js/backends/mongo.js';
import { wxStorageBackend } from '../src/js/backends/wx-storage.js';
import { localStorageBackend } from '../src/js/backends/local-storage.js';

const BACKENDS = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'js', 'backends');
const uid = () => randomBytes(4).toString('hex');
const closing = (t, store) => { t.after(() => store.close()); return store; };
const elapsed = async (fn) => { const t0 = Date.now(); await fn(); return Date.now() - t0; };

describe('file backend', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wxsession-file-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const path = () => join(dir, uid(), 'wechat-info.json');
  const silenced = (t) => t.mock.method(console, 'warn', () => {});

  storeContract((t) => closing(t, fileBackend({ fileStorePath: path(), appId: 'wx-app' })), { lock: true });

  test('writes { appId, entries } atomically (0600, no temp files left) and reloads it', async (t) => {
    const file = path();
    const a = closing(t, fileBackend({ fileStorePath: file, appId: 'wx-app' }));
    await Promise.all([a.set('global:token', 'T', 0), a.set('sig:x', 'S', 60000), a.set('oauth:gone', 'O', 1)]);
    await sleep(20);
    await a.set('global:ticket', 'K', 0); // a later write drops the expired entry
    const data = JSON.parse(readFileSync(file, 'utf8'));
    assert.equal(data.appId, 'wx-app');
    assert.deepEqual(Object.keys(data.entries).sort(), ['global:ticket', 'global:token', 'sig:x']);
    assert.deepEqual(data.entries['global:token'], { value: 'T', expiresAt: null });
    assert.ok(data.entries['sig:x'].expiresAt > Date.now());
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dirname(file)), ['wechat-info.json']);
    const b = closing(t, fileBackend({ fileStorePath: file, appId: 'wx-app' }));
    assert.equal(await b.get('sig:x'), 'S');
  });

  test('an unwritable location -> STORE_UNAVAILABLE, memory keeps the value, a later write persists it', async (t) => {
    // Tests run as root, where chmod stops nothing: a regular file where the
    // parent directory should be is a real write error even for root.
    const parent = join(dir, uid());
    writeFileSync(parent, 'i am a file');
    const file = join(parent, 'wechat-info.json');
    const store = closing(t, fileBackend({ fileStorePath: file, appId: 'wx-app' }));
    await rejectsWith(store.set('global:token', 'T1', 0), 'STORE_UNAVAILABLE', 'parent is a file');
    assert.equal(await store.get('global:token'), 'T1');
    rmSync(parent);
    await store.set('sig:x', 'S', 0);
    assert.deepEqual(Object.keys(JSON.parse(readFileSync(file, 'utf8')).entries).sort(), ['global:token', 'sig:x']);

    const blocked = join(dir, uid(), 'wechat-info.json');
    mkdirSync(blocked, { recursive: true }); // a directory where the file should be
    const other = closing(t, fileBackend({ fileStorePath: blocked }));
    await rejectsWith(other.set('k', 'v', 0), 'STORE_UNAVAILABLE', 'target is a directory');
    assert.equal(await other.get('k'), 'v');
  });

  test('a corrupted file is moved aside with one warning and the store starts empty', async (t) => {
    const warn = silenced(t);
    for (const junk of ['{"appId":"wx-app","entries":{"k":{"val', '[1,2]', '{"appId":"wx-app","entries":{"k":{"value":7}}}']) {
      const file = path();
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, junk);
      const store = closing(t, fileBackend({ fileStorePath: file, appId: 'wx-app' }));
      assert.equal(await store.get('k'), null);
      const aside = readdirSync(dirname(file)).filter((f) => f.startsWith('wechat-info.json.corrupt-'));
      assert.equal(aside.length, 1, junk);
      assert.equal(readFileSync(join(dirname(file), aside[0]), 'utf8'), junk, 'kept for inspection');
      await store.set('k', 'fresh', 0);
      assert.equal(await store.get('k'), 'fresh');
    }
    assert.equal(warn.mock.callCount(), 3);
  });

  test('a file written for another appId is ignored (one warning) and replaced', async (t) => {
    const warn = silenced(t);
    const file = path();
    const old = closing(t, fileBackend({ fileStorePath: file, appId: 'wx-old' }));
    await old.set('global:token', 'OLD', 0);
    const store = closing(t, fileBackend({ fileStorePath: file, appId: 'wx-new' }));
    assert.equal(await store.get('global:token'), null);
    assert.equal(await store.get('sig:x'), null);
    assert.equal(warn.mock.callCount(), 1);
    await store.set('global:token', 'NEW', 0);
    assert.equal(JSON.parse(readFileSync(file, 'utf8')).appId, 'wx-new');
  });

  test('close() waits for pending writes; later calls reject', async (t) => {
    const file = path();
    const store = fileBackend({ fileStorePath: file, appId: 'wx-app' });
    const pending = store.set('global:token', 'T', 0);
    await store.close();
    await pending;
    assert.equal(JSON.parse(readFileSync(file, 'utf8')).entries['global:token'].value, 'T');
    await rejectsWith(store.get('global:token'), 'STORE_UNAVAILABLE');
  });
});

describe('redis backend', () => {
  let server;
  before(async () => { server = await startRedis(); });
  after(() => server && server.close());

  storeContract((t) => closing(t, redisBackend({ url: server.url, appId: 'wx' + uid(), timeout: 2000 })), { lock: true });

  test('key layout: prefix:appId:key with PX; locks in their own namespace', async (t) => {
    const raw = createClient({ url: server.url });
    await raw.connect();
    t.after(() => raw.close());
    const store = closing(t, redisBackend({ url: server.url, prefix: 'px', appId: 'wxA' }));
    await store.set('global:token', 'T', 60000);
    await store.set('sig:x', 'S', 0);
    assert.equal(await raw.get('px:wxA:global:token'), 'T');
    const pttl = await raw.pTTL('px:wxA:global:token');
    assert.ok(pttl > 55000 && pttl <= 60000, String(pttl));
    assert.equal(await raw.pTTL('px:wxA:sig:x'), -1);
    const token = await store.lock('global:token', 1000);
    assert.equal(await raw.get('px.lock:wxA:global:token'), token);
  });

  test('a client passed in is used but not closed', async (t) => {
    const raw = createClient({ url: server.url });
    raw.on('error', () => {});
    await raw.connect();
    t.after(() => raw.close());
    const store = redisBackend({ client: raw, appId: 'wxB' });
    await store.set('k', 'v', 0);
    await store.close();
    assert.equal(await raw.get('wxsession:wxB:k'), 'v');
  });

  test('appId is required', () => {
    assert.throws(() => redisBackend({ url: server.url }), { code: 'BAD_INPUT' });
  });

  test('redis killed and restarted mid-run: bounded STORE_UNAVAILABLE, then it heals', async (t) => {
    const problems = [];
    const onProblem = (err) => problems.push(err);
    process.on('unhandledRejection', onProblem);
    process.on('uncaughtException', onProblem);
    t.after(() => { process.off('unhandledRejection', onProblem); process.off('uncaughtException', onProblem); });
    const own = await startRedis();
    t.after(() => own.close());
    const store = closing(t, redisBackend({ url: own.url, appId: 'wxF', timeout: 400 }));
    await store.set('global:token', 'before', 0);

    await own.stop(); // SIGKILL: a crash, not a clean shutdown
    for (const call of [() => store.get('global:token'), () => store.set('global:token', 'x', 0), () => store.lock('L', 1000)]) {
      const ms = await elapsed(() => rejectsWith(call(), 'STORE_UNAVAILABLE', 'during the outage'));
      assert.ok(ms < 1000, 'bounded by the command timeout, took ' + ms + ' ms');
    }
    await sleep(300); // let several reconnect attempts fail in the background

    await own.restart(); // empty again: no persistence
    let healed = false;
    for (let i = 0; i < 50 && !healed; i++) {
      try { await store.set('global:token', 'after', 0); healed = true; } catch (err) { assert.equal(err.code, 'STORE_UNAVAILABLE'); await sleep(100); }
    }
    assert.ok(healed, 'the client reconnected');
    assert.equal(await store.get('global:token'), 'after');
    assert.ok(await store.lock('L', 1000), 'the SET attempted during the outage was not replayed');
    assert.deepEqual(problems, []);
  });

  test('no server at all: every call is bounded, close() does not hang', async (t) => {
    const own = await startRedis();
    await own.close();
    const store = redisBackend({ url: own.url, appId: 'wxG', timeout: 300 });
    const ms = await elapsed(() => rejectsWith(store.get('k'), 'STORE_UNAVAILABLE'));
    assert.ok(ms < 900, String(ms));
    await store.close();
    await store.close();
    await rejectsWith(store.get('k'), 'STORE_UNAVAILABLE', 'after close');
  });
});

describe('mongo backend', () => {
  const url = process.env.MONGODB_URL;
  const skip = url ? false : 'MONGODB_URL not set: no MongoDB server can be installed here';

  test('keys map to the seed\'s collections', () => {
    assert.equal(collectionFor('global:access_token'), 'GlobalToken');
    assert.equal(collectionFor('globalTicket'), 'GlobalToken');
    assert.equal(collectionFor('sig:https://a/b'), 'Signature');
    assert.equal(collectionFor('oauth:openid'), 'OAuthToken');
    assert.equal(collectionFor('session:x'), 'Misc');
    assert.equal(collectionFor('sess:' + 'ab'.repeat(32)), 'AppSession');
    assert.equal(collectionFor('idx:o_user'), 'AppSession');
    assert.equal(collectionFor('mp:o_user'), 'MPSession');
  });

  test('no server: STORE_UNAVAILABLE within the server selection timeout; bad input needs no server', async () => {
    const store = mongoBackend({ dbHost: '127.0.0.1', dbPort: 1, dbOptions: { serverSelectionTimeoutMS: 500 } });
    const ms = await elapsed(() => rejectsWith(store.get('global:token'), 'STORE_UNAVAILABLE'));
    assert.ok(ms < 2000, String(ms));
    await rejectsWith(store.set('k', 'v', -1), 'BAD_INPUT');
    await store.close();
    await store.close();
    assert.throws(() => mongoBackend({ dbAddress: 'http://nope' }), { code: 'BAD_INPUT' });
  });

  describe('against MONGODB_URL', { skip }, () => {
    const dbs = [];
    after(async () => {
      const admin = new MongoClient(url);
      for (const name of dbs) await admin.db(name).dropDatabase().catch(() => {});
      await admin.close();
    });
    const fresh = (t) => {
      const dbName = 'wxsession_test_' + uid();
      dbs.push(dbName);
      return closing(t, mongoBackend({ dbAddress: url, dbName }));
    };
    storeContract(fresh, { lock: true });

    test('documents, collections, TTL index and preload', async (t) => {
      const store = fresh(t);
      await store.set('global:token', 'T', 60000);
      await Promise.all(['a', 'b', 'c'].map((p, i) => store.set('sig:' + p, 'S' + i, 1000 * (i + 1))));
      const raw = new MongoClient(url);
      t.after(() => raw.close());
      const db = raw.db(dbs[dbs.length - 1]);
      const doc = await db.collection('GlobalToken').findOne({ _id: 'global:token' });
      assert.equal(doc.value, 'T');
      assert.ok(doc.expiresAt instanceof Date);
      const indexes = await db.collection('Signature').indexes();
      assert.ok(indexes.some((ix) => ix.key.expiresAt === 1 && ix.expireAfterSeconds === 0));
      assert.deepEqual(await store.preload('sig:', 2), [['sig:c', 'S2'], ['sig:b', 'S1']]);
    });
  });
});

describe('wx storage backend (mini-program)', () => {
  // The module reads the global `wx` at call time, as it would on a device.
  const useWx = (t, opts) => {
    const wx = createWx(opts);
    globalThis.wx = wx;
    t.after(() => { delete globalThis.wx; });
    return wx;
  };

  storeContract((t) => { useWx(t, { latency: 1 }); return wxStorageBackend(); });

  test('stores { value, expiresAt } under the prefix', async (t) => {
    const wx = useWx(t);
    await wxStorageBackend({ prefix: 'p:' }).set('global:token', 'T', 0);
    assert.deepEqual(wx.storage.get('p:global:token'), { value: 'T', expiresAt: null });
  });

  test('a quota failure -> STORE_UNAVAILABLE and the old value survives', async (t) => {
    const wx = useWx(t, { quotaBytes: 2000 });
    const store = wxStorageBackend();
    await store.set('sig:a', 'small', 0);
    await assert.rejects(store.set('sig:a', 'x'.repeat(5000), 0), (err) => err.code === 'STORE_UNAVAILABLE' && /quota/.test(err.message));
    assert.equal(await store.get('sig:a'), 'small');
    wx.knobs.failStorageWrites = true;
    await rejectsWith(store.set('sig:b', 'tiny', 0), 'STORE_UNAVAILABLE', 'every write failing');
  });

  test('a callback that never comes, or no wx at all -> STORE_UNAVAILABLE, bounded', async (t) => {
    const wx = useWx(t);
    wx.knobs.hangStorage = true;
    const store = wxStorageBackend({ timeout: 100 });
    const ms = await elapsed(() => rejectsWith(store.get('k'), 'STORE_UNAVAILABLE'));
    assert.ok(ms < 500, String(ms));
    delete globalThis.wx;
    await rejectsWith(store.set('k', 'v', 0), 'STORE_UNAVAILABLE', 'no wx');
  });

  test('a slot holding something else -> STORE_CORRUPT', async (t) => {
    const wx = useWx(t);
    wx.setStorageSync('wxsession:k', { foo: 1 });
    await rejectsWith(wxStorageBackend().get('k'), 'STORE_CORRUPT');
  });

  test('the module is ES2017 and uses no Node APIs (it ships to devices)', () => {
    for (const f of ['wx-storage.js', 'common.js']) {
      const src = readFileSync(join(BACKENDS, f), 'utf8');
      const at = (target) => transformSync(src, { format: 'esm', target }).code;
      assert.equal(at('es2017'), at('esnext'), f + ' needs lowering to run on ES2017');
      assert.doesNotMatch(src, /\bfrom\s+'node:|\brequire\(|\bprocess\.|\bBuffer\b|\bglobalThis\b/, f);
    }
  });
});

describe('localStorage backend (web)', () => {
  // A Map with the Storage methods and a byte quota, throwing like browsers do.
  function fakeStorage(quota = 1e6) {
    const map = new Map();
    return {
      map,
      getItem: (k) => (map.has(k) ? map.get(k) : null),
      removeItem: (k) => { map.delete(k); },
      setItem(k, v) {
        let used = k.length + String(v).length;
        for (const [key, val] of map) if (key !== k) used += key.length + val.length;
        if (used > quota) throw Object.assign(new Error("Failed to execute 'setItem' on 'Storage': exceeded the quota."), { name: 'QuotaExceededError', code: 22 });
        map.set(k, String(v));
      },
    };
  }

  storeContract(() => localStorageBackend({ storage: fakeStorage(4e6) }));

  test('QuotaExceededError -> STORE_UNAVAILABLE', async () => {
    const store = localStorageBackend({ storage: fakeStorage(200) });
    await store.set('a', 'small', 0);
    await rejectsWith(store.set('b', 'x'.repeat(500), 0), 'STORE_UNAVAILABLE');
    assert.equal(await store.get('a'), 'small');
  });

  test('broken JSON or a foreign record -> STORE_CORRUPT', async () => {
    const storage = fakeStorage();
    const store = localStorageBackend({ storage, prefix: 'p:' });
    storage.map.set('p:a', '{"value":');
    storage.map.set('p:b', '"just a string"');
    await rejectsWith(store.get('a'), 'STORE_CORRUPT');
    await rejectsWith(store.get('b'), 'STORE_CORRUPT');
  });

  test('defaults to globalThis.localStorage; an absent or throwing one -> STORE_UNAVAILABLE', async (t) => {
    const storage = fakeStorage();
    globalThis.localStorage = storage;
    t.after(() => { delete globalThis.localStorage; });
    await localStorageBackend().set('k', 'v', 0);
    assert.equal(JSON.parse(storage.map.get('wxsession:k')).value, 'v');
    Object.defineProperty(globalThis, 'localStorage', { configurable: true, get() { throw new Error('SecurityError'); } });
    await rejectsWith(localStorageBackend().get('k'), 'STORE_UNAVAILABLE', 'throwing getter');
    await rejectsWith(localStorageBackend({ storage: null }).get('k'), 'STORE_UNAVAILABLE', 'null storage');
  });
});
