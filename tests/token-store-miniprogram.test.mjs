// The Token Store of the built mini-program entry (pkg/miniprogram_dist) in
// the strict sandbox, over wx storage (the fake wx's asynchronous storage
// APIs, with their quota): the shared contract, then the rules only a
// device has (init first, a full storage, an app restart).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { miniProgramWorld } from './support/harness.mjs';
import { storeContract, plain, assertServesFromMemoryWhenFull } from './support/token-store-contract.mjs';

// One world for the contract: every Store it opens shares this wx storage.
const world = await miniProgramWorld();
after(() => world.close());

test('wx storage: new Store() before init() throws INIT_FAILED; after init() it works', async () => {
  const m = world.wxsession;
  assert.throws(() => new m.Store({ backend: 'wx', noInterval: true }),
    (e) => e.name === 'WxSessionError' && e.code === 'INIT_FAILED' && /await init\(\)/.test(e.message));
  assert.equal(world.wx.calls.getStorage + world.wx.calls.setStorage, 0, 'a failed constructor touches no storage');
  await m.init();
  const store = new m.Store({ backend: 'wx', noInterval: true });
  assert.deepEqual(plain(await store.getGlobalToken()), {});
  await store.destroy();
});

storeContract(test, 'wx storage', async () => {
  const m = world.wxsession;
  await m.init();
  return new m.Store({ backend: 'wx', noInterval: true });
});

test('wx storage: records land in wx storage as { value, expiresAt } under the wxsession: prefix', async () => {
  const m = world.wxsession;
  const store = new m.Store({ backend: 'wx', noInterval: true });
  await store.saveSignature('https://c.test/', { signature: 'sc' });
  await store.flush();
  const keys = [...world.wx.storage.keys()];
  assert.ok(keys.length > 0 && keys.every((k) => k.startsWith('wxsession:')), keys.join(', '));
  const sig = keys.map((k) => world.wx.storage.get(k)).find((r) => r.value.includes('"sc"'));
  assert.ok(sig, 'the signature was written');
  assert.equal(typeof sig.value, 'string');
  assert.ok(sig.expiresAt === null || typeof sig.expiresAt === 'number');
  await store.destroy();
});

test('wx storage: a full storage rejects the flush with STORE_UNAVAILABLE, memory keeps serving, a later flush writes it', async () => {
  const quotaBytes = 4096;
  const w = await miniProgramWorld({ quotaBytes });
  try {
    const m = w.wxsession;
    await m.init();
    // Another part of the app has used up the quota.
    w.wx.setStorageSync('filler', 'x'.repeat(quotaBytes - 'filler'.length - 2 - 20));
    const store = new m.Store({ backend: 'wx', noInterval: true });

    await assertServesFromMemoryWhenFull(store);
    // Nothing of the store reached wx storage.
    assert.deepEqual([...w.wx.storage.keys()], ['filler']);
    const during = new m.Store({ backend: 'wx', noInterval: true });
    assert.deepEqual(plain(await during.getGlobalToken()), {});
    await during.destroy();

    // The app frees space: the next flush writes what was kept in memory.
    w.wx.removeStorageSync('filler');
    await store.flush();
    const fresh = new m.Store({ backend: 'wx', noInterval: true });
    assert.deepEqual(plain(await fresh.getGlobalToken()), { accessToken: 'A', jsapi_ticket: 'T', count: 1 });
    assert.equal((await fresh.getSignature('https://a.test/')).signature, 's');
    await fresh.destroy();
    await store.destroy();

    // An app restart (new sandbox, same wx storage) reads it too.
    w.restart();
    const m2 = w.wxsession;
    await m2.init();
    const restarted = new m2.Store({ backend: 'wx', noInterval: true });
    assert.equal((await restarted.getGlobalToken()).accessToken, 'A');
    assert.equal((await restarted.getSignature('https://a.test/')).signature, 's');
    await restarted.destroy();
  } finally {
    await w.close();
  }
});

test('wx storage: storage that fails every write (knob) is STORE_UNAVAILABLE too, and heals', async () => {
  const m = world.wxsession;
  const store = new m.Store({ backend: 'wx', noInterval: true });
  world.wx.knobs.failStorageWrites = true;
  try {
    await assert.rejects(store.saveOAuthAccessToken('openid-9', { access_token: 'o9' }).then(() => store.flush()),
      (e) => e.code === 'STORE_UNAVAILABLE');
    assert.equal((await store.getOAuthAccessToken('openid-9')).access_token, 'o9');
  } finally {
    world.wx.knobs.failStorageWrites = false;
  }
  await store.flush();
  const fresh = new m.Store({ backend: 'wx', noInterval: true });
  assert.equal((await fresh.getOAuthAccessToken('openid-9')).access_token, 'o9');
  await fresh.destroy();
  await store.destroy();
});
