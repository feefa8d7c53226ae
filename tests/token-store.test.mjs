// The Token Store of the built package: one contract run against every
// backend (memory, a custom one, file, Redis, MongoDB when MONGODB_URL is
// set), then what must survive faults: nothing acknowledged is lost.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, writeFileSync, readdirSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PKG } from './support/harness.mjs';
import { startRedis } from './support/redis-server.mjs';
import { storeContract } from './support/token-store-contract.mjs';

const wxsession = createRequire(import.meta.url)(join(PKG, 'node', 'index.cjs'));
const dir = mkdtempSync(join(tmpdir(), 'wxsession-store-'));
const redis = await startRedis();
after(async () => { await redis.close(); rmSync(dir, { recursive: true, force: true }); });

/** A Map-backed backend that counts its calls, to see what a flush writes. */
function countingBackend(map = new Map()) {
  const calls = { get: 0, set: 0, delete: 0 };
  return {
    map, calls,
    get: async (k) => { calls.get++; return map.has(k) ? map.get(k) : null; },
    set: async (k, v) => { calls.set++; map.set(k, v); },
    delete: async (k) => { calls.delete++; map.delete(k); },
  };
}

/**
 * node:test's `test`, numbering each test it registers so that a contract
 * test's `open()` (called once or twice per test) can give that test its
 * own file or appId, and recording what each test opened.
 */
function perTest() {
  let current = 0;
  let registered = 0;
  const opened = new Map(); // test number -> Set of what it opened
  return {
    test: (name, fn) => {
      const n = ++registered;
      return test(name, (t) => { current = n; return fn(t); });
    },
    use(what) {
      if (!opened.has(current)) opened.set(current, new Set());
      opened.get(current).add(what);
      return what;
    },
    id: () => current,
    registered: () => registered,
    opened,
  };
}

/** Every contract test opened exactly one file (or appId), and no two shared one. */
function assertOnePerTest(tracker) {
  const each = [...tracker.opened.values()].map((set) => [...set]);
  assert.equal(tracker.opened.size, tracker.registered(), 'every contract test opened its store');
  assert.ok(each.every((list) => list.length === 1), JSON.stringify(each));
  assert.equal(new Set(each.map((list) => list[0])).size, each.length, JSON.stringify(each));
}

const shared = new Map();
storeContract(test, 'custom backend', async () => new wxsession.Store({ backend: countingBackend(shared), noInterval: true }));
const files = perTest();
storeContract(files.test, 'FileStore', async () => new wxsession.FileStore({
  fileStorePath: files.use(join(dir, `file-${files.id()}.json`)), appId: `wxapp${files.id()}`,
}));
test('FileStore: each contract test had its own file and appId', () => assertOnePerTest(files));
const redisApps = perTest();
storeContract(redisApps.test, 'RedisStore', async () => new wxsession.RedisStore({ url: redis.url, appId: redisApps.use(`wxapp${redisApps.id()}`) }));
test('RedisStore: each contract test had its own appId', () => assertOnePerTest(redisApps));
if (process.env.MONGODB_URL) {
  storeContract(test, 'MongoStore', async () => new wxsession.MongoStore({ dbAddress: process.env.MONGODB_URL, dbName: 'wxsession_test' }));
} else {
  test('MongoStore contract', { skip: 'MONGODB_URL not set: no MongoDB server can be installed here' }, () => {});
}

test('new Store() keeps everything in memory and needs no backend', async () => {
  const store = new wxsession.Store();
  await store.updateGlobalToken({ accessToken: 'A' });
  await store.saveSignature('https://a.test/', { signature: 's' });
  assert.equal((await store.getGlobalToken()).accessToken, 'A');
  assert.equal((await store.getSignature('https://a.test/')).signature, 's');
  await store.destroy();
});

test('flush writes only dirty entries', async () => {
  const backend = countingBackend();
  const store = new wxsession.Store({ backend, noInterval: true });
  await store.saveSignature('https://a.test/1', { signature: 's' });
  await store.saveSignature('https://a.test/2', { signature: 's' });
  await store.flush();
  assert.equal(backend.calls.set, 2);
  await store.getSignature('https://a.test/1');
  await store.flush();
  assert.equal(backend.calls.set, 2);
  await store.updateSignature('https://a.test/2', { signature: 's2' });
  await store.flush();
  assert.equal(backend.calls.set, 3);
  await store.destroy();
});

test('the periodic flush writes on its own and does not keep the process alive', async () => {
  const backend = countingBackend();
  const store = new wxsession.Store({ backend, interval: 1000 });
  await store.saveOAuthAccessToken('k', { access_token: 'x' });
  assert.equal(backend.calls.set, 0);
  await new Promise((r) => setTimeout(r, 1300));
  assert.equal(backend.calls.set, 1);
  assert.equal(store._timer.hasRef(), false);
  await store.destroy();
});

test('signatures are bounded (LRU) and never dropped before they are written', async () => {
  const backend = countingBackend();
  const store = new wxsession.Store({ backend, noInterval: true, maxSignatures: 100 });
  for (let i = 0; i < 300; i++) await store.saveSignature(`https://a.test/${i}`, { signature: String(i) });
  await store.flush();
  assert.equal(backend.map.size, 300);
  // Once written, the least recently used leave memory: exactly the maximum stays.
  assert.equal(store._core.signatureCount(), 100);
  // Evicted ones come back from the backend.
  assert.equal((await store.getSignature('https://a.test/0')).signature, '0');
  await store.destroy();
});

test('Redis down mid-run: memory keeps serving, flush fails with STORE_UNAVAILABLE, then retries and nothing is lost', async (t) => {
  const store = new wxsession.RedisStore({ url: redis.url, appId: 'outage', timeout: 500, noInterval: true });
  t.after(() => store.destroy());
  await store.saveSignature('https://a.test/before', { signature: 'b' });
  await store.flush();
  await redis.stop();
  await store.saveSignature('https://a.test/during', { signature: 'd' });
  assert.equal((await store.getSignature('https://a.test/during')).signature, 'd');
  await assert.rejects(store.flush(), (e) => e.code === 'STORE_UNAVAILABLE');
  await assert.rejects(store.getSignature('https://a.test/never-read'), (e) => e.code === 'STORE_UNAVAILABLE');
  await redis.restart();
  // The client reconnects with backoff (at most 2 s between tries); until it
  // is back a flush fails the same way and keeps the write, as the periodic
  // flush would see it.
  const until = Date.now() + 10000;
  for (;;) {
    try { await store.flush(); break; } catch (e) {
      assert.equal(e.code, 'STORE_UNAVAILABLE');
      if (Date.now() > until) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const fresh = new wxsession.RedisStore({ url: redis.url, appId: 'outage', noInterval: true });
  t.after(() => fresh.destroy());
  assert.equal((await fresh.getSignature('https://a.test/during')).signature, 'd');
  // The test server keeps nothing across a restart; this store still has it.
  assert.equal((await store.getSignature('https://a.test/before')).signature, 'b');
});

test('FileStore: an unwritable path fails the flush, memory keeps the value, a later flush writes it', async () => {
  const blocked = join(dir, 'blocked');
  mkdirSync(blocked); // the store file path is a directory: every write fails, even as root
  const store = new wxsession.FileStore({ fileStorePath: blocked, appId: 'wxapp', noInterval: true });
  await assert.rejects(store.updateGlobalToken({ accessToken: 'A' }), (e) => e.code === 'STORE_UNAVAILABLE');
  assert.equal((await store.getGlobalToken()).accessToken, 'A');
  rmSync(blocked, { recursive: true });
  await store.flush();
  const again = new wxsession.FileStore({ fileStorePath: blocked, appId: 'wxapp' });
  assert.equal((await again.getGlobalToken()).accessToken, 'A');
  await store.destroy();
  await again.destroy();
});

test('FileStore: a corrupted file is moved aside and the store starts empty; another appId resets it', async () => {
  const path = join(dir, 'corrupt.json');
  writeFileSync(path, '{"appId":"wxapp","entries":{ broken');
  const store = new wxsession.FileStore({ fileStorePath: path, appId: 'wxapp' });
  assert.deepEqual(await store.getGlobalToken(), {});
  assert.ok(readdirSync(dir).some((f) => f.startsWith('corrupt.json.corrupt-')));
  await store.updateGlobalToken({ accessToken: 'A' });
  await store.destroy();
  const other = new wxsession.FileStore({ fileStorePath: path, appId: 'another-app' });
  assert.deepEqual(await other.getGlobalToken(), {});
  await other.destroy();
});

test('a backend without get/set/delete is BAD_CONFIG; bad store options are BAD_CONFIG', () => {
  assert.throws(() => new wxsession.Store({ backend: { get() {} } }), (e) => e.code === 'BAD_CONFIG');
  assert.throws(() => new wxsession.Store({ interval: 5 }), (e) => e.code === 'BAD_CONFIG');
  assert.throws(() => new wxsession.Store({ maxSignatures: 0 }), (e) => e.code === 'BAD_CONFIG');
});
