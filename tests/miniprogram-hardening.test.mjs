// The built mini-program entry in the strict sandbox, tried as a hostile or
// careless caller would: where the token may go, a wx.getRandomValues that
// never answers, tokens and lifetimes a backend should not send, options
// no JSON can carry and a late wx.checkSession.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { miniProgramWorld, settleAll } from './support/harness.mjs';

// Nothing here may throw outside a promise: collected, and checked last.
const uncaught = [];
const collect = (err) => uncaught.push(err);
process.on('uncaughtException', collect);
process.on('unhandledRejection', collect);

async function withWorld(opts, body) {
  const world = await miniProgramWorld(opts);
  // Every wx.request as the device would send it: where, and with what token.
  const sent = [];
  const request = world.wx.request;
  world.wx.request = (o) => {
    sent.push({ url: o.url, auth: o.header && o.header.Authorization });
    return request.call(world.wx, o);
  };
  try { await body(world, sent); } finally { await world.close(); }
}

/** Another origin that answers every request and remembers its Authorization header. */
async function echoServer() {
  const seen = [];
  const server = createServer((req, res) => {
    seen.push({ path: req.url, auth: req.headers.authorization });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"echo":true}');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, seen, close: () => new Promise((r) => server.close(r)) };
}

test('the token goes only to baseUrl\'s origin and tokenOrigins; other URLs are BAD_CONFIG and nothing is sent', () => withWorld({}, async ({ createSession, wx, backend }, sent) => {
  const other = await echoServer();
  try {
    const session = await createSession();
    for (const url of [other.url + '/steal', '//evil.test/x', `${other.url}@evil.test/`, 'http://evil.test\\@127.0.0.1/',
      'https://evil.test/x?secret=s3cr3t', 'HTTP://EVIL.TEST/', 'javascript:alert(1)', '/x\r\nX-Evil: 1']) {
      const err = await session.request({ url }).catch((e) => e);
      assert.equal(err.code, 'BAD_CONFIG', url);
      assert.doesNotMatch(err.message, /s3cr3t/);
    }
    assert.equal(wx.calls.login + wx.calls.request, 0, 'refused before a login or a request');
    // The concatenation bugs: these are paths on the backend, with the token.
    for (const url of ['.evil.test/x', '@evil.test/x', ':1@evil.test/x']) {
      await assert.rejects(session.request({ url }), (e) => e.code === 'HTTP_ERROR' && e.status === 404, url);
    }
    assert.ok(sent.every((s) => s.url.startsWith(backend.url + '/')), JSON.stringify(sent));
    assert.deepEqual(other.seen, []);

    const allowed = await createSession({ tokenOrigins: [other.url] });
    assert.deepEqual(await allowed.request({ url: other.url + '/profile?x=1' }), { echo: true });
    assert.deepEqual(other.seen, [{ path: '/profile?x=1', auth: sent.at(-1).auth }]);
    assert.match(other.seen[0].auth, /^Bearer \S+$/);
  } finally {
    await other.close();
  }
}));

test('loginUrl passes the same check; baseUrl\'s path is the directory relative URLs extend', () => withWorld({}, async ({ wxsession, backend, wx }) => {
  await assert.rejects(wxsession.createSession({ baseUrl: backend.url, loginUrl: 'https://evil.test/login' }),
    (e) => e.code === 'BAD_CONFIG' && /^loginUrl/.test(e.message));
  await assert.rejects(wxsession.createSession({ baseUrl: backend.url + '/?x=1', loginUrl: '/auth/login' }), (e) => e.code === 'BAD_CONFIG');
  const session = await wxsession.createSession({ baseUrl: backend.url + '/api/', loginUrl: '../auth/login' });
  // The fast path (a plain /path) and the core's resolution agree.
  for (const url of ['/a', 'a', '/a?q=1', './a', '/x/../a', '/./a#frag']) {
    const r = await session.request({ url });
    assert.equal(r.path, '/api/a', url);
  }
  assert.equal(wx.calls.login, 1);
}));

test('a wx.getRandomValues that never answers rejects init with a code within the timeout; a retry succeeds; nothing is thrown uncaught', () => withWorld({}, async ({ wxsession, wx, sandbox }) => {
  let instantiated = 0;
  const host = sandbox.context.WXWebAssembly;
  const instantiate = host.instantiate;
  host.instantiate = (...args) => { instantiated++; return instantiate.apply(host, args); };
  // Before the wasm: plain coded errors, and bad options never load it.
  assert.throws(() => wxsession.nonceStr(16), (e) => e.name === 'WxSessionError' && e.code === 'INIT_FAILED');
  await assert.rejects(wxsession.createSession({ baseUrl: 'https://a.test', loginUrl: '/l', timeout: NaN }), (e) => e.code === 'BAD_CONFIG');
  await assert.rejects(wxsession.init({ timeout: 0 }), (e) => e.code === 'BAD_CONFIG');
  assert.equal(instantiated, 0);

  wx.knobs.hangRandom = true;
  const t0 = Date.now();
  const settled = await settleAll([wxsession.init({ timeout: 150 }), wxsession.createSession({ baseUrl: 'https://a.test', loginUrl: '/l', timeout: 150 })]);
  for (const s of settled) {
    assert.equal(s.error.code, 'INIT_FAILED');
    assert.equal(s.error.cause.code, 'TIMEOUT');
  }
  assert.ok(Date.now() - t0 < 1500, String(Date.now() - t0));
  wx.knobs.hangRandom = false;
  wx.knobs.failRandom = true;
  await assert.rejects(wxsession.init(), (e) => e.code === 'INIT_FAILED' && /getRandomValues:fail/.test(e.message));
  wx.knobs.failRandom = false;
  await wxsession.init();
  assert.match(wxsession.nonceStr(16), /^[A-Za-z0-9]{16}$/, 'seeded by the retry');
  // The concurrent init() and createSession() shared one attempt: hang, fail, success.
  assert.equal(wx.calls.getRandomValues, 3);
  assert.equal(instantiated, 1);
}));

test('a token no header can carry, or an expiresIn that is not a positive number, fails the login with EXCHANGE_FAILED and is never stored', () => withWorld({}, async ({ createSession, wx }) => {
  let answer;
  const session = await createSession({ loginUrl: undefined, exchange: async () => answer });
  for (const bad of [{ token: '€' }, { token: 'tok\r\nX-Evil: 1' }, { token: 't', expiresIn: '7200' }, { token: 't', expiresIn: -5 }, { token: 't', expiresIn: NaN }]) {
    answer = bad;
    await assert.rejects(session.request({ url: '/api/a' }), (e) => e.code === 'EXCHANGE_FAILED', JSON.stringify(bad));
  }
  assert.equal(wx.getStorageSync('wxsession'), '');
  answer = { token: 'ok', expiresIn: 1e300 };
  await session.login();
  const stored = JSON.parse(wx.getStorageSync('wxsession').value);
  assert.equal(stored.expiresAt - stored.issuedAt, 365 * 24 * 3600 * 1000, 'clamped to a year');
}));

test('createSession options that are NaN, Infinity, BigInt or null are BAD_CONFIG, never a default or a TypeError', () => withWorld({}, async ({ createSession, wx }) => {
  for (const [key, value] of [['timeout', NaN], ['expiryMargin', Infinity], ['maxRelogin', 2n], ['checkSession', null], ['reloginOn', [401n]]]) {
    await assert.rejects(createSession({ [key]: value }), (e) => e.code === 'BAD_CONFIG' && e.message.includes(key), key);
  }
  await assert.rejects(createSession({ storage: { get() {}, set() {}, remove() {} } }), (e) => e.code === 'BAD_CONFIG' && /delete/.test(e.message));
  assert.equal(wx.calls.login, 0);
}));

test('a wx.checkSession that began before a forced login and fails after it drops nothing and causes no second wx.login', () => withWorld({}, async (world) => {
  await (await world.createSession()).login();
  world.restart();
  world.accounts.sessionValid = false;
  world.wx.knobs.checkSessionDelay = 200;
  const session = await world.createSession();
  const request = session.request({ url: '/api/a' });   // starts the (slow, failing) check
  await new Promise((resolve) => setTimeout(resolve, 20));
  await session.login({ force: true });
  const fresh = JSON.parse(world.wx.getStorageSync('wxsession').value).token;
  assert.equal((await request).ok, true);
  assert.equal(world.wx.calls.checkSession, 1);
  assert.equal(world.wx.calls.login, 2, 'the first lifecycle\'s and the forced one');
  assert.equal(JSON.parse(world.wx.getStorageSync('wxsession').value).token, fresh, 'the fresh token was kept');
}));

after(() => {
  process.off('uncaughtException', collect);
  process.off('unhandledRejection', collect);
  assert.deepEqual(uncaught, [], 'uncaught: ' + uncaught.map(String).join('; '));
});
