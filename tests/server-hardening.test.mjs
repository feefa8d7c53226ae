// The node entry's Store and Wechat as a careless or hostile caller would
// use them: every bad argument gets a code, no promise hangs, no secret
// leaks, decoders stay linear and capped. Against the built package.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdtempSync, writeFileSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PKG } from './support/harness.mjs';
import { startFakeWechat } from './support/fake-wechat-api.mjs';

const require = createRequire(import.meta.url);
const wxsession = require(join(PKG, 'node', 'index.cjs'));
const { Store, FileStore, Wechat } = wxsession;
const APP = { appId: 'wx_fake_app', appSecret: 'fake_secret' };
const code = (c) => (e) => { assert.equal(e.code, c, e.message); return true; };

function memoryBackend(overrides = {}) {
  const map = new Map();
  return Object.assign({
    map,
    get: async (k) => (map.has(k) ? map.get(k) : null),
    set: async (k, v) => { map.set(k, v); },
    delete: async (k) => { map.delete(k); },
  }, overrides);
}

test('non-string keys and unstorable infos are BAD_INPUT before anything reaches the wasm', async () => {
  const store = new Store();
  for (const bad of [42, {}, true, null, undefined, ['a'], { toString: () => 'x' }]) {
    await assert.rejects(store.getSignature(bad), code('BAD_INPUT'));
    await assert.rejects(store.saveSignature(bad, { a: 1 }), code('BAD_INPUT'));
    await assert.rejects(store.getOAuthAccessToken(bad), code('BAD_INPUT'));
    await assert.rejects(store.updateOAuthAccessToken(bad, {}), code('BAD_INPUT'));
    await assert.rejects(store.getMPSession(bad), code('BAD_INPUT'));
  }
  const circular = { a: 1 };
  circular.self = circular;
  const throwing = { get boom() { throw new Error('getter'); } };
  for (const bad of [circular, { n: 10n }, throwing, 'text', 7, [1, 2], { big: 'x'.repeat(70 * 1024) }]) {
    await assert.rejects(store.saveSignature('https://a.test/', bad), code('BAD_INPUT'));
    await assert.rejects(store.updateGlobalToken(bad), code('BAD_INPUT'));
  }
  await assert.rejects(store.getSignature('https://a.test/\u0000x'), code('BAD_INPUT'));
  await assert.rejects(store.getSignature('x'.repeat(5000)), code('BAD_INPUT'));
  // Express turns ?url[a]=1 into an object: the Wechat refuses it the same way.
  const wechat = new Wechat({ ...APP, store });
  await assert.rejects(wechat.jssdk.getSignature({ a: '1' }), code('BAD_INPUT'));
  await assert.rejects(wechat.oauth.getAccessToken(42), code('BAD_INPUT'));
  await assert.rejects(wechat.oauth.refreshAccessToken({}), code('BAD_INPUT'));
  await assert.rejects(wechat.miniProgram.code2Session(['c']), code('BAD_INPUT'));
  await assert.rejects(wechat.request('/cgi-bin/x', { query: { a: {} } }), code('BAD_INPUT'));
  await assert.rejects(wechat.getAccessToken({ forse: true }), code('BAD_CONFIG'));
});

test("expiry fields that would mean 'forever' are refused", async () => {
  const store = new Store();
  for (const expires_in of [-1, 0, NaN, 7200.5, '7200', 1e308]) {
    await assert.rejects(store.updateGlobalToken({ accessToken: 'a', expires_in }), code('BAD_INPUT'), String(expires_in));
  }
  for (const expiresAt of [-5, 1e300, 'soon']) {
    await assert.rejects(store.saveSignature('https://a.test/', { signature: 's', expiresAt }), code('BAD_INPUT'), String(expiresAt));
  }
  // NaN is not JSON: it reads as null, which means "no expiry given".
  assert.equal((await store.saveSignature('https://a.test/', { signature: 's', expiresAt: null })).signature, 's');
});

test('a custom backend answering junk is STORE_CORRUPT, and one that never answers is STORE_UNAVAILABLE within the deadline', async () => {
  for (const junk of [42, {}, Buffer.from('x'), ['a'], true]) {
    const store = new Store({ backend: memoryBackend({ get: async () => junk }), noInterval: true });
    await assert.rejects(store.getSignature('https://a.test/'), code('STORE_CORRUPT'));
  }
  const hung = new Store({ backend: memoryBackend({ get: () => new Promise(() => {}), set: () => new Promise(() => {}) }), noInterval: true, timeout: 200 });
  const t0 = Date.now();
  await assert.rejects(hung.getGlobalToken(), code('STORE_UNAVAILABLE'));
  await hung.saveSignature('https://a.test/', { signature: 's' });
  await assert.rejects(hung.flush(), code('STORE_UNAVAILABLE'));
  assert.ok(Date.now() - t0 < 2000, `took ${Date.now() - t0} ms`);
  const sync = new Store({ backend: memoryBackend({ get() { throw new Error('sync throw'); } }), noInterval: true });
  await assert.rejects(sync.getGlobalToken(), code('STORE_UNAVAILABLE'));
});

test('oversized or deeply nested backend records and WeChat replies fail fast with a code', async () => {
  const keys = Array.from({ length: 150_000 }, (_, i) => `"k${i}":${i}`).join(',');
  const huge = `{"v":1,"expiresAt":null,"info":{${keys}}}`;
  const store = new Store({ backend: memoryBackend({ get: async () => huge }), noInterval: true });
  let t0 = Date.now();
  await assert.rejects(store.getGlobalToken(), code('STORE_CORRUPT'));
  assert.ok(Date.now() - t0 < 500, `a 1.7 MB record took ${Date.now() - t0} ms`);
  const deep = `{"v":1,"expiresAt":null,"info":{"a":${'['.repeat(5000)}${']'.repeat(5000)}}}`;
  await assert.rejects(new Store({ backend: memoryBackend({ get: async () => deep }) }).getGlobalToken(), code('STORE_CORRUPT'));
  // A WeChat reply with 60k keys: parsed in linear time, answered at once.
  const reply = `{${Array.from({ length: 60_000 }, (_, i) => `"k${i}":${i}`).join(',')},"access_token":"AT","expires_in":7200}`;
  const wechat = new Wechat({ ...APP, store: new Store(), fetch: async () => new Response(reply) });
  t0 = Date.now();
  assert.equal(await wechat.getAccessToken(), 'AT');
  assert.ok(Date.now() - t0 < 1000, `a 60k-key reply took ${Date.now() - t0} ms`);
});

test('the appSecret and one-time codes never reach an error message or its causes', async () => {
  const secret = 'topsecret_value_123';
  const leakyFetch = async (url) => {
    const err = new Error('request to ' + url + ' failed, reason: connect ECONNREFUSED');
    err.cause = new Error('inner ' + url);
    throw err;
  };
  const wechat = new Wechat({ appId: 'wx1', appSecret: secret, store: new Store(), fetch: leakyFetch });
  const seen = [];
  const walk = (e, depth = 0) => { if (!e || depth > 5) return; seen.push(String(e.message), JSON.stringify(e, Object.getOwnPropertyNames(e))); walk(e.cause, depth + 1); };
  for (const call of [() => wechat.getAccessToken(), () => wechat.miniProgram.code2Session('the-code-42'), () => wechat.oauth.getAccessToken('oauth-code-7')]) {
    await assert.rejects(call(), (e) => { walk(e); return e.code === 'NETWORK'; });
  }
  for (const text of seen) {
    for (const secretish of [secret, 'the-code-42', 'oauth-code-7']) assert.ok(!text.includes(secretish), text);
  }
  // An apiBase that is not a URL is refused at construction, echoing nothing.
  for (const apiBase of ['not a url', 'ftp://x', 'https://user:pw@x', 'https://x/?q=1']) {
    assert.throws(() => new Wechat({ ...APP, appSecret: secret, apiBase, store: new Store() }), (e) => e.code === 'BAD_CONFIG' && !JSON.stringify(e).includes(secret) && e.cause === undefined);
  }
});

test('unknown or misspelled options are BAD_CONFIG in every constructor', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wxs-opts-'));
  try {
    for (const [make, bad] of [
      [(o) => new Store(o), { maxSignature: 5 }],
      [(o) => new Store(o), { interval: 10 }],
      [(o) => new Store(o), { timeout: NaN }],
      [(o) => new Store(o), { backend: null }],
      [(o) => new FileStore(o), { apId: 'x', fileStorePath: join(dir, 'f.json') }],
      [(o) => new wxsession.RedisStore(o), { appId: 'x', urll: 'redis://x' }],
      [(o) => new Wechat({ ...APP, store: new Store(), ...o }), { timout: 5 }],
      [(o) => new Wechat({ ...APP, store: new Store(), ...o }), { recheckInterval: 0 }],
      [(o) => new Wechat({ ...APP, store: new Store(), ...o }), { lockTtl: 10n }],
    ]) {
      assert.throws(() => make(bad), code('BAD_CONFIG'), JSON.stringify(bad, (k, v) => (typeof v === 'bigint' ? String(v) : v)));
    }
    // A lease shorter than two backend calls could lapse mid-refresh.
    const locking = memoryBackend({ lock: async () => 't', unlock: async () => true });
    assert.throws(() => new Wechat({ ...APP, lockTtl: 900, store: new Store({ backend: locking, timeout: 500 }) }), (e) => e.code === 'BAD_CONFIG' && /lockTtl/.test(e.message));
    assert.ok(new Wechat({ ...APP, lockTtl: 1000, store: new Store({ backend: locking, timeout: 500 }) }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('flush() nobody awaits never becomes an unhandled rejection; an awaited one still rejects', async () => {
  const unhandled = [];
  const onUnhandled = (reason) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    const store = new Store({ backend: memoryBackend({ set: async () => { throw new Error('disk full'); } }), noInterval: true });
    await store.saveSignature('https://a.test/', { signature: 's' });
    store.flush(); // as wechat-jssdk's own code calls it
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(unhandled, []);
    await assert.rejects(store.flush(), code('STORE_UNAVAILABLE'));
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

test("a wechat-jssdk FileStore's wechat-info.json is read in place: no refetch, the original kept", () => startFakeWechat({}).then(async (fake) => {
  const dir = mkdtempSync(join(tmpdir(), 'wxs-legacy-'));
  try {
    const wechat0 = new Wechat({ ...APP, store: new Store(), apiBase: fake.url });
    const token = await wechat0.getAccessToken();
    const ticket = await wechat0.getJsapiTicket();
    const file = join(dir, 'wechat-info.json');
    const now = new Date().toISOString();
    writeFileSync(file, JSON.stringify({
      wechatConfig: { appId: APP.appId },
      globalToken: { count: 3, modifyDate: now, accessToken: token, jsapi_ticket: ticket },
      urls: { 'https://h5.test/old': { jsapi_ticket: ticket, nonceStr: 'n', timestamp: '1', url: 'https://h5.test/old', signature: 's', modifyDate: now } },
      oauth: { u1: { access_token: 'o', refresh_token: 'r', openid: 'u1', expirationTime: Date.now() + 3_600_000 } },
      card: {}, mp: { u1: { openid: 'u1', session_key: 'sk' } },
    }, null, 2));
    const store = new FileStore({ fileStorePath: file, appId: APP.appId, noInterval: true });
    const wechat = new Wechat({ ...APP, store, apiBase: fake.url });
    fake.resetCounts();
    assert.equal(await wechat.getAccessToken(), token);
    assert.equal(await wechat.getJsapiTicket(), ticket);
    assert.deepEqual([fake.counts.token, fake.counts.ticket], [0, 0], 'no refetch');
    assert.equal((await store.getGlobalToken()).count, 3);
    assert.equal((await store.getSignature('https://h5.test/old')).signature, 's');
    assert.equal((await store.getOAuthAccessToken('u1')).access_token, 'o');
    assert.equal(await store.getMPSessionKey('u1'), 'sk');
    assert.ok(existsSync(file + '.wechat-jssdk'), 'the original is kept');
    // The first write rewrites the file in our layout, every record kept.
    await store.saveSignature('https://h5.test/new', { signature: 's2' });
    await store.destroy();
    const entries = JSON.parse(readFileSync(file, 'utf8')).entries;
    assert.deepEqual(Object.keys(entries).sort(), ['global', 'mp:u1', 'oauth:u1', 'sig:https://h5.test/new', 'sig:https://h5.test/old']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await fake.close();
  }
}));

test('garbage under the global record heals after one refresh with exactly one fetch', () => startFakeWechat({}).then(async (fake) => {
  try {
    const backend = memoryBackend({ lock: async () => 'held', unlock: async () => true });
    backend.map.set('global', '{"v":1,"info":');
    const store = new Store({ backend, noInterval: true });
    await assert.rejects(store.getGlobalToken(), code('STORE_CORRUPT'));
    const wechat = new Wechat({ ...APP, store, apiBase: fake.url });
    const sigs = await Promise.all(Array.from({ length: 20 }, () => wechat.jssdk.getSignature('https://h5.test/')));
    assert.ok(fake.verifyJsapiSignature(sigs[0]));
    assert.deepEqual([fake.counts.token, fake.counts.ticket], [1, 1]);
    assert.ok((await new Store({ backend }).getGlobalToken()).accessToken, 'the record was overwritten');
  } finally {
    await fake.close();
  }
}));

test('updateSignature lands when the signature cache is full of unwritten entries; a re-read keeps memory until the backend answers', async () => {
  const backend = memoryBackend();
  backend.map.set('sig:https://old.test/', JSON.stringify({ v: 1, expiresAt: null, info: { signature: 'old', keep: 1 } }));
  const store = new Store({ backend, noInterval: true, maxSignatures: 3 });
  for (let i = 0; i < 5; i++) await store.saveSignature(`https://a.test/${i}`, { signature: 's' + i });
  const merged = await store.updateSignature('https://old.test/', { signature: 'new' });
  assert.deepEqual({ ...merged }, { signature: 'new', keep: 1 });
  await store.flush();
  assert.deepEqual(JSON.parse(backend.map.get('sig:https://old.test/')).info, { signature: 'new', keep: 1 });
  // A backend that fails for a while: what memory holds keeps serving.
  const flaky = memoryBackend();
  const wechatStore = new Store({ backend: flaky, noInterval: true });
  await wechatStore.updateGlobalToken({ accessToken: 'A', expires_in: 7200 });
  flaky.get = async () => { throw new Error('down'); };
  assert.equal((await wechatStore.getGlobalToken()).accessToken, 'A');
});

test('after destroy() every Store call rejects STORE_DESTROYED and none reaches the closed backend', async () => {
  let calls = 0;
  const counted = (f) => async (...args) => { calls++; return f(...args); };
  const backend = memoryBackend();
  for (const k of ['get', 'set', 'delete']) backend[k] = counted(backend[k]);
  const store = new Store({ backend, noInterval: true });
  await store.destroy();
  calls = 0;
  for (const call of [() => store.getSignature('https://h5.test/a'), () => store.getGlobalToken(),
    () => store.getOAuthAccessToken('u1'), () => store.getMPSession('u1'),
    () => store.saveSignature('https://h5.test/b', { signature: 's' }), () => store.updateGlobalToken({ accessToken: 'a' })]) {
    await assert.rejects(call(), code('STORE_DESTROYED'));
  }
  assert.equal(calls, 0, 'no backend call after destroy');
});
