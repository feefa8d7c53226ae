// The web entry of the built package in real headless Chromium (Debian's,
// driven by playwright-core): fetch, localStorage, the same core.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { PKG, ROOT } from './support/harness.mjs';
import { WeChatAccounts } from './support/wechat-accounts.mjs';
import { startAppBackend } from './support/app-backend.mjs';

export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
let browser, backend, page;

before(async () => {
  backend = await startAppBackend({ accounts: new WeChatAccounts(), files: { '/pkg/': PKG, '/t/': join(ROOT, 'tests', 'web') } });
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: CHROMIUM_ARGS });
  page = await browser.newPage();
  await page.goto(backend.url + '/t/index.html');
  await page.waitForFunction(() => window.ready === true);
});

after(async () => {
  await browser?.close();
  await backend?.close();
});

test('a burst in Chromium shares one login; the token lands in localStorage', async () => {
  const out = await page.evaluate(async (baseUrl) => {
    const session = await wxsession.createSession({ baseUrl, loginUrl: '/auth/login', getCode });
    const results = await Promise.all(Array.from({ length: 25 }, () => session.request({ url: '/api/a' })));
    const record = JSON.parse(localStorage.getItem('wxsession'));
    return { ok: results.every((r) => r.ok), record, stored: JSON.parse(record.value), state: session.state };
  }, backend.url);
  assert.equal(out.ok, true);
  assert.equal(out.state, 'authenticated');
  // The localStorage backend's record, expiring with the token.
  assert.deepEqual(Object.keys(out.record).sort(), ['expiresAt', 'value']);
  assert.ok(out.record.expiresAt >= out.stored.expiresAt && out.record.expiresAt - out.stored.expiresAt < 1000);
  assert.equal(out.stored.v, 1);
  assert.equal(backend.state.counts.exchange, 1);
});

test('a reload starts warm from localStorage', async () => {
  await page.reload();
  await page.waitForFunction(() => window.ready === true);
  const state = await page.evaluate(async (baseUrl) => {
    const session = await wxsession.createSession({ baseUrl, loginUrl: '/auth/login', getCode });
    await session.request({ url: '/api/b' });
    return session.state;
  }, backend.url);
  assert.equal(state, 'authenticated');
  assert.equal(backend.state.counts.exchange, 1);
});

test('errors cross into the page as WxSessionError with a code', async () => {
  const codes = await page.evaluate(async (baseUrl) => {
    const out = [];
    try { await wxsession.createSession({ baseUrl, loginUrl: '/auth/login' }); } catch (e) { out.push(e.name + ':' + e.code); }
    const s = await wxsession.createSession({ baseUrl, loginUrl: '/auth/login', getCode });
    try { await s.request({ url: '/api/fail' }); } catch (e) { out.push(e.code + ':' + e.status); }
    out.push(/^[A-Za-z0-9]{16}$/.test(wxsession.nonceStr(16)) ? 'nonce-ok' : 'nonce-bad');
    return out;
  }, backend.url);
  assert.deepEqual(codes, ['WxSessionError:BAD_CONFIG', 'HTTP_ERROR:500', 'nonce-ok']);
});

test('in the browser too: the token goes only to allowed origins, options are checked before the wasm, storage has delete', async () => {
  const out = await page.evaluate(async (baseUrl) => {
    const codeOf = (p) => p.then(() => 'resolved', (e) => e.code + (e.status ? ':' + e.status : ''));
    const seen = [];
    const session = await wxsession.createSession({ baseUrl, loginUrl: '/auth/login', getCode });
    for (const url of ['https://evil.test/x', '//evil.test/x', baseUrl.replace('127.0.0.1', 'localhost') + '/api/a', 'http://evil.test\\@127.0.0.1/']) {
      seen.push(await codeOf(session.request({ url })));
    }
    seen.push(await codeOf(session.request({ url: '.evil.test/x' })));
    seen.push(await codeOf(session.request({ url: '@evil.test/x' })));
    for (const bad of [{ timeout: NaN }, { maxRelogin: 1n }, { baseUrl: null }, { storage: { get() {}, set() {}, remove() {} } }]) {
      seen.push(await codeOf(wxsession.createSession(Object.assign({ baseUrl, loginUrl: '/auth/login', getCode }, bad))));
    }
    return seen;
  }, backend.url);
  assert.deepEqual(out, ['BAD_CONFIG', 'BAD_CONFIG', 'BAD_CONFIG', 'BAD_CONFIG', 'HTTP_ERROR:404', 'HTTP_ERROR:404',
    'BAD_CONFIG', 'BAD_CONFIG', 'BAD_CONFIG', 'BAD_CONFIG']);
});
