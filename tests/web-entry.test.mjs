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
    return { ok: results.every((r) => r.ok), stored: JSON.parse(localStorage.getItem('wxsession')), state: session.state };
  }, backend.url);
  assert.equal(out.ok, true);
  assert.equal(out.state, 'authenticated');
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
