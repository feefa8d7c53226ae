// The H5 clients of the built web entry (pkg/web) in real headless
// Chromium: JssdkClient against a strict fake JS-SDK that checks signatures
// like WeChat (iOS against the landing URL, Android against the current
// one), and OAuthClient through a fake authorize redirect. The backend
// signs with the package's node entry and counts every call. Each test
// gets a fresh browser context (empty localStorage and sessionStorage).
import { test, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { PKG, ROOT } from './support/harness.mjs';
import { startH5Backend } from './support/h5-backend.mjs';

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const APP_ID = 'wx0123456789abcdef';
const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) MicroMessenger/8.0.44';
const ANDROID = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) MicroMessenger/8.0.44';
let browser, backend, context, page;
// A broken client must fail its test, not hang the run.
const T = { timeout: 30000 };

before(async () => {
  backend = await startH5Backend({ appId: APP_ID, files: { '/pkg/': PKG, '/t/': join(ROOT, 'tests', 'web') } });
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: CHROMIUM_ARGS });
});
after(async () => {
  await browser?.close();
  await backend?.close();
});
beforeEach(async () => {
  backend.reset();
  context = await browser.newContext();
  page = await context.newPage();
});
afterEach(() => context.close());

async function open(path = '/t/clients.html') {
  await page.goto(backend.url + path);
  await page.waitForFunction(() => window.ready === true);
}

/** In the page: the page's fake wx (made on first use) and a JssdkClient over it; runs config(c) for each of `calls` at once. */
function config({ platform = 'android', silent = false, client = {}, calls = [{ jsApiList: ['chooseImage'] }] } = {}) {
  return page.evaluate(async ({ wxOptions, client, calls }) => {
    window.wx = window.wx || createFakeWx(wxOptions);
    const jssdk = new wxsession.JssdkClient({ signatureUrl: '/wechat/signature', wx: window.wx, ...client });
    const results = await Promise.all(calls.map((c) => settle(jssdk.config(c))));
    return { results, signedUrl: jssdk.signedUrl(), configs: window.wx.log.configs };
  }, { wxOptions: { ticket: backend.state.ticket, appId: APP_ID, platform, silent }, client, calls });
}

/** The signature records in localStorage: { url, signature, expiresAt }. */
function storedSignatures() {
  return page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('wxsession:')).map((k) => {
    const record = JSON.parse(JSON.parse(localStorage.getItem(k)).value);
    return { key: k, signature: record.info.signature, expiresAt: record.expiresAt };
  }).filter((r) => r.signature));
}

const requests = () => backend.state.signatureRequests.map((r) => (r.force ? 'force' : 'plain'));

test('config: concurrent calls share one signature request; wx.config gets exactly its fields', T, async () => {
  await open('/t/clients.html?from=share#top');
  backend.state.latency = 150;
  const same = { jsApiList: ['chooseImage'], debug: false };
  const out = await config({ calls: [same, same, same, same, same, { jsApiList: ['scanQRCode'], openTagList: ['wx-open-launch-weapp'] }] });
  assert.deepEqual(out.results.map((r) => r.ok), [true, true, true, true, true, true], JSON.stringify(out.results));
  assert.deepEqual(backend.state.signatureRequests, [{ url: backend.url + '/t/clients.html?from=share', force: null }]);
  assert.equal(out.configs.length, 2, 'the same config asked for five times at once runs once');
  const fields = out.configs.map((c) => Object.keys(c.cfg).sort().join(','));
  assert.equal(fields[0], 'appId,debug,jsApiList,nonceStr,signature,timestamp');
  assert.equal(fields.at(-1), 'appId,debug,jsApiList,nonceStr,openTagList,signature,timestamp');
});

test('config: a reload reuses the cached signature until it expires (the server\'s expiresAt, else 7000 s)', T, async () => {
  await open();
  assert.ok((await config()).results[0].ok);
  const [record] = await storedSignatures();
  assert.ok(Math.abs(record.expiresAt - (Date.now() + 7000e3)) < 60e3, 'default expiry is 7000 s: ' + record.expiresAt);
  await page.reload();
  await page.waitForFunction(() => window.ready === true);
  assert.ok((await config()).results[0].ok);
  assert.deepEqual(requests(), ['plain']);

  backend.state.expiresInMs = 1500;
  await open('/t/clients.html?page=2');
  assert.ok((await config()).results[0].ok);
  await open('/t/clients.html?page=2');
  assert.ok((await config()).results[0].ok);
  assert.deepEqual(requests(), ['plain', 'plain'], 'still cached after a reload');
  await new Promise((resolve) => setTimeout(resolve, 1600));
  await open('/t/clients.html?page=2');
  assert.ok((await config()).results[0].ok);
  assert.deepEqual(requests(), ['plain', 'plain', 'plain'], 'expired: asked again');
});

test('config: a cached signature gone stale (the ticket changed) is dropped and fetched anew once, with force=1', T, async () => {
  await open();
  assert.ok((await config()).results[0].ok);
  backend.state.ticket += '-rotated';
  await page.reload();
  await page.waitForFunction(() => window.ready === true);
  const out = await config();
  assert.ok(out.results[0].ok, JSON.stringify(out.results[0]));
  assert.deepEqual(requests(), ['plain', 'force']);
  assert.equal(out.configs.length, 2);
  const stored = await storedSignatures();
  assert.deepEqual(stored.map((r) => r.signature), [out.configs[1].cfg.signature], 'the cache holds the good one only');
});

test('config: a second invalid signature rejects JSSDK_CONFIG and is not kept', T, async () => {
  await open();
  backend.state.badSignatures = 2;
  const out = await config();
  const r = out.results[0];
  assert.equal(r.ok, false);
  assert.equal(r.name + ':' + r.code, 'WxSessionError:JSSDK_CONFIG');
  assert.match(r.errMsg, /invalid signature/);
  assert.deepEqual(requests(), ['plain', 'force']);
  assert.equal(out.configs.length, 2, 'exactly one retry');
  assert.deepEqual(await storedSignatures(), []);
  const again = await config();
  assert.ok(again.results[0].ok);
  assert.deepEqual(requests(), ['plain', 'force', 'plain'], 'nothing bad was cached');
});

// An SPA's route change: iOS still validates the landing URL, Android the current one.
for (const [platform, urlMode, userAgent, ok] of [
  ['ios', 'landing', undefined, true], ['ios', 'current', undefined, false], ['ios', 'auto', IPHONE, true],
  ['android', 'current', undefined, true], ['android', 'landing', undefined, false], ['android', 'auto', ANDROID, true],
]) {
  test(`config after pushState: ${platform} with urlMode '${urlMode}'${userAgent ? ' (its user agent)' : ''} ${ok ? 'is valid' : 'fails'}`, T, async () => {
    await open('/t/clients.html?from=share#top');
    await page.evaluate(() => history.pushState({}, '', '/t/spa/orders?id=7#list'));
    const out = await config({ platform, client: { urlMode, ...(userAgent ? { userAgent } : {}) } });
    const landing = platform === 'ios' ? urlMode !== 'current' : urlMode === 'landing';
    assert.equal(out.signedUrl, backend.url + (landing ? '/t/clients.html?from=share' : '/t/spa/orders?id=7'));
    assert.equal(out.results[0].ok, ok, JSON.stringify(out.results[0]));
    if (!ok) {
      assert.equal(out.results[0].code, 'JSSDK_CONFIG');
      assert.deepEqual(requests(), ['plain', 'force']);
    }
  });
}

test('config: neither wx.ready nor wx.error within timeout rejects TIMEOUT', T, async () => {
  await open();
  const t0 = Date.now();
  const out = await config({ silent: true, client: { timeout: 300 } });
  assert.equal(out.results[0].code, 'TIMEOUT');
  assert.equal(out.configs.length, 1);
  assert.ok(Date.now() - t0 < 3000);
});

test('config: HTTP_ERROR with .status, NETWORK, BAD_CONFIG', T, async () => {
  await open();
  backend.state.failStatus = 503;
  const http = (await config()).results[0];
  assert.deepEqual([http.code, http.status], ['HTTP_ERROR', 503]);
  const network = (await config({ client: { signatureUrl: 'http://127.0.0.1:1/wechat/signature' } })).results[0];
  assert.equal(network.code, 'NETWORK');
  const bad = await page.evaluate(() => {
    const wx = createFakeWx({});
    const attempts = [{ wx }, { signatureUrl: '/s', wx, urlMode: 'ios' }, { signatureUrl: '/s', wx: {} }, { signatureUrl: '/s', wx, signatureURL: '/s' }];
    const out = attempts.map((o) => { try { new wxsession.JssdkClient(o); return 'no error'; } catch (e) { return e.code; } });
    return settle(new wxsession.JssdkClient({ signatureUrl: '/s', wx }).config({ jsApiList: 'chooseImage' })).then((r) => out.concat(r.code));
  });
  assert.deepEqual(bad, ['BAD_CONFIG', 'BAD_CONFIG', 'BAD_CONFIG', 'BAD_CONFIG', 'BAD_CONFIG']);
});

// ---------------------------------------------------------------------------
// OAuth

/** In the page: new OAuthClient(...) against this backend, then `run(client)`. */
function oauth(run, extra = {}) {
  return page.evaluate(async ({ run, options }) => {
    const client = new wxsession.OAuthClient(options);
    return (0, eval)('(' + run + ')')(client);
  }, {
    run: run.toString(),
    options: { appId: APP_ID, redirectUri: backend.url + '/t/clients.html?from=menu', exchangeUrl: '/auth/oauth', authorizeBase: backend.url + '/connect/oauth2/authorize', ...extra },
  });
}

test('oauth: authorizeUrl has WeChat\'s parameters in order and a fresh CSPRNG state kept in sessionStorage', T, async () => {
  await open();
  const out = await oauth((c) => ({ a: c.authorizeUrl(), b: c.authorizeUrl(), stored: JSON.parse(sessionStorage.getItem('wxsession:oauth:state')) }), { authorizeBase: undefined, scope: 'snsapi_userinfo' });
  const re = new RegExp('^https://open\\.weixin\\.qq\\.com/connect/oauth2/authorize\\?appid=' + APP_ID +
    '&redirect_uri=' + encodeURIComponent(backend.url + '/t/clients.html?from=menu').replace(/[.?]/g, '\\$&') +
    '&response_type=code&scope=snsapi_userinfo&state=([A-Za-z0-9]{16})#wechat_redirect$');
  const [, a] = out.a.match(re) || [];
  const [, b] = out.b.match(re) || [];
  assert.ok(a && b, out.a);
  assert.notEqual(a, b);
  assert.equal(out.stored.state, b, 'the latest state is the one kept');
  assert.ok(Math.abs(out.stored.expiresAt - (Date.now() + 600e3)) < 30e3, 'for 10 minutes by default');
});

test('oauth: the way back exchanges once for concurrent calls and for a reload, and cleans the address bar', T, async () => {
  await open();
  const authorize = await oauth((c) => c.authorizeUrl());
  await page.goto(authorize);   // the fake WeChat redirects back with ?code&state
  await page.waitForFunction(() => window.ready === true);
  const backUrl = page.url();
  // The browser carries the authorize URL's #wechat_redirect over; cleaning drops it too.
  assert.match(backUrl, /\?from=menu&code=code-\w+&state=\w{16}(#wechat_redirect)?$/);
  const cleanUrl = backend.url + '/t/clients.html?from=menu';
  backend.state.latency = 150;
  const first = await oauth((c) => Promise.all([1, 2, 3].map(() => settle(c.handleRedirect()))).then((r) => ({ r, href: location.href, state: sessionStorage.getItem('wxsession:oauth:state') })));
  const code = new URL(backUrl).searchParams.get('code');
  assert.deepEqual(first.r.map((x) => x.value), Array(3).fill({ token: 'app-' + code, openid: 'o-h5-user' }));
  assert.deepEqual(backend.state.exchanges, [{ code, state: new URL(backUrl).searchParams.get('state') }]);
  assert.equal(first.href, cleanUrl);
  assert.equal(first.state, null, 'the state is single-use');

  await page.goto(backUrl);     // a reload that still has the code (or the back button)
  await page.waitForFunction(() => window.ready === true);
  const again = await oauth((c) => settle(c.handleRedirect()).then((r) => ({ r, href: location.href })));
  assert.deepEqual(again.r.value, { token: 'app-' + code, openid: 'o-h5-user' });
  assert.equal(again.href, cleanUrl);
  assert.equal(backend.state.exchanges.length, 1);
  assert.equal(await oauth((c) => c.handleRedirect()), null, 'no code: null');

  // The used state with another (genuine) code: refused, never exchanged.
  backend.state.codes.set('code-second', false);
  await open('/t/clients.html?code=code-second&state=' + new URL(backUrl).searchParams.get('state'));
  assert.equal((await oauth((c) => settle(c.handleRedirect()))).code, 'OAUTH_STATE');
  assert.equal(backend.state.exchanges.length, 1);
});

test('oauth: a forged or missing state rejects OAUTH_STATE, never reaches the backend, and leaves the address bar clean', T, async () => {
  await open();
  await oauth((c) => c.authorizeUrl());
  await open('/t/clients.html?a=1&code=code-x&b=%20x&state=forged#h');
  const forged = await oauth((c) => settle(c.handleRedirect()).then((r) => ({ r, href: location.href })));
  assert.equal(forged.r.name + ':' + forged.r.code, 'WxSessionError:OAUTH_STATE');
  assert.equal(forged.href, backend.url + '/t/clients.html?a=1&b=%20x#h');
  await open('/t/clients.html?code=code-y');
  assert.equal((await oauth((c) => settle(c.handleRedirect()))).code, 'OAUTH_STATE');
  // Another tab (no state kept) with a state it never sent.
  await context.close();
  context = await browser.newContext();
  page = await context.newPage();
  await open('/t/clients.html?code=code-z&state=AAAAAAAAAAAAAAAA');
  assert.equal((await oauth((c) => settle(c.handleRedirect()))).code, 'OAUTH_STATE');
  assert.equal(backend.state.exchanges.length, 0);
});

test('oauth: a state older than stateTtl is refused and never exchanged, and it is used up', T, async () => {
  await open();
  const authorize = await oauth((c) => c.authorizeUrl(), { stateTtl: 1000 });
  await new Promise((resolve) => setTimeout(resolve, 1200));
  await page.goto(authorize);
  await page.waitForFunction(() => window.ready === true);
  const r = await oauth((c) => settle(c.handleRedirect()), { stateTtl: 1000 });
  assert.equal(r.code, 'OAUTH_STATE');
  assert.match(r.message, /expired/);
  assert.equal(backend.state.exchanges.length, 0);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('wxsession:oauth:state')), null);
  await assert.rejects(page.evaluate(() => new wxsession.OAuthClient({ appId: 'a', redirectUri: 'https://a.test/', exchangeUrl: '/x', stateTtl: NaN })));
});

test('oauth: the reload shortcut checks the state first: the same code with a state this tab did not send is refused', T, async () => {
  await open();
  const authorize = await oauth((c) => c.authorizeUrl());
  await page.goto(authorize);
  await page.waitForFunction(() => window.ready === true);
  const backUrl = page.url();
  const first = await oauth((c) => settle(c.handleRedirect()));
  assert.equal(first.ok, true);
  const forged = backUrl.replace(/state=\w+/, 'state=AAAAAAAAAAAAAAAA');
  await page.goto(forged);
  await page.waitForFunction(() => window.ready === true);
  assert.equal((await oauth((c) => settle(c.handleRedirect()))).code, 'OAUTH_STATE', 'no answer for a forged state');
  await page.goto(backUrl);
  await page.waitForFunction(() => window.ready === true);
  assert.deepEqual((await oauth((c) => settle(c.handleRedirect()))).value, first.value, 'the genuine reload still gets it');
  assert.equal(backend.state.exchanges.length, 1);
});

test('config on a page still carrying ?code=&state=: signed and configured, never stored', T, async () => {
  await open('/t/clients.html?from=menu&code=code-abc&state=AAAAAAAAAAAAAAAA');
  assert.ok((await config()).results[0].ok);
  assert.deepEqual(await storedSignatures(), []);
  assert.doesNotMatch(await page.evaluate(() => JSON.stringify(localStorage)), /code-abc/);
  backend.state.badSignatures = 1;
  assert.ok((await config()).results[0].ok, 'an invalid one is retried with force=1');
  assert.deepEqual(requests(), ['plain', 'plain', 'force'], 'asked again, not served from a cache');
  assert.doesNotMatch(await page.evaluate(() => JSON.stringify(localStorage)), /code-abc/, 'not even as a dropped entry');
  await open('/t/clients.html?from=menu');
  assert.ok((await config()).results[0].ok);
  assert.equal((await storedSignatures()).length, 1, 'a plain page URL is cached as before');
});
