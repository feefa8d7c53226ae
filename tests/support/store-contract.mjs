// The one contract every Token Store backend meets. `factory(t)` returns a
// fresh, empty backend and registers its own cleanup with t.after.
import { test } from 'node:test';
import assert from 'node:assert/strict';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function rejectsWith(promiseOrFn, code, message) {
  const p = typeof promiseOrFn === 'function' ? promiseOrFn() : promiseOrFn;
  // A synchronous throw would escape a caller's .catch: it must be a rejection.
  assert.ok(p && typeof p.then === 'function', 'expected a promise');
  await assert.rejects(p, (err) => {
    assert.equal(err.code, code, (message || '') + ': ' + err.message);
    assert.equal(err.name, 'WxSessionError');
    return true;
  });
}

export function storeContract(factory, { lock = false, largeBytes = 512 * 1024 } = {}) {
  test('a missing key reads as null', async (t) => {
    const store = await factory(t);
    assert.equal(await store.get('global:access_token'), null);
  });

  test('values round-trip exactly: ascii, unicode, empty, large; awkward keys', async (t) => {
    const store = await factory(t);
    const large = Array.from({ length: largeBytes / 16 }, (_, i) => i.toString(36).padStart(15, '~') + '\u00e9').join('');
    const cases = [
      ['global:access_token', 'ACCESS_TOKEN_abc123'],
      ['sig:https://example.com/a?b=1&c=é#frag', '令牌 🔑 "quoted" \\ \n\t\u0000 end'],
      ['oauth:o6_bmjrPTlm6_2sgVt7hMZOPfL2M', ''],
      ['__proto__', 'not a prototype'],
      ['constructor', 'plain'],
      ['misc key with spaces', large],
    ];
    for (const [k, v] of cases) await store.set(k, v, 0);
    for (const [k, v] of cases) assert.equal(await store.get(k), v, k);
  });

  test('set overwrites, with or without a ttl', async (t) => {
    const store = await factory(t);
    await store.set('global:ticket', 'one', 0);
    await store.set('global:ticket', 'two', 60000);
    assert.equal(await store.get('global:ticket'), 'two');
    await store.set('global:ticket', 'three', 0);
    assert.equal(await store.get('global:ticket'), 'three');
  });

  test('delete removes a key; deleting a missing key is fine', async (t) => {
    const store = await factory(t);
    await store.set('sig:a', 'x', 0);
    await store.set('sig:b', 'y', 0);
    await store.delete('sig:a');
    assert.equal(await store.get('sig:a'), null);
    assert.equal(await store.get('sig:b'), 'y');
    await store.delete('sig:never-set');
  });

  test('an entry expires after its ttl; ttl 0 never expires', async (t) => {
    const store = await factory(t);
    await store.set('global:short', 'soon gone', 150);
    await store.set('global:forever', 'stays', 0);
    assert.equal(await store.get('global:short'), 'soon gone');
    await sleep(350);
    assert.equal(await store.get('global:short'), null);
    assert.equal(await store.get('global:forever'), 'stays');
  });

  test('concurrent sets to different keys all land', async (t) => {
    const store = await factory(t);
    const keys = Array.from({ length: 40 }, (_, i) => 'sig:page-' + i);
    await Promise.all(keys.map((k, i) => store.set(k, 'v' + i, i % 2 ? 60000 : 0)));
    const got = await Promise.all(keys.map((k) => store.get(k)));
    assert.deepEqual(got, keys.map((_, i) => 'v' + i));
  });

  test('bad keys, values and ttls reject with BAD_INPUT', async (t) => {
    const store = await factory(t);
    await rejectsWith(() => store.get(''), 'BAD_INPUT', 'empty key');
    await rejectsWith(() => store.get(42), 'BAD_INPUT', 'number key');
    await rejectsWith(() => store.delete(undefined), 'BAD_INPUT', 'undefined key');
    await rejectsWith(() => store.set('k', 42, 0), 'BAD_INPUT', 'number value');
    await rejectsWith(() => store.set('k', null, 0), 'BAD_INPUT', 'null value');
    await rejectsWith(() => store.set('k', 'v', -1), 'BAD_INPUT', 'negative ttl');
    await rejectsWith(() => store.set('k', 'v', 1.5), 'BAD_INPUT', 'fractional ttl');
    await rejectsWith(() => store.set('k', 'v', '100'), 'BAD_INPUT', 'string ttl');
    await rejectsWith(() => store.set('k', 'v', Infinity), 'BAD_INPUT', 'infinite ttl');
    await rejectsWith(() => store.set('k', 'v'), 'BAD_INPUT', 'missing ttl');
    assert.equal(await store.get('k'), null, 'nothing was written');
    if (lock) {
      await rejectsWith(() => store.lock('k', 0), 'BAD_INPUT', 'lock ttl 0');
      await rejectsWith(() => store.lock(7, 100), 'BAD_INPUT', 'lock key');
      await rejectsWith(() => store.unlock('k', 5), 'BAD_INPUT', 'unlock token');
    }
  });

  if (lock) {
    test('lock: exclusive while held, compare-and-delete unlock, free again after its ttl', async (t) => {
      const store = await factory(t);
      const token = await store.lock('global:access_token', 5000);
      assert.match(token, /^[0-9a-f]{32}$/);
      assert.equal(await store.lock('global:access_token', 5000), null, 'second lock while held');
      assert.equal(await store.unlock('global:access_token', 'not-the-token'), false);
      assert.equal(await store.lock('global:access_token', 5000), null, 'a wrong unlock released nothing');
      assert.equal(await store.get('global:access_token'), null, 'locks do not show up as data');
      assert.equal(await store.unlock('global:access_token', token), true);
      assert.equal(await store.unlock('global:access_token', token), false, 'already released');

      const short = await store.lock('global:ticket', 150);
      assert.ok(short);
      await sleep(350);
      const next = await store.lock('global:ticket', 5000);
      assert.ok(next && next !== short, 'free again after the ttl, with a new token');
      assert.equal(await store.unlock('global:ticket', short), false, 'the expired holder cannot release the new one');
      assert.equal(await store.unlock('global:ticket', next), true);
    });

    test('lock: of many concurrent callers exactly one wins', async (t) => {
      const store = await factory(t);
      const tokens = await Promise.all(Array.from({ length: 12 }, () => store.lock('global:race', 5000)));
      assert.equal(tokens.filter(Boolean).length, 1);
    });
  } else {
    test('offers no lock (single-process host)', async (t) => {
      const store = await factory(t);
      assert.equal(store.lock, undefined);
      assert.equal(store.unlock, undefined);
    });
  }

  test('close() is idempotent', async (t) => {
    const store = await factory(t);
    await store.set('global:x', 'y', 0);
    await store.close();
    await store.close();
  });
}
