// wechat-jssdk's own Wechat (its JSSDK and OAuth code, unchanged) given the
// drop-in's stores (`wxsession/wechat-jssdk`), against the fake WeChat and a
// real redis-server: the store is kept, what it signs WeChat accepts, what it
// stores wxsession's own Wechat adopts, and a failing flush nobody awaits
// (wechat-jssdk never awaits one) is not an unhandled rejection.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { once } from 'node:events';
import { mkdtempSync, mkdirSync, rmSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeWechat } from './support/fake-wechat-api.mjs';
import { startRedis } from './support/redis-server.mjs';
import { PKG } from './support/harness.mjs';

const require = createRequire(import.meta.url);
const dropin = require(join(PKG, 'node', 'wechat-jssdk.cjs'));
const wxsession = require(join(PKG, 'node', 'index.cjs'));
const JssdkWechat = require('wechat-jssdk').Wechat;
const JssdkStore = require('wechat-jssdk').Store;
const APP = { appId: 'wx_dropin_app', appSecret: 'dropin_secret' };

const unhandled = [];
process.on('unhandledRejection', (reason) => { unhandled.push(reason); });

let fake, redis, home, cwd;
before(async () => {
  [fake, redis] = await Promise.all([startFakeWechat(APP), startRedis()]);
  // Both libraries default their FileStore to ./wechat-info.json: a
  // directory of our own shows whether anything was put there.
  home = process.cwd();
  cwd = mkdtempSync(join(tmpdir(), 'wxsession-dropin-'));
  process.chdir(cwd);
});
after(async () => {
  if (home) process.chdir(home);
  await Promise.all([fake?.close(), redis?.close()]);
  if (cwd) rmSync(cwd, { recursive: true, force: true });
});

/** wechat-jssdk's Wechat on `store`, every URL pointed at the fake. */
function theirWechat(store) {
  const options = {
    ...APP, store, apiUrl: fake.url, accessTokenUrl: fake.url + '/cgi-bin/token', ticketUrl: fake.url + '/cgi-bin/ticket/getticket',
  };
  // Its JSSDK starts a setInterval it never clears (its own tests end with
  // mocha --exit); unref'd, it cannot keep this file's process alive.
  const setIntervalBefore = globalThis.setInterval;
  globalThis.setInterval = (...args) => setIntervalBefore(...args).unref();
  try {
    return new JssdkWechat(options);
  } finally {
    globalThis.setInterval = setIntervalBefore;
  }
}

test('the four classes keep their names and are wechat-jssdk Stores', async () => {
  mkdirSync(join(cwd, 'names'));
  const stores = {
    Store: new dropin.Store(),
    FileStore: new dropin.FileStore({ fileStorePath: join(cwd, 'names', 'file.json') }),
    // appId from the second argument, as wechat-jssdk's Wechat passes its config.
    RedisStore: new dropin.RedisStore({ url: redis.url, prefix: 'names' }, APP),
    // Nothing listens there: it only has to be made, say 'initialized' and close.
    MongoStore: new dropin.MongoStore({ dbAddress: 'mongodb://127.0.0.1:1', dbOptions: { serverSelectionTimeoutMS: 200 } }),
  };
  await once(stores.MongoStore, 'initialized');
  for (const [name, store] of Object.entries(stores)) {
    const Class = dropin[name];
    assert.equal(Class.name, name);
    assert.ok(store instanceof JssdkStore, name + ' instanceof wechat-jssdk Store');
    assert.ok(store instanceof Class && store instanceof dropin.Store, name);
    const wx = theirWechat(store);
    assert.ok(wx.store === store && wx.jssdk.store === store && wx.oauth.store === store, name + ' kept by their Wechat');
  }
  await Promise.all(Object.values(stores).map((s) => s.destroy()));
});

const kinds = {
  Store: () => new dropin.Store(),
  FileStore: () => new dropin.FileStore({ fileStorePath: join(cwd, 'file-store', 'wechat.json') }, APP),
  RedisStore: () => new dropin.RedisStore({ url: redis.url, appId: APP.appId, prefix: 'kept' }),
};
for (const [name, make] of Object.entries(kinds)) {
  test(`their Wechat on a ${name}: signatures WeChat accepts, one token and ticket, OAuth through the store`, async () => {
    const store = make();
    const wx = theirWechat(store);
    fake.resetCounts();
    const first = await wx.jssdk.getSignature('https://h5.test/a?x=1#frag');
    const second = await wx.jssdk.getSignature('https://h5.test/b');
    assert.ok(fake.verifyJsapiSignature(first) && fake.verifyJsapiSignature(second), 'WeChat accepts both');
    assert.deepEqual(await wx.jssdk.getSignature('https://h5.test/a?x=1'), first, 'served from the store');
    assert.deepEqual([fake.counts.token, fake.counts.ticket], [1, 1]);
    const global = await store.getGlobalToken();
    assert.equal(fake.tokenState(global.accessToken), 'valid');
    assert.equal(global.jsapi_ticket, fake.currentTicket());

    const code = fake.issueCode({ kind: 'oauth', openid: 'o_' + name, scope: 'snsapi_userinfo', nickname: 'Ann' });
    const user = await wx.oauth.getUserInfo(code);
    assert.deepEqual([user.openid, user.nickname], ['o_' + name, 'Ann']);
    const saved = await store.getOAuthAccessToken('o_' + name);
    assert.equal((await wx.oauth.getAccessToken('', 'o_' + name)).access_token, saved.access_token);
    assert.equal(fake.counts.oauthAccessToken, 1);

    if (name === 'FileStore') {
      const file = readFileSync(join(cwd, 'file-store', 'wechat.json'), 'utf8');
      assert.ok(file.includes(global.accessToken), 'the token is written through to the file');
    }
    await store.destroy();
    assert.equal(existsSync(join(cwd, 'wechat-info.json')), false, 'no default store was made');
  });
}

test('a flush or destroy that fails rejects when awaited, and is no unhandled rejection when not', async () => {
  writeFileSync(join(cwd, 'a-file'), 'not a directory');
  const store = new dropin.FileStore({ fileStorePath: join(cwd, 'a-file', 'wechat.json') });
  await store.saveSignature('https://h5.test/dirty', { url: 'https://h5.test/dirty', signature: 's' });
  // As wechat-jssdk calls them: no await, no catch; and through its events.
  const flushed = store.flush();
  store.emit(JssdkStore.StoreEvents.FLUSH_STORE);
  await assert.rejects(store.flush(), (e) => e.code === 'STORE_UNAVAILABLE');
  const destroyed = store.destroy();
  store.emit(JssdkStore.StoreEvents.DESTROY);
  await delay(100);
  const outcome = await Promise.allSettled([flushed, destroyed]);
  assert.deepEqual(outcome.map((o) => o.status), ['rejected', 'rejected']);
  assert.deepEqual(unhandled, []);
});

test("a token wechat-jssdk fetched into a RedisStore is adopted by wxsession's Wechat on another store over that Redis", async () => {
  const theirStore = new dropin.RedisStore({ url: redis.url, appId: APP.appId, prefix: 'adopt' });
  const wx = theirWechat(theirStore);
  fake.resetCounts();
  const theirs = await wx.jssdk.getSignature('https://h5.test/adopt');
  const { accessToken, jsapi_ticket } = await theirStore.getGlobalToken();
  assert.deepEqual([fake.counts.token, fake.counts.ticket], [1, 1]);

  const ourStore = new wxsession.RedisStore({ url: redis.url, appId: APP.appId, prefix: 'adopt' });
  const ours = new wxsession.Wechat({ ...APP, apiBase: fake.url, store: ourStore });
  assert.equal(await ours.getAccessToken(), accessToken);
  assert.equal(await ours.getJsapiTicket(), jsapi_ticket);
  const sig = await ours.jssdk.getSignature('https://h5.test/other');
  assert.ok(fake.verifyJsapiSignature(sig) && fake.verifyJsapiSignature(theirs));
  assert.deepEqual([fake.counts.token, fake.counts.ticket], [1, 1], 'no fetch of our own');
  await Promise.all([theirStore.destroy(), ourStore.destroy()]);
});

/** `read` on a RedisStore made afresh (as in another process: nothing cached), retried until it finds something or 2 s pass. */
async function fromAnotherProcess(prefix, read) {
  const deadline = Date.now() + 2000;
  for (;;) {
    const store = new dropin.RedisStore({ url: redis.url, appId: APP.appId, prefix });
    try {
      const found = await read(store);
      if (found !== undefined || Date.now() > deadline) return found;
    } finally {
      await store.destroy();
    }
    await delay(20);
  }
}

test("signatures and OAuth tokens their Wechat saves into a RedisStore reach Redis at once, as with wechat-jssdk's MongoStore", async () => {
  const store = new dropin.RedisStore({ url: redis.url, appId: APP.appId, prefix: 'sent' });
  const wx = theirWechat(store);
  const sig = await wx.jssdk.getSignature('https://h5.test/sent');
  const token = await wx.oauth.getUserBaseInfo(fake.issueCode({ kind: 'oauth', openid: 'o_sent' }), 'session-1');
  // Not the periodic flush (10 min): a user whose next request lands on another process is still signed in.
  const elsewhere = await fromAnotherProcess('sent', (s) => s.getOAuthAccessToken('session-1'));
  assert.equal(elsewhere?.access_token, token.access_token);
  assert.equal((await fromAnotherProcess('sent', (s) => s.getSignature('https://h5.test/sent')))?.signature, sig.signature);

  // wxsession's own Wechat serves the signature wechat-jssdk stored.
  const ourStore = new wxsession.RedisStore({ url: redis.url, appId: APP.appId, prefix: 'sent' });
  const ours = new wxsession.Wechat({ ...APP, apiBase: fake.url, store: ourStore });
  assert.equal((await ours.jssdk.getSignature('https://h5.test/sent')).signature, sig.signature);
  await Promise.all([store.destroy(), ourStore.destroy()]);
});
