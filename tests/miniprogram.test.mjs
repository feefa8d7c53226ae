// The built package (pkg/miniprogram_dist) in a strict mini-program sandbox,
// against a real HTTP app backend: one test per rule of the session contract.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { miniProgramWorld, settleAll } from './support/harness.mjs';

async function withWorld(opts, body) {
  const world = await miniProgramWorld(opts);
  try { await body(world); } finally { await world.close(); }
}

test('the sandbox is as bare as a device', () => withWorld({}, async ({ sandbox }) => {
  for (const name of ['WebAssembly', 'TextEncoder', 'TextDecoder', 'crypto', 'fetch', 'URL', 'FinalizationRegistry', 'BigInt', 'process', 'require']) {
    assert.equal(sandbox.evaluate(`typeof ${name}`), 'undefined', name);
  }
  assert.equal(sandbox.evaluate('typeof wx.getStorageSync("missing")'), 'string');
}));

test('1. a cold burst shares one wx.login and one exchange, and every request carries the token', () => withWorld({ latency: 5, backendLatency: 5 }, async ({ createSession, wx, backend }) => {
  const session = await createSession();
  const states = [];
  session.onChange((s) => states.push(s));
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) => session.request({ url: '/api/orders', data: { i } })));
  assert.equal(wx.calls.login, 1);
  assert.equal(backend.state.counts.exchange, 1);
  assert.equal(backend.state.counts.unauthorized, 0);
  assert.ok(results.every((r, i) => r.ok && r.query.i === String(i)));
  assert.deepEqual(states, ['logging-in', 'authenticated']);
  assert.equal(session.state, 'authenticated');
}));

test('2. a failing wx.login rejects every waiter with LOGIN_FAILED; the next call logs in afresh', () => withWorld({}, async ({ createSession, wx, backend }) => {
  const session = await createSession();
  wx.knobs.failLogins = 1;
  const settled = await settleAll([1, 2, 3].map(() => session.request({ url: '/api/a' })));
  assert.ok(settled.every((s) => !s.ok && s.error.code === 'LOGIN_FAILED' && s.error.name === 'WxSessionError'), JSON.stringify(settled));
  assert.match(settled[0].error.message, /login:fail/);
  assert.equal(backend.state.counts.exchange, 0);
  assert.equal(session.state, 'anonymous');
  assert.deepEqual(await session.request({ url: '/api/a' }).then((r) => r.ok), true);
  assert.equal(wx.calls.login, 2);
}));

test('2. a failing exchange rejects every waiter with EXCHANGE_FAILED and .status', () => withWorld({}, async ({ createSession, backend }) => {
  const session = await createSession();
  backend.state.failNextLogins = 1;
  const settled = await settleAll([1, 2].map(() => session.request({ url: '/api/a' })));
  for (const s of settled) {
    assert.equal(s.error.code, 'EXCHANGE_FAILED');
    assert.equal(s.error.status, 503);
  }
  assert.ok((await session.request({ url: '/api/a' })).ok);
}));

test('2. an exchange body without a token is EXCHANGE_FAILED', () => withWorld({}, async ({ createSession }) => {
  const session = await createSession({ loginUrl: undefined, exchange: async () => ({ nope: true }) });
  await assert.rejects(session.request({ url: '/api/a' }), (e) => e.code === 'EXCHANGE_FAILED' && /no token/.test(e.message));
}));

test('2. nothing hangs: a wx.login that never calls back times out', () => withWorld({}, async ({ createSession, wx }) => {
  const session = await createSession({ timeout: 200 });
  wx.knobs.hangLogin = true;
  const t0 = Date.now();
  const settled = await settleAll([session.request({ url: '/api/a' }), session.login()]);
  assert.ok(settled.every((s) => s.error && s.error.code === 'TIMEOUT'));
  assert.ok(Date.now() - t0 < 2000);
  wx.knobs.hangLogin = false;
  assert.ok((await session.request({ url: '/api/a' })).ok);
}));

test('2. a request that never answers times out with TIMEOUT', () => withWorld({}, async ({ createSession, wx }) => {
  const session = await createSession();
  await session.login();
  wx.knobs.hangRequests = true;
  await assert.rejects(session.request({ url: '/api/a', timeout: 100 }), (e) => e.code === 'TIMEOUT');
}));

test('3. warm start: a valid stored token means no wx.login and no exchange after a restart', () => withWorld({}, async (world) => {
  await (await world.createSession({ checkSession: 'never' })).request({ url: '/api/a' });
  world.restart();
  const session = await world.createSession({ checkSession: 'never' });
  assert.equal(session.state, 'authenticated');
  assert.ok((await session.request({ url: '/api/b' })).ok);
  assert.equal(world.wx.calls.login, 1);
  assert.equal(world.backend.state.counts.exchange, 1);
}));

test('4. a token past expiresIn (minus the margin) is renewed before use, not after a 401', () => withWorld({ expiresIn: 1 }, async ({ createSession, backend, wx }) => {
  const session = await createSession({ checkSession: 'never', expiryMargin: 0 });
  await session.request({ url: '/api/a' });
  await new Promise((r) => setTimeout(r, 1100));
  assert.ok((await session.request({ url: '/api/b' })).ok);
  assert.equal(wx.calls.login, 2);
  assert.equal(backend.state.counts.unauthorized, 0);
}));

test('5. a server revoke: one shared re-login, every request replayed once and succeeding', () => withWorld({ backendLatency: 5 }, async ({ createSession, backend, wx }) => {
  const session = await createSession();
  await session.login();
  backend.revokeAll();
  const results = await Promise.all(Array.from({ length: 20 }, () => session.request({ url: '/api/x' })));
  assert.ok(results.every((r) => r.ok));
  assert.equal(wx.calls.login, 2);
  assert.equal(backend.state.counts.exchange, 2);
}));

test('5. still rejected after the re-login: UNAUTHORIZED, never a loop', () => withWorld({}, async ({ createSession, backend, wx }) => {
  const session = await createSession({ checkSession: 'never', exchange: async () => ({ token: 'forged-' + Math.floor(Date.now()) }) , loginUrl: undefined });
  const settled = await settleAll([1, 2, 3].map(() => session.request({ url: '/api/x' })));
  assert.ok(settled.every((s) => s.error.code === 'UNAUTHORIZED' && s.error.status === 401), JSON.stringify(settled));
  // One login, one shared re-login; each request sent twice.
  assert.equal(wx.calls.login, 2);
  assert.equal(backend.state.counts.api, 6);
}));

test('6. wx.checkSession runs once per lifecycle by default; a failure forces a re-login', () => withWorld({}, async (world) => {
  await (await world.createSession()).login();
  world.restart();
  const session = await world.createSession();
  await Promise.all([1, 2, 3].map(() => session.request({ url: '/api/a' })));
  await session.request({ url: '/api/a' });
  assert.equal(world.wx.calls.checkSession, 1);
  assert.equal(world.wx.calls.login, 1);
  world.restart();
  world.accounts.sessionValid = false;
  const again = await world.createSession();
  assert.ok((await again.request({ url: '/api/a' })).ok);
  assert.equal(world.wx.calls.checkSession, 2);
  assert.equal(world.wx.calls.login, 2);
}));

test("6. checkSession 'always' checks before every request, 'never' never does", () => withWorld({}, async (world) => {
  const always = await world.createSession({ checkSession: 'always' });
  await always.login();
  for (let i = 0; i < 3; i++) await always.request({ url: '/api/a' });
  assert.equal(world.wx.calls.checkSession, 3);
  world.restart();
  const never = await world.createSession({ checkSession: 'never' });
  await never.request({ url: '/api/a' });
  assert.equal(world.wx.calls.checkSession, 3);
}));

/** What wx storage holds for the session: the storage record and the token record in it. */
function storedSession(wx) {
  const record = wx.getStorageSync('wxsession');
  return { record, token: JSON.parse(record.value) };
}

test('7. a corrupted, foreign or old-format stored value means anonymous and is overwritten', () => withWorld({}, async (world) => {
  const oldFormat = JSON.stringify({ v: 1, token: 'from-the-previous-version', issuedAt: Date.now(), expiresAt: null });
  for (const junk of ['{not json', { token: 'an object someone else stored' }, { value: '{"v":1,"token":"x"}', expiresAt: null }, 42, oldFormat]) {
    world.wx.setStorageSync('wxsession', junk);
    world.restart();
    const session = await world.createSession();
    assert.equal(session.state, 'anonymous', JSON.stringify(junk));
    await session.request({ url: '/api/a' });
    const { token } = storedSession(world.wx);
    assert.equal(token.v, 1);
    assert.equal(typeof token.token, 'string');
  }
}));

test('7. a failing storage write keeps the token in memory and does not fail the request', () => withWorld({ quotaBytes: 10 }, async ({ createSession, wx }) => {
  const session = await createSession();
  assert.ok((await session.request({ url: '/api/a' })).ok);
  assert.ok((await session.request({ url: '/api/b' })).ok);
  assert.equal(wx.getStorageSync('wxsession'), '');
  assert.equal(wx.calls.login, 1);
}));

test('7. only the token and its expiry are stored (the Token Store backends\' record), never a session_key', () => withWorld({}, async ({ createSession, wx }) => {
  await (await createSession()).login();
  const { record, token } = storedSession(wx);
  assert.deepEqual(Object.keys(record).sort(), ['expiresAt', 'value']);
  assert.deepEqual(Object.keys(token).sort(), ['expiresAt', 'issuedAt', 'token', 'v']);
  // The storage record expires with the token (whole seconds, rounded up).
  assert.ok(record.expiresAt >= token.expiresAt && record.expiresAt - token.expiresAt < 1000, JSON.stringify(record));
  assert.deepEqual([...wx.storage.keys()], ['wxsession']);
}));

test('8. logout clears memory and storage; the next request logs in again', () => withWorld({}, async ({ createSession, wx }) => {
  const session = await createSession();
  await session.request({ url: '/api/a' });
  await session.logout();
  assert.equal(session.state, 'anonymous');
  assert.equal(wx.getStorageSync('wxsession'), '');
  await session.request({ url: '/api/a' });
  assert.equal(wx.calls.login, 2);
}));

test('login({ force: true }) replaces a valid token', () => withWorld({}, async ({ createSession, wx }) => {
  const session = await createSession();
  await session.login();
  const before = storedSession(wx).token.token;
  await session.login({ force: true });
  assert.notEqual(storedSession(wx).token.token, before);
  assert.equal(wx.calls.login, 2);
}));

test('exchangeBody adds fields to the exchange (the deprecated getUserInfo step, as a hook)', () => withWorld({}, async ({ createSession, backend }) => {
  const session = await createSession({ exchangeBody: async () => ({ scene: 1001 }) });
  await session.login();
  const [record] = backend.state.tokens.values();
  assert.equal(record.extra.scene, 1001);
  assert.equal(typeof record.extra.code, 'string');
}));

test('other statuses reject with HTTP_ERROR carrying .status and .data', () => withWorld({}, async ({ createSession }) => {
  const session = await createSession();
  await assert.rejects(session.request({ url: '/api/fail' }), (e) => e.code === 'HTTP_ERROR' && e.status === 500 && e.data.error === 'boom');
  await assert.rejects(session.request({ url: '/nowhere' }), (e) => e.code === 'HTTP_ERROR' && e.status === 404);
}));

test('an unreachable server is NETWORK', () => withWorld({}, async ({ createSession }) => {
  const session = await createSession({ tokenOrigins: ['http://127.0.0.1:9'] });
  await session.login();
  await assert.rejects(session.request({ url: 'http://127.0.0.1:9/api/a' }), (e) => e.code === 'NETWORK');
}));

test('bad options are BAD_CONFIG before anything is sent', () => withWorld({}, async ({ wxsession, wx }) => {
  for (const opts of [
    {}, { loginUrl: '/auth/login' }, { baseUrl: 'https://x.test', loginUrl: '/l', checkSession: 'often' },
    { baseUrl: 'https://x.test', loginUrl: '/l', maxRelogin: -1 }, { baseUrl: 'https://x.test', loginUrl: '/l', reloginOn: [200] },
    { baseUrl: 'https://x.test', loginUrl: '/l', tokenHeader: 'Bad Header' }, { baseUrl: 'https://x.test', loginUrl: '/l', timeout: 'soon' },
    { baseUrl: 'https://x.test', loginUrl: '/l', exchange: 'not a function' }, { baseUrl: 'https://x.test', loginUrl: '/l', tokenTypo: 1 },
  ]) {
    await assert.rejects(wxsession.createSession(opts), (e) => e.code === 'BAD_CONFIG', JSON.stringify(opts));
  }
  assert.equal(wx.calls.login, 0);
}));

test('init fails with INIT_FAILED for a wrong wasmPath, and can be retried', () => withWorld({}, async ({ wxsession, createSession }) => {
  await assert.rejects(wxsession.init({ wasmPath: '/nope/missing.wasm' }), (e) => e.code === 'INIT_FAILED');
  const session = await createSession();
  assert.ok((await session.request({ url: '/api/a' })).ok);
}));

test('randomness comes from wx.getRandomValues, seeded at init', () => withWorld({}, async ({ wxsession, createSession, wx }) => {
  await createSession();
  assert.equal(wx.calls.getRandomValues, 1);
  const a = wxsession.nonceStr(16);
  assert.match(a, /^[A-Za-z0-9]{16}$/);
  assert.notEqual(a, wxsession.nonceStr(16));
}));

test('a failed re-login after a 401 reports the login failure, not the 401', () => withWorld({}, async ({ createSession, backend }) => {
  const session = await createSession();
  await session.login();
  backend.revokeAll();
  backend.state.failNextLogins = 1;
  const err = await session.request({ url: '/api/a' }).then(() => null, (e) => e);
  assert.equal(err.code, 'EXCHANGE_FAILED');
  assert.equal(err.status, 503);
  assert.equal(err.message, 'login failed: code exchange answered HTTP 503');
}));

test('the entry exports only what a mini-program can use: no Token Store, no signatures (each needs a server\'s secret)', () => withWorld({}, async ({ wxsession }) => {
  assert.deepEqual(Object.keys(wxsession).sort(), ['DEFAULT_WASM_PATH', 'Session', 'createSession', 'init', 'nonceStr']);
}));
