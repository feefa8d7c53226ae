// The playground page: the package's web entry (pkg/web) in the browser
// against the playground's app backend and fake WeChat. Everything the
// session does shows up in the timeline (session.onChange and a tap on
// fetch); a burst is drawn as a chart of answers vs logins.
import * as wxsession from '/pkg/web/index.js';
import { createSimWx } from '/sim-wx.js';
import { drawBurst } from '/chart.js';
import { setupServerPanel } from '/server-panel.js';

const $ = (id) => document.getElementById(id);
const UA = {
  ios: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) MicroMessenger/8.0.44',
  android: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) MicroMessenger/8.0.44',
};
const TIMELINE_KEY = 'playground:timeline'; // survives the OAuth round trip
const MAX_LINES = 300;
const LATENCY_SETTLE_MS = 400; // arrow keys fire a change per press: one line once they stop
const short = (s, n = 8) => (typeof s === 'string' && s.length > n ? s.slice(0, n) + '…' : String(s));

// ---- timeline ---------------------------------------------------------------
const lines = JSON.parse(sessionStorage.getItem(TIMELINE_KEY) || '[]');
const clock = (at) => new Date(at).toTimeString().slice(0, 8) + '.' + String(at % 1000).padStart(3, '0');

function render(line) {
  const li = document.createElement('li');
  li.className = line.kind + (line.level ? ' ' + line.level : '');
  for (const [cls, text] of [['at', clock(line.at)], ['kind', line.kind], ['text', line.text]]) {
    const span = document.createElement('span');
    span.className = cls;
    span.textContent = text;
    li.append(span);
  }
  const ol = $('timeline');
  ol.append(li);
  while (ol.children.length > MAX_LINES) ol.firstChild.remove();
  ol.scrollTop = ol.scrollHeight;
}

function log(kind, text, level = '') {
  const line = { at: Date.now(), kind, text, level };
  lines.push(line);
  if (lines.length > MAX_LINES) lines.splice(0, lines.length - MAX_LINES);
  try { sessionStorage.setItem(TIMELINE_KEY, JSON.stringify(lines)); } catch { /* full: the page still shows it */ }
  render(line);
}

// ---- a tap on fetch: every call the library (and this page) makes ------------
const realFetch = window.fetch.bind(window);
let burst = null; // while a burst runs, its /api/ calls are counted, not listed
const since = (b) => performance.now() - b.t0;

function describe(url, status, body, sent) {
  const p = url.pathname;
  if (p === '/dev/code') return url.searchParams.get('kind') === 'oauth' ? `an OAuth code from the fake WeChat: ${short(body.code)}` : `wx.login (simulated) → code ${short(body.code)}`;
  if (p === '/auth/login') return status === 200 ? `exchange: sessions.loginHandler() → app token ${short(body.token)} (expires in ${body.expiresIn} s)` : `exchange refused: ${body.error || body.code || status}`;
  if (p === '/auth/oauth') return status === 200 ? `OAuth exchange → openid ${body.openid}` : `OAuth exchange refused: ${body.code || status}`;
  if (p === '/dev/encrypted') return status === 200 ? `WeChat's side → encryptedData (${body.encryptedData.length} chars) and iv ${short(body.iv)}` : body.error || '';
  if (p === '/api/decrypt') return status === 200 ? 'decrypted with the session_key kept on the server' : body.code || '';
  if (p === '/wechat/signature') return `signature for ${url.searchParams.get('url')}${url.searchParams.get('force') ? ' (force=1)' : ''}`;
  if (p === '/dev/jssdk/verify') return `WeChat checks the signature against ${sent.url}: ${body.ok ? 'valid' : body.errMsg}`;
  if (p.startsWith('/api/')) return status === 200 ? 'ok' : body.code || '';
  return '';
}

window.fetch = async (input, init = {}) => {
  const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url, location.href);
  const method = (init.method || 'GET').toUpperCase();
  const b = burst && url.pathname.startsWith('/api/') ? burst : null;
  const exchange = url.pathname === '/auth/login' ? burst : null;
  const t0 = performance.now();
  if (exchange) exchange.exchanges.push({ t: since(exchange), ms: null });
  let res;
  try {
    res = await realFetch(input, init);
  } catch (err) {
    if (exchange) exchange.exchanges[exchange.exchanges.length - 1].ms = performance.now() - t0;
    if (exchange) exchange.loginFailures.push({ t: since(exchange), why: 'network' });
    if (b) b.networkErrors++;
    else log('net', `${method} ${url.pathname} failed: ${err.message}`, 'bad');
    throw err;
  }
  if (exchange) exchange.exchanges[exchange.exchanges.length - 1].ms = performance.now() - t0;
  if (exchange && !res.ok) exchange.loginFailures.push({ t: since(exchange), why: 'HTTP ' + res.status });
  if (b) {
    b.api.push({ t: since(b), status: res.status });
    return res;
  }
  let body = {}, sent = {};
  try { body = JSON.parse(await res.clone().text()); } catch { /* not JSON (the .wasm, a page) */ }
  try { sent = JSON.parse(init.body); } catch { /* no JSON body */ }
  const what = describe(url, res.status, body, sent);
  const path = url.pathname.startsWith('/wechat/') ? url.pathname : url.pathname + url.search;
  const target = url.origin === location.origin ? path : url.host + path;
  log('net', `${method} ${target} → ${res.status} (${Math.round(performance.now() - t0)} ms)${what ? ' · ' + what : ''}`, res.ok ? '' : 'bad');
  if (url.pathname === '/auth/login' && res.status === 503 && failArmed) loginFailureFired();
  return res;
};

// ---- server state and controls ---------------------------------------------------
let failArmed = false, armSeq = 0;
let panel = null; // the server panel (server-panel.js), once the session exists

async function refreshCounters() {
  const seq = armSeq;
  const s = await (await realFetch('/dev/state')).json();
  const c = s.counts, w = s.wechat;
  const rows = [
    ['logins', 'logins (POST /auth/login)', c.logins], ['loginsFailed', '… refused', c.loginsFailed],
    ['api', 'API requests', c.api], ['unauthorized', '… answered 401', c.unauthorized],
    ['liveTokens', 'live sessions (sessions.list)', s.liveTokens], ['signatures', 'signature requests', c.signatures],
    ['verify', 'wx.config checks ok / failed', `${c.verifyOk} / ${c.verifyFailed}`],
    ['oauthExchanges', 'OAuth exchanges', c.oauthExchanges], ['code2Session', 'WeChat: jscode2session', w.code2Session],
    ['credentials', 'WeChat: token / ticket', `${w.token} / ${w.ticket}`], ['oauthAccessToken', 'WeChat: oauth2/access_token', w.oauthAccessToken],
  ];
  $('counters').innerHTML = rows.map(([key, label, v]) => `<tr><th>${label}</th><td data-counter="${key}">${v}</td></tr>`).join('');
  if (panel) panel.refresh().catch(() => {});
  // A state read before the armed failure fired must not re-arm the button.
  if (seq === armSeq && s.failNextLogin !== failArmed) showArmed(s.failNextLogin);
  return s;
}

/** One timeline line per control: what it did, and the call that did it. */
async function control(path, body, text, headers = {}) {
  const t0 = performance.now();
  let res;
  try {
    res = await realFetch(path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body || {}) });
  } catch (err) {
    log('control', `POST ${path} failed: ${err.message} (is the playground still running?)`, 'bad');
    return false;
  }
  const data = await res.json().catch(() => ({}));
  const call = `POST ${path} → ${res.status} (${Math.round(performance.now() - t0)} ms)`;
  log('control', res.ok ? `${text} · ${call}` : `${call}: ${data.error || 'refused'}`, res.ok ? '' : 'bad');
  refreshCounters().catch(() => {});
  return res.ok;
}

// "Fail the next login" waits for a login, and a logged-in page makes none
// until its token stops working: say so while it is armed.
function showArmed(armed, fired = false) {
  failArmed = armed;
  const button = $('fail-login'), status = $('fail-status');
  button.setAttribute('aria-pressed', String(armed));
  button.textContent = armed ? 'Fail the next login: armed' : 'Fail the next login';
  status.hidden = !armed && !fired;
  status.dataset.state = armed ? 'armed' : 'fired';
  if (armed) {
    const loggedIn = session && session.state === 'authenticated';
    status.textContent = 'Armed: the next POST /auth/login answers 503. ' + (loggedIn
      ? 'You are logged in, so nothing logs in yet: log out or revoke to trigger it.'
      : 'Fire a burst to trigger it.') + ' Click again to disarm.';
  } else if (fired) {
    status.textContent = `Fired at ${clock(Date.now())}: the login answered 503 and every waiting request rejected. Disarmed.`;
  }
}

function loginFailureFired() {
  armSeq++;
  showArmed(false, true);
  log('control', 'the armed login failure fired (POST /auth/login → 503); disarmed', 'bad');
}

// ---- the session --------------------------------------------------------------
function showState(state) {
  $('state').textContent = state;
  $('state').dataset.state = state;
}

// wx.login: a code from WeChat's side, a second origin (see the playground
// backend's handleWechatSide), so it never waits behind a burst's requests.
let wechatSide = null;
async function getCode() {
  const b = burst, mark = b && { t: since(b), codeAt: null };
  if (b) b.logins.push(mark);
  const res = await fetch(wechatSide + '/dev/code');
  if (!res.ok) throw new Error('wx.login failed: HTTP ' + res.status);
  if (mark) mark.codeAt = since(b);
  return (await res.json()).code;
}

function showSummary(b, after, before) {
  const n = b.n, ok = b.results.filter((r) => r.ok).length, failed = n - ok;
  const codes = {};
  for (const r of b.results) if (!r.ok) codes[r.code] = (codes[r.code] || 0) + 1;
  const s401 = b.api.filter((a) => a.status === 401).length;
  const summary = {
    requests: n, ok, failed, logins: b.logins.length, exchanges: b.exchanges.length, unauthorized: s401,
    serverLogins: after.counts.logins - before.counts.logins, ms: Math.round(b.ms),
    tokens: b.tokens.length, loginFailures: b.loginFailures.length,
    codeMs: b.logins.length ? Math.round(Math.max(...b.logins.map((l) => (l.codeAt ?? b.ms) - l.t))) : 0,
  };
  const el = $('burst-summary');
  Object.entries(summary).forEach(([k, v]) => { el.dataset[k] = v; });
  el.className = 'summary ' + (failed ? 'bad' : 'good');
  const why = Object.entries(codes).map(([c, k]) => `${k} × ${c}`).join(', ');
  el.innerHTML = `<b>${n}</b> requests → <b>${b.logins.length}</b> login${b.logins.length === 1 ? '' : 's'} · ` +
    `<b>${ok}</b> ok${failed ? `, <b>${failed}</b> failed (${why})` : ''}` +
    `${s401 ? ` · ${s401} × 401 ${failed ? 'then the re-login failed' : 'replayed after one shared re-login'}` : ''} · ${summary.ms} ms`;
  log('burst', `← ${ok}/${n} ok in ${summary.ms} ms; ${b.logins.length} wx.login, ${b.exchanges.length} exchange(s), ${s401} × 401` +
    (failed ? `; failed: ${JSON.stringify(codes)}` : ''), failed ? 'bad' : 'good');
  $('chart-note').textContent = loginNote(b);
}

// Where the time between "wx.login" and "token ready" went.
function loginNote(b) {
  const l = b.logins[0], ex = b.exchanges[0];
  if (!l) return '';
  const code = l.codeAt === null ? 'did not answer' : `took ${Math.round(l.codeAt - l.t)} ms`;
  if (!ex || ex.ms === null) return `wx.login ${code}; no exchange followed.`;
  // The exchange costs the backend's latency plus code2Session's at the fake WeChat.
  const queued = ex.ms > 2 * latencyCommitted + 150;
  return `wx.login ${code}; the exchange (POST /auth/login) took ${Math.round(ex.ms)} ms` + (queued
    ? ': it waited for a free connection behind the requests already sent (a browser opens at most 6 per host over HTTP/1.1).'
    : '.');
}

async function fireBurst() {
  const n = Math.min(Math.max(parseInt($('burst-size').value, 10) || 1, 1), 1000);
  $('burst').disabled = true;
  const before = await refreshCounters();
  const b = burst = { n, t0: performance.now(), api: [], results: [], logins: [], tokens: [], loginFailures: [], exchanges: [], networkErrors: 0 };
  log('burst', `${n} × session.request({ url: '/api/orders?i=…' }) at once`);
  await Promise.all(Array.from({ length: n }, (_, i) => session.request({ url: '/api/orders?i=' + i }).then(
    () => { b.results.push({ t: since(b), ok: true }); },
    (err) => { b.results.push({ t: since(b), ok: false, code: err.code || 'ERROR' }); })));
  b.ms = since(b);
  burst = null;
  showSummary(b, await refreshCounters(), before);
  lastBurst = b;
  drawBurst($('chart'), $('chart-legend'), b);
  $('burst').disabled = false;
}

// ---- start ----------------------------------------------------------------------
let session = null, lastBurst = { n: 100, ms: 1000, api: [], empty: true }; // axes until the first burst
let latencyCommitted = 0; // what the server was last told, for the login note
lines.forEach(render);
drawBurst($('chart'), $('chart-legend'), lastBurst);
new ResizeObserver(() => drawBurst($('chart'), $('chart-legend'), lastBurst)).observe($('chart'));
log('page', 'loaded ' + location.pathname + location.search);
await wxsession.init();
const info = await refreshCounters();
wechatSide = `${location.protocol}//${location.hostname}:${info.wechatSidePort}`;
$('latency').value = info.latency;
$('latency-out').textContent = info.latency + ' ms';
latencyCommitted = info.latency;
session = await wxsession.createSession({ baseUrl: location.origin, loginUrl: '/auth/login', getCode });
showState(session.state);
showArmed(info.failNextLogin);
log('session', `createSession() → ${session.state}${session.state === 'authenticated' ? ' (token from localStorage)' : ''}`);
let lastState = session.state;
session.onChange((state) => {
  if (burst && state === 'authenticated') burst.tokens.push(since(burst));
  log('session', `${lastState} → ${state}`, state === 'authenticated' ? 'good' : '');
  lastState = state;
  showState(state);
  if (failArmed) showArmed(true); // its advice depends on being logged in
});

$('burst').onclick = () => fireBurst().catch((err) => { burst = null; $('burst').disabled = false; log('burst', 'failed: ' + err.message, 'bad'); });
$('logout').onclick = async () => { await session.logout(); log('session', 'logout(): token dropped from memory and localStorage'); };

// The server's latency changes once the slider settles: dragging fires one
// change on release, but each arrow key press fires one.
let latencyTimer = null;
$('latency').oninput = () => { $('latency-out').textContent = $('latency').value + ' ms'; };
$('latency').onchange = () => {
  clearTimeout(latencyTimer);
  latencyTimer = setTimeout(() => {
    const ms = Number($('latency').value), before = latencyCommitted;
    if (ms === before) return;
    latencyCommitted = ms;
    control('/dev/latency', { ms }, `latency ${ms} ms (app backend and fake WeChat API)`).then((sent) => { if (!sent) latencyCommitted = before; });
  }, LATENCY_SETTLE_MS);
};
$('revoke').onclick = () => control('/dev/revoke', {}, 'server revoked every app token (sessions.revokeUser): the next requests get 401');
$('fail-login').onclick = async () => {
  const arm = !failArmed;
  armSeq++;
  if (await control('/dev/fail-next-login', { armed: arm }, arm ? 'the next POST /auth/login will answer 503' : 'fail-next-login disarmed')) showArmed(arm);
};
$('expire').onclick = async () => {
  // The session's localStorage record: { value: <token record JSON>, expiresAt }.
  const record = JSON.parse(localStorage.getItem('wxsession') || 'null');
  const stored = record && JSON.parse(record.value);
  if (!stored || !stored.token) return log('control', 'no token yet: fire a request first', 'bad');
  await control('/dev/expire', {}, `token ${short(stored.token)} expired on the server (sessions.revoke ends it now): the next request gets 401`, { authorization: 'Bearer ' + stored.token });
};
$('reset').onclick = () => control('/dev/reset', {}, 'server counters reset');
panel = setupServerPanel({ log, control, fetch: realFetch, short, session: () => session, wechatSide: () => wechatSide });
$('clear').onclick = () => { lines.length = 0; sessionStorage.removeItem(TIMELINE_KEY); $('timeline').innerHTML = ''; };

// ---- JS-SDK: wx.config after SPA route changes ------------------------------------
const simWx = createSimWx({ platform: () => $('platform').value });
const jssdk = () => new wxsession.JssdkClient({ signatureUrl: '/wechat/signature', wx: simWx, urlMode: $('url-mode').value, userAgent: UA[$('platform').value] });
const platformName = () => ($('platform').value === 'ios' ? 'iOS' : 'Android');
const checkedWhat = () => ($('platform').value === 'ios' ? 'the landing URL' : 'the current URL');
let routeNo = 0;

function showUrls() {
  const signed = jssdk().signedUrl(), checked = simWx.checkedUrl();
  $('landing-url').textContent = simWx.landingUrl;
  $('current-url').textContent = location.href.split('#')[0];
  $('signed-url').textContent = signed;
  $('checked-url').textContent = checked;
  $('signed-url').classList.toggle('mismatch', signed !== checked);
  $('platform-hint').textContent = `${platformName()} WeChat checks the signature against ${checkedWhat()}` +
    (signed === checked ? '.' : ': it differs from the signed one, so wx.config will fail.');
}

function setBadge(id, state, text) {
  $(id).dataset.state = state;
  $(id).textContent = text;
}

$('platform').onchange = $('url-mode').onchange = showUrls;
$('navigate').onclick = () => {
  routeNo++;
  history.pushState({ routeNo }, '', `/spa/orders/${routeNo}?tab=${routeNo % 2 ? 'open' : 'done'}`);
  log('route', 'history.pushState → ' + location.pathname + location.search);
  showUrls();
};
$('config').onclick = async () => {
  const client = jssdk(), signed = client.signedUrl();
  const platform = $('platform').value, mode = $('url-mode').value;
  setBadge('jssdk-status', 'pending', 'configuring…');
  $('jssdk-error').hidden = true;
  log('jssdk', `jssdk.config() on ${platform}, urlMode '${mode}' → signs ${signed}`);
  try {
    await client.config({ jsApiList: ['chooseImage', 'scanQRCode'] });
    setBadge('jssdk-status', 'ready', 'ready ✓');
    log('jssdk', 'wx.ready: the signature is valid for this page', 'good');
  } catch (err) {
    const checked = simWx.lastCheckedUrl;
    // WeChat's errMsg names no URL; the two that differed are what to fix.
    const where = checked && checked !== signed
      ? ` · WeChat (${platformName()}) checked ${checked} (${checkedWhat()}); the signature was made for ${signed}` : '';
    setBadge('jssdk-status', 'error', `${err.code}: ${err.errMsg || err.message}`);
    $('jssdk-error').textContent = `${err.code}: ${err.errMsg || err.message}${where}`;
    $('jssdk-error').hidden = false;
    log('jssdk', `rejected ${err.code}: ${err.errMsg || err.message}${where}`, 'bad');
  }
  refreshCounters();
};
showUrls();

// ---- OAuth round trip -----------------------------------------------------------------
const oauth = new wxsession.OAuthClient({
  appId: info.appId, redirectUri: location.origin + '/?from=oauth', exchangeUrl: '/auth/oauth',
  authorizeBase: location.origin + '/connect/oauth2/authorize',
});
$('oauth').onclick = () => {
  const to = oauth.authorizeUrl();
  log('oauth', `authorizeUrl(): state ${new URL(to).searchParams.get('state')} kept in sessionStorage → WeChat's authorize page`);
  location.href = to;
};
$('forged').onclick = async () => {
  const { code } = await (await fetch(wechatSide + '/dev/code?kind=oauth')).json();
  log('oauth', 'following a link someone else made: a genuine code, a state this tab never sent');
  location.href = `/?from=oauth&code=${encodeURIComponent(code)}&state=${wxsession.nonceStr(16)}`;
};
try {
  const result = await oauth.handleRedirect();
  if (result) {
    setBadge('oauth-status', 'ok', 'signed in as ' + result.openid);
    log('oauth', `handleRedirect() → signed in as ${result.openid}`, 'good');
  }
} catch (err) {
  setBadge('oauth-status', 'error', err.code);
  log('oauth', `handleRedirect() rejected ${err.code}: ${err.message}`, 'bad');
}
showUrls(); // handleRedirect cleaned code and state from the address bar
refreshCounters();
setInterval(() => { refreshCounters().catch(() => {}); }, 2000);
document.body.dataset.ready = '1';
