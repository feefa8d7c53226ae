// The node entry's Store and Wechat against the findings of a hostile
// review: a fetch that ignores its AbortSignal, a second Wechat on one
// Store, wechat-jssdk stores under sessions, getters that change between
// reads, lone surrogates, clearStore and app sessions, signatures without
// an expiry. Against the built package and the strict fake WeChat.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PKG } from './support/harness.mjs';
import { startFakeWechat } from './support/fake-wechat-api.mjs';
import { encrypt } from './support/sessions-kit.mjs';
import { randomBytes } from 'node:crypto';

const require = createRequire(import.meta.url);
const { Store, FileStore, Wechat } = require(join(PKG, 'node', 'index.cjs'));
const dropin = require(join(PKG, 'node', 'wechat-jssdk.cjs'));
const JssdkStore = require('wechat-jssdk').Store;
const APP = { appId: 'wx_fake_app', appSecret: 'fake_secret' };
const code = (c) => (e) => { assert.equal(e.code, c, e.message); return true; };

let fake, dir;
before(async () => {
  fake = await startFakeWechat(APP);
  dir = mkdtempSync(join(tmpdir(), 'wxsession-review-'));
});
after(async () => {
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a fetch that ignores its AbortSignal, or a body that never ends, is TIMEOUT within the timeout', async () => {
  const never = () => new Promise(() => {});
  const fetches = {
    'the fetch': never,
    'the body': async () => ({ ok: true, status: 200, text: never }),
  };
  for (const [what, fetch] of Object.entries(fetches)) {
    const w = new Wechat({ ...APP, store: new Store(), timeout: 200, fetch });
    const started = Date.now();
    const calls = [w.getAccessToken(), w.jssdk.getSignature('https://h5.test/')];
    for (const call of calls) await assert.rejects(call, code('TIMEOUT'), what);
    assert.ok(Date.now() - started < 2000, what + ' took ' + (Date.now() - started) + ' ms');
  }
});

test('a second Wechat on one Store must agree with the first: another secret, fetch or apiBase is BAD_CONFIG', async () => {
  const store = new Store();
  const first = new Wechat({ ...APP, store, apiBase: fake.url });
  assert.throws(() => new Wechat({ ...APP, appSecret: 'wrong-secret', store, apiBase: fake.url }), code('BAD_CONFIG'));
  assert.throws(() => new Wechat({ ...APP, store, apiBase: fake.url, timeout: 5 }), code('BAD_CONFIG'));
  assert.throws(() => new Wechat({ ...APP, store, apiBase: fake.url, fetch: async () => { throw new Error('other'); } }), code('BAD_CONFIG'));
  assert.throws(() => new Wechat({ ...APP, store, apiBase: fake.url + '/other' }), code('BAD_CONFIG'));
  // The same settings again share the store, and the first still works.
  const second = new Wechat({ ...APP, store, apiBase: fake.url });
  fake.resetCounts();
  assert.equal(await first.getAccessToken(), await second.getAccessToken());
  assert.equal(fake.counts.token, 1);
});

test("our drop-in store runs Wechat on its own Store; a wechat-jssdk store refuses sessions before a code is spent", async () => {
  const ours = new dropin.FileStore({ fileStorePath: join(dir, 'dropin.json'), appId: APP.appId });
  const w = new Wechat({ ...APP, store: ours, apiBase: fake.url });
  assert.equal(w._store, ours._inner, 'unwrapped, not wrapped as a foreign store');
  assert.equal(w.store, ours);
  const login = await w.sessions.login(fake.issueCode({ openid: 'o-dropin' }));
  assert.equal((await w.sessions.verify(login.token)).openid, 'o-dropin');
  await ours.destroy();

  const foreign = new Wechat({ ...APP, store: new JssdkStore(), apiBase: fake.url });
  fake.resetCounts();
  await assert.rejects(foreign.sessions.login(fake.issueCode()), code('BAD_CONFIG'));
  await assert.rejects(foreign.sessions.verify('A'.repeat(43)), code('BAD_CONFIG'));
  assert.throws(() => foreign.sessions.middleware(), code('BAD_CONFIG'));
  assert.throws(() => foreign.sessions.loginHandler(), code('BAD_CONFIG'));
  assert.equal(fake.counts.code2Session, 0, 'no code was spent');
});

test('an info is read once: what is stored, its expiry and what is served come from the same values', async () => {
  const store = new Store();
  let reads = 0;
  const shifty = { jsapi_ticket: 'J', get expires_in() { return reads++ ? -1 : 7200; } };
  const saved = await store.saveSignature('https://h5.test/shifty', shifty);
  assert.equal(reads, 1);
  assert.equal(saved.expires_in, 7200);
  assert.equal((await store.getSignature('https://h5.test/shifty')).expires_in, 7200);
  // Also when JSON changes the info (a Date, an undefined field): each
  // getter and toJSON still runs once, and what is stored is what it gave.
  reads = 0;
  let dated = 0;
  const mixed = { jsapi_ticket: 'J', refresh_token: undefined, at: { toJSON: () => 'day ' + dated++ },
    get expires_in() { return reads++ ? -1 : 7200; } };
  const stored = await store.saveSignature('https://h5.test/mixed', mixed);
  assert.deepEqual([reads, dated], [1, 1]);
  assert.deepEqual(stored, { jsapi_ticket: 'J', at: 'day 0', expires_in: 7200 });
  // An info whose toJSON gives nothing JSON can hold is refused, not stored as {}.
  await assert.rejects(store.saveSignature('https://h5.test/nothing', { toJSON: () => undefined }), code('BAD_INPUT'));
  // A getter that throws is a rejection with a code, never a synchronous throw.
  const boom = { get a() { throw new Error('boom'); } };
  let p;
  assert.doesNotThrow(() => { p = store.saveSignature('https://h5.test/boom', boom); });
  await assert.rejects(p, code('BAD_INPUT'));
});

test('keys with lone surrogates, or longer than 4096, are BAD_INPUT before they reach the wasm', async () => {
  const store = new Store();
  await store.saveOAuthAccessToken('user\u{1F600}', { access_token: 'a', expires_in: 7200 });
  for (const bad of ['user\ud800', 'user\udfff', '\udc00x', 'x'.repeat(4097)]) {
    await assert.rejects(store.getOAuthAccessToken(bad), code('BAD_INPUT'), JSON.stringify(bad.slice(0, 8)));
    await assert.rejects(store.saveOAuthAccessToken(bad, { access_token: 'b' }), code('BAD_INPUT'));
    await assert.rejects(store.getSignature(bad), code('BAD_INPUT'));
  }
  assert.equal((await store.getOAuthAccessToken('user\u{1F600}')).access_token, 'a');
  // Wechat's own OAuth and signature calls check their keys the same way.
  const w = new Wechat({ ...APP, store, apiBase: fake.url });
  for (const bad of ['user\ud800', 'x'.repeat(4097)]) {
    await assert.rejects(w.oauth.refreshAccessToken(bad), code('BAD_INPUT'));
    await assert.rejects(w.oauth.getAccessToken('code', bad), code('BAD_INPUT'));
    await assert.rejects(w.jssdk.getSignature('https://h5.test/' + bad), code('BAD_INPUT'));
    // An openid over 256 characters is refused too: both shapes are BAD_INPUT.
    await assert.rejects(w.sessions.list(bad), code('BAD_INPUT'));
    await assert.rejects(w.sessions.revokeUser(bad), code('BAD_INPUT'));
  }
});

test('clearStore() clears credentials and signatures but logs nobody out and breaks no decrypt (memory and file)', async () => {
  for (const store of [new Store(), new FileStore({ fileStorePath: join(dir, 'clear.json'), appId: APP.appId })]) {
    const w = new Wechat({ ...APP, store, apiBase: fake.url });
    const { token } = await w.sessions.login(fake.issueCode({ openid: 'o-clear' }));
    await w.jssdk.getSignature('https://h5.test/clear');
    await store.flush();
    await store.clearStore();
    assert.equal(await store.getSignature('https://h5.test/clear'), undefined);
    assert.equal((await store.getGlobalToken()).accessToken, undefined);
    assert.equal((await w.sessions.verify(token)).openid, 'o-clear', 'the session survived clearStore');
    // So did the user's session_key: decrypt still works.
    const iv = randomBytes(16);
    const data = encrypt(fake.sessionKeyOf('o-clear'), iv, JSON.stringify({ n: 1, watermark: { appid: APP.appId, timestamp: 1 } }));
    assert.equal((await w.sessions.decrypt(token, data, iv.toString('base64'))).n, 1, 'and the session_key');
    assert.equal(await w.sessions.revokeUser('o-clear'), 1, 'and its index too');
    await store.destroy();
  }
  const file = JSON.parse(readFileSync(join(dir, 'clear.json'), 'utf8'));
  assert.ok(Object.keys(file.entries || file).every((k) => !k.startsWith('sig:') && !k.startsWith('global')), 'the file holds no credential');
});

test("a signature saved without an expiry (as wechat-jssdk saves them) expires two hours after its write in the backend", async () => {
  const store = new FileStore({ fileStorePath: join(dir, 'sig.json'), appId: APP.appId });
  const before = Date.now();
  await store.saveSignature('https://h5.test/a', { jsapi_ticket: 'J', nonceStr: 'n', timestamp: '1', url: 'https://h5.test/a', signature: 's' });
  await store.flush();
  const raw = readFileSync(join(dir, 'sig.json'), 'utf8');
  const at = [...raw.matchAll(/"expiresAt":\s*(\d+|null)/g)].map((m) => m[1]);
  assert.ok(at.length > 0 && at.every((v) => v !== 'null'), 'no signature is stored forever: ' + at.join(','));
  assert.ok(at.some((v) => Number(v) >= before + 7_190_000 && Number(v) <= Date.now() + 7_200_000), at.join(','));
  await store.destroy();
});
