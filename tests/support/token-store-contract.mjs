// One contract for the Token Store, run against every backend. `open()`
// returns a fresh Store over the backend under test; two Stores opened on
// the same backend share its data (that is how persistence is checked).
import assert from 'node:assert/strict';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Results may come from another realm (the mini-program `vm` sandbox) or
// across a wire (a page in Chromium), where deepStrictEqual's prototype
// check fails on equal data. Store results are JSON data by definition, so
// they are compared as such: plain() first checks that a value is nothing
// but JSON data (plain objects of any realm, arrays, strings, finite
// numbers, booleans, null), so a Map or class instance cannot pass for {}.
// undefined stays undefined.
export function plain(value) {
  if (value === undefined) return undefined;
  assertJsonData(value, '$');
  return JSON.parse(JSON.stringify(value));
}

function assertJsonData(v, path) {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return;
  if (typeof v === 'number') {
    assert.ok(Number.isFinite(v), `${path} is ${v}, not JSON data`);
    return;
  }
  assert.equal(typeof v, 'object', `${path} is a ${typeof v}, not JSON data`);
  if (Array.isArray(v)) {
    v.forEach((x, i) => assertJsonData(x, `${path}[${i}]`));
    return;
  }
  const proto = Object.getPrototypeOf(v);
  // Object.prototype of whichever realm made it (its own prototype is null).
  assert.ok(proto === null || Object.getPrototypeOf(proto) === null, `${path} is not a plain object`);
  for (const k of Object.keys(v)) {
    assert.notEqual(v[k], undefined, `${path}.${k} is undefined, not JSON data`);
    assertJsonData(v[k], `${path}.${k}`);
  }
}

export function storeContract(test, name, open) {
  test(`${name}: an empty store has an empty global token and no signatures`, async () => {
    const store = await open();
    assert.deepEqual(plain(await store.getGlobalToken()), {});
    assert.equal(await store.getSignature('https://a.test/'), undefined);
    assert.equal(await store.isSignatureExisting('https://a.test/'), false);
    assert.equal(await store.getOAuthAccessToken('openid-1'), undefined);
    await store.destroy();
  });

  test(`${name}: updateGlobalToken merges and is flushed at once`, async () => {
    const a = await open();
    await a.updateGlobalToken({ accessToken: 'A1', expires_in: 7200 });
    const merged = await a.updateGlobalToken({ jsapi_ticket: 'T1' });
    assert.equal(merged.accessToken, 'A1');
    assert.equal(merged.jsapi_ticket, 'T1');
    const b = await open();
    // `count`: wechat-jssdk's update counter, one per update.
    assert.deepEqual(plain(await b.getGlobalToken()), { accessToken: 'A1', expires_in: 7200, jsapi_ticket: 'T1', count: 2 });
    await a.destroy();
    await b.destroy();
  });

  test(`${name}: signatures and OAuth tokens round-trip, update merges, flush persists`, async () => {
    const a = await open();
    const url = 'https://a.test/page?x=1&y=é';
    const sig = { jsapi_ticket: 'T1', nonceStr: 'n', timestamp: '1', url, signature: 's1' };
    assert.deepEqual(plain(await a.saveSignature(url, sig)), sig);
    assert.equal(await a.isSignatureExisting(url), true);
    const updated = await a.updateSignature(url, { signature: 's2' });
    assert.equal(updated.signature, 's2');
    assert.equal(updated.nonceStr, 'n');
    await a.saveOAuthAccessToken('openid-1', { access_token: 'o1', refresh_token: 'r1', expires_in: 7200 });
    await a.updateOAuthAccessToken('openid-1', { access_token: 'o2' });
    await a.flush();
    const b = await open();
    assert.equal((await b.getSignature(url)).signature, 's2');
    const oauth = await b.getOAuthAccessToken('openid-1');
    assert.equal(oauth.access_token, 'o2');
    assert.equal(oauth.refresh_token, 'r1');
    await a.destroy();
    await b.destroy();
  });

  test(`${name}: mutating a result never changes the store (a copy, or frozen)`, async () => {
    const store = await open();
    const info = { access_token: 'x', nested: { a: 1 } };
    await store.saveOAuthAccessToken('k', info);
    info.access_token = 'changed after saving';
    const got = await store.getOAuthAccessToken('k');
    for (const change of [() => { got.access_token = 'mutated'; }, () => { got.nested.a = 2; }]) {
      try {
        change();
      } catch (err) {
        assert.ok(err instanceof TypeError && Object.isFrozen(got) && Object.isFrozen(got.nested), 'only a frozen result may refuse a change');
      }
    }
    assert.equal((await store.getOAuthAccessToken('k')).access_token, 'x');
    assert.equal((await store.getOAuthAccessToken('k')).nested.a, 1);
    await store.destroy();
  });

  test(`${name}: expired records are not served, here or after a reload`, async () => {
    const a = await open();
    await a.saveOAuthAccessToken('short', { access_token: 'x', expiresAt: Date.now() + 300 });
    await a.flush();
    assert.equal((await a.getOAuthAccessToken('short')).access_token, 'x');
    await sleep(400);
    assert.equal(await a.getOAuthAccessToken('short'), undefined);
    const b = await open();
    assert.equal(await b.getOAuthAccessToken('short'), undefined);
    await a.destroy();
    await b.destroy();
  });

  test(`${name}: a signature is served only while its ticket is current`, async () => {
    const store = await open();
    await store.updateGlobalToken({ accessToken: 'A', jsapi_ticket: 'T1' });
    await store.saveSignature('https://b.test/', { jsapi_ticket: 'T1', signature: 's' });
    assert.ok(await store.getSignature('https://b.test/'));
    await store.updateGlobalToken({ jsapi_ticket: 'T2' });
    assert.equal(await store.getSignature('https://b.test/'), undefined);
    await store.destroy();
  });

  test(`${name}: bad input is BAD_INPUT; a destroyed store says STORE_DESTROYED`, async () => {
    const store = await open();
    await assert.rejects(store.saveSignature('', { a: 1 }), (e) => e.code === 'BAD_INPUT');
    await assert.rejects(store.saveSignature('https://a.test/', 'not an object'), (e) => e.code === 'BAD_INPUT');
    await assert.rejects(store.saveOAuthAccessToken('k', [1, 2]), (e) => e.code === 'BAD_INPUT');
    await store.destroy();
    await assert.rejects(store.getGlobalToken(), (e) => e.code === 'STORE_DESTROYED');
    await assert.rejects(store.saveSignature('https://a.test/', {}), (e) => e.code === 'STORE_DESTROYED');
  });
}

/**
 * With the backend full (quota): writes reject with STORE_UNAVAILABLE while
 * the store keeps serving what it was given from memory.
 */
export async function assertServesFromMemoryWhenFull(store) {
  await assert.rejects(store.updateGlobalToken({ accessToken: 'A', jsapi_ticket: 'T' }),
    (e) => e.code === 'STORE_UNAVAILABLE' && /quota/.test(e.message));
  assert.equal((await store.getGlobalToken()).accessToken, 'A');
  await store.saveSignature('https://a.test/', { jsapi_ticket: 'T', signature: 's' });
  await assert.rejects(store.flush(), (e) => e.code === 'STORE_UNAVAILABLE');
  assert.equal((await store.getSignature('https://a.test/')).signature, 's');
}
