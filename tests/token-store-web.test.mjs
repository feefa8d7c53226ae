// The Token Store of the built web entry (pkg/web) in real headless
// Chromium, over the page's localStorage. The contract runs in Node and the
// stores live in the page: each Store is a proxy whose methods run
// `window.stores[id][method](...args)` in the page, bring results back as
// JSON and rethrow page errors as Node Errors with the same name and .code.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { PKG, ROOT } from './support/harness.mjs';
import { WeChatAccounts } from './support/wechat-accounts.mjs';
import { startAppBackend } from './support/app-backend.mjs';
import { storeContract, plain, assertServesFromMemoryWhenFull } from './support/token-store-contract.mjs';

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const METHODS = ['getGlobalToken', 'updateGlobalToken', 'getSignature', 'saveSignature', 'updateSignature', 'isSignatureExisting',
  'getOAuthAccessToken', 'saveOAuthAccessToken', 'updateOAuthAccessToken', 'flush', 'destroy'];
let browser, backend, page;

before(async () => {
  backend = await startAppBackend({ accounts: new WeChatAccounts(), files: { '/pkg/': PKG, '/t/': join(ROOT, 'tests', 'web') } });
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: CHROMIUM_ARGS });
  page = await browser.newPage();
  await openPage();
});

after(async () => {
  await browser?.close();
  await backend?.close();
});

async function openPage() {
  await page.goto(backend.url + '/t/index.html');
  await page.waitForFunction(() => window.ready === true);
  // The registry the proxies talk to, and one way to call into it.
  await page.evaluate(() => {
    window.stores = [];
    window.callStore = async (id, method, args) => {
      try {
        const value = await window.stores[id][method](...args);
        return value === undefined ? { ok: true } : { ok: true, json: JSON.stringify(value) };
      } catch (e) {
        return { ok: false, error: { name: e && e.name, code: e && e.code, message: String((e && e.message) || e) } };
      }
    };
  });
}

/** Runs `new wxsession.Store(options)` in the page; returns a Node-side proxy. */
async function openStore(options = { backend: 'localStorage', noInterval: true }) {
  const id = await page.evaluate(async (opts) => {
    await wxsession.init();
    return window.stores.push(new wxsession.Store(opts)) - 1;
  }, options);
  const proxy = { id };
  for (const method of METHODS) {
    proxy[method] = async (...args) => {
      const out = await page.evaluate(([i, m, a]) => window.callStore(i, m, a), [id, method, args]);
      if (out.ok) return out.json === undefined ? undefined : JSON.parse(out.json);
      throw Object.assign(new Error(out.error.message), { name: out.error.name, code: out.error.code });
    };
  }
  return proxy;
}

test('localStorage: new Store() before init() throws INIT_FAILED; after init() it works', async () => {
  const out = await page.evaluate(async () => {
    const result = {};
    try { new wxsession.Store({ backend: 'localStorage', noInterval: true }); result.before = 'no error'; } catch (e) { result.before = e.name + ':' + e.code; }
    await wxsession.init();
    const store = new wxsession.Store({ backend: 'localStorage', noInterval: true });
    result.after = JSON.stringify(await store.getGlobalToken());
    await store.destroy();
    return result;
  });
  assert.deepEqual(out, { before: 'WxSessionError:INIT_FAILED', after: '{}' });
});

storeContract(test, 'localStorage (Chromium)', () => openStore());

test('localStorage: results are copies inside the page too', async () => {
  // Through the proxy every result is a copy anyway; check it where the store lives.
  const value = await page.evaluate(async () => {
    const store = new wxsession.Store({ backend: 'localStorage', noInterval: true });
    await store.saveOAuthAccessToken('k2', { access_token: 'x', nested: { a: 1 } });
    const first = await store.getOAuthAccessToken('k2');
    first.access_token = 'mutated';
    first.nested.a = 2;
    const again = await store.getOAuthAccessToken('k2');
    await store.destroy();
    return again;
  });
  assert.deepEqual(value, { access_token: 'x', nested: { a: 1 } });
});

test('localStorage: records are { value, expiresAt } JSON under the wxsession: prefix', async () => {
  const store = await openStore();
  await store.saveSignature('https://c.test/', { signature: 'sc' });
  await store.flush();
  const items = await page.evaluate(() => Object.keys(localStorage).map((k) => [k, localStorage.getItem(k)]));
  assert.ok(items.length > 0 && items.every(([k]) => k.startsWith('wxsession:')), items.map(([k]) => k).join(', '));
  const sig = items.map(([, v]) => JSON.parse(v)).find((r) => r.value.includes('"sc"'));
  assert.ok(sig, 'the signature was written');
  assert.equal(typeof sig.value, 'string');
  assert.ok(sig.expiresAt === null || typeof sig.expiresAt === 'number');
  await store.destroy();
});

test('localStorage: quota exceeded rejects the flush with STORE_UNAVAILABLE, memory keeps serving, a later flush writes it', async () => {
  await page.evaluate(() => localStorage.clear());
  const store = await openStore();
  // Another part of the page fills localStorage until setItem throws.
  const filled = await page.evaluate(() => {
    let n = 0;
    for (let size = 1 << 20; size >= 1;) {
      try {
        localStorage.setItem('filler-' + n, 'x'.repeat(size));
        n++;
      } catch (e) {
        if (e.name !== 'QuotaExceededError') throw e;
        size = Math.floor(size / 2);
      }
    }
    return n;
  });
  assert.ok(filled > 0);
  try {
    await assertServesFromMemoryWhenFull(store);
    const during = await openStore();
    assert.deepEqual(plain(await during.getGlobalToken()), {});
    await during.destroy();
  } finally {
    await page.evaluate(() => {
      for (const k of Object.keys(localStorage)) if (k.startsWith('filler-')) localStorage.removeItem(k);
    });
  }

  await store.flush();
  const fresh = await openStore();
  assert.deepEqual(plain(await fresh.getGlobalToken()), { accessToken: 'A', jsapi_ticket: 'T', count: 1 });
  assert.equal((await fresh.getSignature('https://a.test/')).signature, 's');
  await fresh.destroy();
  await store.destroy();

  // A reload (a new page, same localStorage) reads it too.
  await openPage();
  const reloaded = await openStore();
  assert.equal((await reloaded.getGlobalToken()).accessToken, 'A');
  assert.equal((await reloaded.getSignature('https://a.test/')).signature, 's');
  await reloaded.destroy();
});
