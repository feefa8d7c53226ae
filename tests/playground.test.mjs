// The www/ playground (`npm start`) driven in headless Chromium through
// startPlayground(): the page runs the built web entry against the demo
// backend (the package's node entry) and the fake WeChat API. Each test
// checks the server's counters AND what the page shows, in a fresh browser
// context (empty localStorage/sessionStorage, so a cold session), and
// leaves a screenshot in tests/artifacts/. The revoke test's picture is the
// README's: it goes to docs/playground.png when UPDATE_SCREENSHOTS=1 (so a
// test run never leaves the checkout modified), to tests/artifacts/ always.
import { test, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { ROOT } from './support/harness.mjs';
import { startPlayground } from '../scripts/playground.mjs';

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const ARTIFACTS = join(ROOT, 'tests', 'artifacts');
const T = { timeout: 30000 };
const DESKTOP = { width: 1280, height: 900 }, PHONE = { width: 390, height: 844 };
let pg, browser, context, page, pageErrors;

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  pg = await startPlayground({ quiet: true });
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: CHROMIUM_ARGS });
});
after(async () => {
  await browser?.close();
  await pg?.close();
});
const control = (path, body) => fetch(pg.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
async function newPage(viewport) {
  await context?.close();
  context = await browser.newContext({ viewport });
  page = await context.newPage();
  pageErrors = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
}
beforeEach(async () => {
  // Knobs an earlier test turned stay turned on the shared server.
  await Promise.all([control('dev/reset', {}), control('dev/latency', { ms: 0 }), control('dev/fail-next-login', { armed: false })]);
  await newPage(DESKTOP);
});
afterEach(() => context.close());

const server = async () => (await fetch(pg.url + 'dev/state')).json();
const box = (selector) => page.locator(selector).boundingBox();
const inside = (inner, outer) => inner.x >= outer.x - 0.5 && inner.y >= outer.y - 0.5 &&
  inner.x + inner.width <= outer.x + outer.width + 0.5 && inner.y + inner.height <= outer.y + outer.height + 0.5;
const ready = () => page.waitForSelector('body[data-ready="1"]', { timeout: 10000 });

async function open(path = '') {
  await page.goto(pg.url + path);
  await ready();
}

async function finish(name) {
  await page.screenshot({ path: join(ARTIFACTS, `playground-${name}.png`), fullPage: true });
  assert.deepEqual(pageErrors, [], 'no uncaught errors in the page');
}

/** Fires a burst from the page and resolves with the summary the page shows. */
async function burst(n) {
  await page.fill('#burst-size', String(n));
  await page.evaluate(() => { delete document.getElementById('burst-summary').dataset.requests; });
  await page.click('#burst');
  await page.waitForSelector('#burst-summary[data-requests]', { timeout: 20000 });
  const data = await page.evaluate(() => ({ ...document.getElementById('burst-summary').dataset }));
  const shown = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Number(v)]));
  return { ...shown, text: await page.textContent('#burst-summary') };
}

const timeline = () => page.$$eval('#timeline li', (lis) => lis.map((li) => li.textContent));
const countLines = async (re) => (await timeline()).filter((t) => re.test(t)).length;

test('(a) a cold burst of 100 requests causes exactly one login: server counters and the page agree', T, async () => {
  await open();
  assert.equal(await page.textContent('#state'), 'anonymous');
  const shown = await burst(100);
  const s = await server();
  assert.deepEqual(
    [s.counts.logins, s.counts.tokensIssued, s.counts.api, s.counts.apiOk, s.counts.unauthorized, s.wechat.code2Session],
    [1, 1, 100, 100, 0, 1], JSON.stringify(s));
  assert.deepEqual(
    [shown.requests, shown.ok, shown.failed, shown.logins, shown.exchanges, shown.unauthorized, shown.serverLogins],
    [100, 100, 0, 1, 1, 0, 1], JSON.stringify(shown));
  assert.match(shown.text, /^100 requests → 1 login · 100 ok · \d+ ms$/);
  assert.equal(await page.locator('#chart line.login').count(), 1, 'the chart marks one login');
  assert.equal(await page.textContent('#state'), 'authenticated');
  assert.equal(await countLines(/anonymous → logging-in/), 1);
  assert.equal(await countLines(/POST \/auth\/login → 200/), 1);
  const wechatSide = new URL(pg.wechatSideUrl); // wx.login's code comes from WeChat's side: another origin
  assert.notEqual(wechatSide.port, new URL(pg.url).port);
  assert.equal(await countLines(new RegExp(`GET ${wechatSide.host}/dev/code → 200 .* · wx\\.login \\(simulated\\)`)), 1);
  assert.equal(await page.textContent('td[data-counter="logins"]'), '1', 'the counters panel shows it too');
  await finish('a-burst');
});

test('(b) a server revoke, then a burst: 100 × 401, one shared re-login, every request succeeds', T, async () => {
  await open();
  await burst(10);
  await page.click('#revoke');
  await page.waitForFunction(() => /server revoked every app token/.test(document.getElementById('timeline').textContent));
  const before = await server();
  assert.equal(before.liveTokens, 0);
  const shown = await burst(100);
  const s = await server();
  assert.deepEqual(
    [s.counts.logins - before.counts.logins, s.counts.unauthorized - before.counts.unauthorized, s.counts.apiOk - before.counts.apiOk, s.wechat.code2Session - before.wechat.code2Session],
    [1, 100, 100, 1], 'one re-login; each request rejected once, then replayed once');
  assert.deepEqual([shown.requests, shown.ok, shown.failed, shown.logins, shown.unauthorized, shown.serverLogins], [100, 100, 0, 1, 100, 1], JSON.stringify(shown));
  assert.match(shown.text, /100 requests → 1 login · 100 ok · 100 × 401 replayed after one shared re-login/);
  assert.equal(await countLines(/authenticated → logging-in/), 1);
  assert.equal(await page.textContent('#state'), 'authenticated');
  await finish('b-revoke');
  // The README's picture: this run, at a fixed 1280 × 900 viewport (PNG: width and height at bytes 16..23).
  const png = process.env.UPDATE_SCREENSHOTS === '1' ? join(ROOT, 'docs', 'playground.png') : join(ROOT, 'tests', 'artifacts', 'readme-playground.png');
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: png });
  const head = readFileSync(png);
  assert.deepEqual([head.readUInt32BE(16), head.readUInt32BE(20)], [DESKTOP.width, DESKTOP.height]);
});

/** Picks the simulated platform and urlMode, runs jssdk.config() and returns the badge. */
async function configure(platform, urlMode) {
  await page.selectOption('#platform', platform);
  await page.selectOption('#url-mode', urlMode);
  const signed = await page.textContent('#signed-url');
  await page.click('#config');
  await page.waitForFunction(() => document.getElementById('jssdk-status').dataset.state !== 'pending', null, { timeout: 20000 });
  return { state: await page.getAttribute('#jssdk-status', 'data-state'), text: await page.textContent('#jssdk-status'), signed };
}

test("(c) after an SPA route change, urlMode 'landing' on iOS and 'current' on Android keep wx.config valid; the wrong one fails", T, async () => {
  await open('?from=share');
  const landing = pg.url + '?from=share';
  await page.click('#navigate');
  assert.equal(await page.textContent('#current-url'), pg.url + 'spa/orders/1?tab=open');

  const iosOk = await configure('ios', 'landing');
  assert.deepEqual([iosOk.state, iosOk.signed], ['ready', landing]);
  const iosWrong = await configure('ios', 'current');
  assert.equal(iosWrong.state, 'error');
  assert.match(iosWrong.text, /^JSSDK_CONFIG: config:invalid signature$/);

  await page.click('#navigate');
  const androidOk = await configure('android', 'current');
  assert.deepEqual([androidOk.state, androidOk.signed], ['ready', pg.url + 'spa/orders/2?tab=done']);
  const androidWrong = await configure('android', 'landing');
  assert.equal(androidWrong.state, 'error');
  assert.match(androidWrong.text, /JSSDK_CONFIG/);

  const s = await server();
  // Each wrong mode: the signature fails, is fetched again with force=1 and fails again.
  assert.deepEqual([s.counts.verifyOk, s.counts.verifyFailed], [2, 4], JSON.stringify(s.counts));
  assert.deepEqual([s.wechat.token, s.wechat.ticket], [1, 1], 'one access_token and one jsapi_ticket for every signature');
  assert.equal(await countLines(/rejected JSSDK_CONFIG: config:invalid signature/), 2);
  await finish('c-jssdk');
});

test('(d) OAuth: a round trip through the authorize page signs in with one exchange', T, async () => {
  await open();
  await page.click('#oauth');
  await page.waitForSelector('#allow');
  await page.screenshot({ path: join(ARTIFACTS, 'playground-d-authorize.png') });
  await page.click('#allow');
  await ready();
  assert.equal(await page.getAttribute('#oauth-status', 'data-state'), 'ok');
  assert.equal(await page.textContent('#oauth-status'), 'signed in as o-playground-user');
  assert.equal(page.url(), pg.url + '?from=oauth', 'code and state leave the address bar');
  const s = await server();
  assert.deepEqual([s.counts.oauthExchanges, s.wechat.oauthAccessToken], [1, 1]);
  await finish('d-oauth');
});

test('(d) OAuth: a link with a forged state is refused with OAUTH_STATE and nothing is exchanged', T, async () => {
  await open();
  await Promise.all([
    page.waitForURL((u) => u.searchParams.has('code'), { waitUntil: 'commit' }),
    page.click('#forged'),
  ]);
  await ready();
  assert.equal(await page.getAttribute('#oauth-status', 'data-state'), 'error');
  assert.equal(await page.textContent('#oauth-status'), 'OAUTH_STATE');
  assert.equal(await countLines(/handleRedirect\(\) rejected OAUTH_STATE/), 1);
  const s = await server();
  assert.deepEqual([s.counts.oauthExchanges, s.wechat.oauthAccessToken], [0, 0]);
  await finish('d-forged');
});

test('a failing login rejects the burst with EXCHANGE_FAILED and the next burst recovers; an expired token means one re-login', T, async () => {
  await open();
  await page.click('#fail-login');
  await page.waitForFunction(() => /will answer 503/.test(document.getElementById('timeline').textContent));
  const failed = await burst(20);
  assert.deepEqual([failed.ok, failed.failed, failed.logins], [0, 20, 1], JSON.stringify(failed));
  assert.match(failed.text, /20 × EXCHANGE_FAILED/);
  const recovered = await burst(20);
  assert.deepEqual([recovered.ok, recovered.logins], [20, 1]);
  await page.click('#expire');
  await page.waitForFunction(() => /expired on the server/.test(document.getElementById('timeline').textContent));
  const renewed = await burst(20);
  assert.deepEqual([renewed.ok, renewed.logins, renewed.unauthorized], [20, 1, 20], JSON.stringify(renewed));
  const s = await server();
  assert.deepEqual([s.counts.logins, s.counts.loginsFailed, s.wechat.code2Session], [3, 1, 2]);
  await finish('e-failures');
});

test('the simulated authorize page is one column and its buttons stay inside the card, on a desktop and a phone', T, async () => {
  await open();
  await page.click('#oauth');
  await page.waitForSelector('#allow');
  await page.waitForLoadState('load'); // its stylesheet applied, not just the buttons parsed
  for (const viewport of [DESKTOP, PHONE]) {
    await page.setViewportSize(viewport);
    const card = await box('.authorize');
    const blocks = await page.$$eval('.authorize > *', (els) => els.map((el) => el.getBoundingClientRect().toJSON()));
    assert.ok(blocks.length >= 4, 'title, two paragraphs and the buttons');
    // One column: every block starts at the same x and spans the card's content width.
    for (const b of blocks) {
      assert.ok(Math.abs(b.x - blocks[0].x) < 1 && Math.abs(b.width - blocks[0].width) < 1, JSON.stringify({ b, first: blocks[0] }));
      assert.ok(b.width > card.width * 0.75, `a block is ${b.width} px wide in a ${card.width} px card`);
    }
    for (let i = 1; i < blocks.length; i++) assert.ok(blocks[i].y >= blocks[i - 1].y + blocks[i - 1].height - 1, 'blocks stack, top to bottom');
    for (const id of ['#allow', '#cancel']) assert.ok(inside(await box(id), card), `${id} inside the card at ${viewport.width} px`);
    assert.ok(card.x >= 0 && card.x + card.width <= viewport.width, 'the card fits the screen');
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth), 'no sideways scrolling');
  }
  await page.screenshot({ path: join(ARTIFACTS, 'playground-authorize-phone.png') });
  await page.click('#allow');
  await ready();
  assert.equal(await page.getAttribute('#oauth-status', 'data-state'), 'ok');
  await finish('authorize-layout');
});

test('"Fail the next login" shows it is armed, says how to trigger it on a logged-in page, and shows it disarmed once it fired', T, async () => {
  await open();
  await burst(5);
  const status = () => page.evaluate(() => {
    const el = document.getElementById('fail-status');
    return { shown: !el.hidden, state: el.dataset.state, text: el.textContent, pressed: document.getElementById('fail-login').getAttribute('aria-pressed') };
  });
  assert.equal((await status()).shown, false, 'nothing to say before it is armed');
  await page.click('#fail-login');
  await page.waitForFunction(() => document.getElementById('fail-login').getAttribute('aria-pressed') === 'true');
  let s = await status();
  assert.deepEqual([s.shown, s.state, s.pressed], [true, 'armed', 'true']);
  assert.match(s.text, /You are logged in, so nothing logs in yet: log out or revoke to trigger it/);
  assert.equal((await server()).failNextLogin, true);

  await page.click('#fail-login'); // a second click disarms
  await page.waitForFunction(() => document.getElementById('fail-login').getAttribute('aria-pressed') === 'false');
  assert.equal((await server()).failNextLogin, false);
  await page.click('#fail-login');
  await page.waitForFunction(() => document.getElementById('fail-login').getAttribute('aria-pressed') === 'true');

  await page.click('#logout');
  await page.waitForFunction(() => /Fire a burst to trigger it/.test(document.getElementById('fail-status').textContent));
  const failed = await burst(5);
  assert.equal(failed.failed, 5);
  s = await status();
  assert.deepEqual([s.shown, s.state, s.pressed], [true, 'fired', 'false']);
  assert.match(s.text, /the login answered 503 .*Disarmed/);
  assert.equal((await server()).failNextLogin, false);
  assert.equal(await countLines(/armed login failure fired \(POST \/auth\/login → 503\); disarmed/), 1);
  await page.waitForTimeout(2200); // a counters poll must not re-arm it
  assert.equal((await status()).pressed, 'false');
  await finish('fail-armed');
});

test('a burst whose login fails draws its rejections: a count, a rejected line reaching every request, a "login failed" marker', T, async () => {
  await open();
  await control('dev/fail-next-login', { armed: true });
  const shown = await burst(20);
  assert.deepEqual([shown.ok, shown.failed, shown.loginFailures, shown.tokens], [0, 20, 1, 0], JSON.stringify(shown));
  const legend = await page.$$eval('#chart-legend li', (lis) => Object.fromEntries(lis.map((li) => [li.dataset.key, [Number(li.dataset.count), li.textContent]])));
  assert.deepEqual(legend.rejected, [20, 'rejected: 20 (20 × EXCHANGE_FAILED)']);
  assert.equal(legend.ok[0], 0);
  assert.match(legend.token[1], /no token: the login failed/);
  assert.equal(await page.locator('#chart line.login-failed').count(), 1);
  assert.match(await page.textContent('#chart text.login-failed'), /login failed \(HTTP 503\)/);
  // The rejected line climbs from the x axis to the top gridline (20 of 20).
  const [line, grid] = await Promise.all([box('#chart path.rejected'), page.$$eval('#chart line.grid', (ls) => ls.map((l) => l.getBoundingClientRect().y))]);
  assert.ok(line && line.height >= Math.max(...grid) - Math.min(...grid) - 2, JSON.stringify({ line, grid }));
  await finish('rejections');
});

test('"token ready" is marked apart from wx.login, and wx.login does not queue behind a slow burst (it is served from WeChat\'s side, another origin)', T, async () => {
  await open();
  await burst(10);
  await page.$eval('#latency', (el) => { el.value = '100'; el.dispatchEvent(new Event('input')); el.dispatchEvent(new Event('change')); });
  await page.waitForFunction(() => /latency 100 ms/.test(document.getElementById('timeline').textContent));
  await page.click('#revoke');
  await page.waitForFunction(() => /server revoked every app token/.test(document.getElementById('timeline').textContent));
  const shown = await burst(100);
  assert.deepEqual([shown.ok, shown.logins, shown.tokens, shown.unauthorized], [100, 1, 1, 100], JSON.stringify(shown));
  // 100 requests at 100 ms over six connections take ~1.7 s; a wx.login in that queue took ~1.5 s.
  assert.ok(shown.codeMs < 750, `wx.login took ${shown.codeMs} ms`);
  const x = (sel) => page.$eval(sel, (l) => Number(l.getAttribute('x1')));
  assert.ok(await x('#chart line.token') > await x('#chart line.login'), 'the token arrives after wx.login starts');
  assert.match(await page.textContent('#chart text.token'), /^token ready \d+ ms$/);
  assert.match(await page.textContent('#chart-note'), /wx\.login took \d+ ms; the exchange \(POST \/auth\/login\) took \d+ ms: it waited for a free connection/);
  await finish('token-ready');
});

test('a failed wx.config says which URL WeChat checked and which one was signed', T, async () => {
  await open('?from=share');
  await page.click('#navigate');
  await page.selectOption('#platform', 'ios');
  await page.selectOption('#url-mode', 'current');
  assert.equal(await page.getAttribute('#signed-url', 'class'), 'mismatch', 'the mismatch shows before trying');
  assert.equal(await page.textContent('#checked-url'), pg.url + '?from=share');
  const { state } = await configure('ios', 'current');
  assert.equal(state, 'error');
  const where = `WeChat (iOS) checked ${pg.url}?from=share (the landing URL); the signature was made for ${pg.url}spa/orders/1?tab=open`;
  assert.equal(await page.textContent('#jssdk-error'), 'JSSDK_CONFIG: config:invalid signature · ' + where);
  assert.ok(await page.isVisible('#jssdk-error'));
  assert.equal(await countLines(new RegExp('rejected JSSDK_CONFIG: config:invalid signature · ' + where.replace(/[.?()]/g, '\\$&'))), 1);
  assert.equal(await countLines(/WeChat checks the signature against .*\?from=share: config:invalid signature/), 2, 'both tries, with the URL checked');
  await finish('jssdk-urls');
});

test('on a phone (390 × 844) the chart is near the top and its labels are readable', T, async () => {
  await newPage(PHONE);
  await open();
  const top = (sel) => page.$eval(sel, (el) => el.getBoundingClientRect().top + scrollY);
  assert.ok(await top('#try-first') < 150, 'what to try first comes first');
  assert.ok(await page.locator('#burst').isVisible() && await top('#burst') < 450);
  assert.ok(await top('#chart') < 700, `the chart starts ${await top('#chart')} px down`);
  await burst(100);
  const sizes = await page.$$eval('#chart text, #chart-legend li', (els) => els.map((el) => {
    const svg = el.closest('svg');
    const scale = svg ? svg.getBoundingClientRect().width / svg.viewBox.baseVal.width : 1;
    return { text: el.textContent, px: parseFloat(getComputedStyle(el).fontSize) * scale };
  }));
  assert.ok(sizes.length > 8);
  for (const s of sizes) assert.ok(s.px >= 10, `"${s.text}" renders at ${s.px.toFixed(1)} px`);
  const chart = await box('#chart');
  for (const t of await page.$$eval('#chart text', (els) => els.map((el) => el.getBoundingClientRect().toJSON()))) assert.ok(inside(t, chart), 'labels stay inside the chart');
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth), 'no sideways scrolling');
  await page.screenshot({ path: join(ARTIFACTS, 'playground-phone.png') });
  await finish('phone');
});

test('the page says what to try first, and the latency slider logs one line per settled change', T, async () => {
  await open();
  const intro = await page.textContent('#try-first');
  assert.match(intro, /Try this first/);
  assert.match(intro, /Fire burst.*Revoke all tokens/s);
  assert.ok((await box('#try-first')).y < 120, 'above the fold');
  // Five key presses, five change events: one line, once the slider settles.
  await page.focus('#latency');
  for (let i = 0; i < 5; i++) await page.keyboard.press('ArrowRight');
  await page.waitForFunction(() => /latency 250 ms/.test(document.getElementById('timeline').textContent));
  await page.waitForTimeout(600);
  assert.equal(await countLines(/latency \d+ ms/), 1);
  assert.equal((await server()).latency, 250);
  // A drag: one change on release, one line.
  const slider = await box('#latency');
  await page.mouse.move(slider.x + 4, slider.y + slider.height / 2);
  await page.mouse.down();
  for (const f of [0.2, 0.4, 0.6]) await page.mouse.move(slider.x + slider.width * f, slider.y + slider.height / 2, { steps: 3 });
  await page.mouse.up();
  const value = Number(await page.inputValue('#latency'));
  assert.notEqual(value, 250);
  await page.waitForFunction((v) => new RegExp(`latency ${v} ms`).test(document.getElementById('timeline').textContent), value);
  await page.waitForTimeout(600);
  assert.equal(await countLines(/latency \d+ ms/), 2);
  assert.equal(await countLines(/POST \/dev\/latency/), 2, 'the call is on the same line, not a second one');
  assert.equal((await server()).latency, value);
  await finish('try-first-latency');
});

test('the server panel: live sessions per user, revoking one user ends only theirs, a decrypt round trip and a foreign watermark', T, async () => {
  await open();
  await burst(5);
  const users = async () => Object.fromEntries((await (await fetch(pg.url + 'dev/sessions')).json()).users.map((u) => [u.openid, u.live]));
  const shown = (openid) => page.evaluate((id) => { const td = document.querySelector(`#sessions-table tr[data-openid="${id}"] [data-live]`); return td ? Number(td.textContent) : null; }, openid);
  const mine = (await users())['o-playground-user'];
  assert.ok(mine >= 1);
  await page.waitForFunction((n) => document.querySelector('#sessions-table tr[data-openid="o-playground-user"] [data-live]')?.textContent === String(n), mine);
  await page.click('#other-user');
  await page.click('#other-user');
  await page.waitForFunction(() => document.querySelectorAll('#sessions-table tr[data-openid^="o-other-user-"]').length >= 2);
  const others = Object.keys(await users()).filter((u) => u.startsWith('o-other-user-')).slice(-2);
  for (const o of others) assert.equal(await shown(o), 1, o);

  await page.click(`#sessions-table button[data-revoke="${others[0]}"]`);
  await page.waitForFunction((id) => document.querySelector(`#sessions-table tr[data-openid="${id}"] [data-live]`)?.textContent === '0', others[0]);
  const after = await users();
  assert.deepEqual([after[others[0]], after[others[1]], after['o-playground-user']], [0, 1, mine], 'one user revoked, the others untouched');
  assert.equal(await countLines(new RegExp(`sessions\\.revokeUser\\('${others[0]}'\\)`)), 1);
  const untouched = await burst(5);
  assert.deepEqual([untouched.ok, untouched.logins, untouched.unauthorized], [5, 0, 0], 'this page\'s session is not theirs');

  const before = (await server()).counts;
  await page.click('#decrypt');
  await page.waitForSelector('#decrypt-out[data-state="ok"]');
  assert.match(await page.textContent('#decrypt-out'), /^\{"stepInfoList":\[\{"timestamp":\d+,"step":4321\}\]\}\nwatermark\.appid wx_playground_app: this app ✓$/);
  await page.check('#foreign');
  await page.click('#decrypt');
  await page.waitForSelector('#decrypt-out[data-state="error"]');
  assert.equal(await page.textContent('#decrypt-out'), 'DECRYPT_FAILED (HTTP 400): the watermark names another app');
  const c = (await server()).counts;
  assert.deepEqual([c.decryptOk - before.decryptOk, c.decryptFailed - before.decryptFailed], [1, 1]);
  assert.equal(await countLines(/WeChat's side → encryptedData/), 2);
  assert.equal(await countLines(/rejected DECRYPT_FAILED \(HTTP 400\): the watermark names another app/), 1);

  await page.click('#sessions-table button[data-revoke="o-playground-user"]');
  await page.waitForFunction(() => document.querySelector('#sessions-table tr[data-openid="o-playground-user"] [data-live]')?.textContent === '0');
  const relogin = await burst(5);
  assert.deepEqual([relogin.ok, relogin.logins, relogin.unauthorized], [5, 1, 5], 'revoking this page\'s user: 401s and one re-login');
  await finish('server-panel');

  // Usable at 390 px: the panel fits, its buttons inside it, no sideways scrolling.
  await newPage(PHONE);
  await open();
  const panelBox = await box('#sessions-box');
  assert.ok(panelBox.x >= 0 && panelBox.x + panelBox.width <= PHONE.width, JSON.stringify(panelBox));
  for (const sel of ['#other-user', '#decrypt', '#foreign', '#sessions-table button[data-revoke="o-playground-user"]']) assert.ok(inside(await box(sel), panelBox), `${sel} inside the panel`);
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth), 'no sideways scrolling');
  await page.click('#decrypt');
  await page.waitForSelector('#decrypt-out[data-state="ok"]');
  assert.ok(inside(await box('#decrypt-out'), await box('#sessions-box')), 'the result stays inside the panel');
  await page.locator('#sessions-box').screenshot({ path: join(ARTIFACTS, 'playground-server-panel-phone.png') });
  await finish('server-panel-phone');
});

test('`node scripts/playground.mjs` prints its URL and stops cleanly on SIGINT (exit 0, run directory removed)', T, async () => {
  const child = spawn(process.execPath, [join(ROOT, 'scripts', 'playground.mjs')], { env: { ...process.env, PORT: '0', REDIS_URL: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const deadline = Date.now() + 10000;
  while (!/Ctrl-C stops it/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const url = (out.match(/playground: (http:\/\/127\.0\.0\.1:\d+\/)/) || [])[1];
  const runDir = (out.match(/FileStore (\S+)wechat-info\.json/) || [])[1];
  assert.ok(url && runDir, out);
  assert.equal((await fetch(url)).status, 200);
  assert.ok(existsSync(runDir));
  child.kill('SIGINT');
  assert.deepEqual(await exited, { code: 0, signal: null }, out);
  assert.match(out, /playground: stopped/);
  assert.equal(existsSync(runDir), false, 'the run directory is removed');
  await assert.rejects(fetch(url), 'the server is closed');
});
