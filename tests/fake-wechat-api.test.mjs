// The fake WeChat API itself: the library is tested against it, so it has to
// hold WeChat's rules (lifecycles, one-time codes, quotas, errcodes) and its
// fault knobs have to do what they claim.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startFakeWechat } from './support/fake-wechat-api.mjs';

const APP = { appid: 'wx_fake_app', secret: 'fake_secret' };
const MIN = 60_000;

/** A fake on a virtual clock, closed when the test ends. */
async function start(t, options = {}) {
  const clock = { t: Date.UTC(2024, 0, 1, 12) };
  const fake = await startFakeWechat({ now: () => clock.t, ...options });
  t.after(() => fake.close());
  const get = async (path, params = {}) => (await fetch(`${fake.url}${path}?${new URLSearchParams(params)}`)).json();
  return {
    fake,
    get,
    advance: (ms) => { clock.t += ms; },
    token: (extra = {}) => get('/cgi-bin/token', { grant_type: 'client_credential', ...APP, ...extra }),
    stable: async (body) => (await fetch(`${fake.url}/cgi-bin/stable_token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify({ grant_type: 'client_credential', ...APP, ...body }),
    })).json(),
    ticket: (access_token, type = 'jsapi') => get('/cgi-bin/ticket/getticket', { access_token, type }),
    jscode: (js_code, extra = {}) => get('/sns/jscode2session', { ...APP, js_code, grant_type: 'authorization_code', ...extra }),
    oauth: (code, extra = {}) => get('/sns/oauth2/access_token', { ...APP, code, grant_type: 'authorization_code', ...extra }),
    refresh: (refresh_token) => get('/sns/oauth2/refresh_token', { appid: APP.appid, grant_type: 'refresh_token', refresh_token }),
    auth: (access_token, openid) => get('/sns/auth', { access_token, openid }),
    userinfo: (access_token, openid) => get('/sns/userinfo', { access_token, openid, lang: 'zh_CN' }),
  };
}

const sign = (ticket, { url, nonceStr, timestamp }) =>
  createHash('sha1').update(`jsapi_ticket=${ticket}&noncestr=${nonceStr}&timestamp=${timestamp}&url=${url}`).digest('hex');
const page = { url: 'https://app.test/pay?id=1', nonceStr: 'Wm3WZYTPz0wzccnW', timestamp: '1414587457' };

test('a token is issued for the right app and answers 42001 once it expires', async (t) => {
  const w = await start(t);
  const res = await fetch(`${w.fake.url}/cgi-bin/token?grant_type=client_credential&appid=${APP.appid}&secret=${APP.secret}`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
  const { access_token, expires_in } = await res.json();
  assert.ok(access_token.length >= 64);
  assert.equal(expires_in, 7200);
  assert.equal(w.fake.currentToken(), access_token);
  assert.equal((await w.ticket(access_token)).errcode, 0);
  assert.deepEqual(await w.get('/cgi-bin/getcallbackip', { access_token }), { ip_list: ['127.0.0.1'] });

  w.advance(7200 * 1000 - 1);
  assert.equal(w.fake.tokenState(access_token), 'valid');
  w.advance(1);
  assert.equal(w.fake.tokenState(access_token), 'expired');
  assert.deepEqual(await w.ticket(access_token), { errcode: 42001, errmsg: 'access_token expired' });
  assert.equal((await w.get('/cgi-bin/getcallbackip', { access_token })).errcode, 42001);
  assert.deepEqual(await w.get('/cgi-bin/ticket/getticket', { type: 'jsapi' }), { errcode: 41001, errmsg: 'access_token missing' });
  assert.equal((await w.ticket('no-such-token')).errcode, 40001);
  assert.equal(w.fake.tokenState('no-such-token'), 'unknown');
  const fresh = (await w.token()).access_token;
  assert.deepEqual(await w.ticket(fresh, 'mp_card'), { errcode: 40097, errmsg: 'invalid args' });
  assert.equal((await w.ticket(fresh, 'wx_card')).errcode, 0);
});

test('a superseded token keeps working for graceMs, then answers 40001', async (t) => {
  const w = await start(t, { graceMs: 5 * MIN });
  const old = (await w.token()).access_token;
  w.advance(MIN);
  const current = (await w.token()).access_token;
  assert.notEqual(current, old);
  assert.equal(w.fake.currentToken(), current);
  w.advance(5 * MIN - 1);
  assert.equal((await w.ticket(old)).errcode, 0);
  w.advance(1);
  assert.equal(w.fake.tokenState(old), 'superseded');
  assert.deepEqual(await w.ticket(old), { errcode: 40001, errmsg: 'invalid credential, access_token is invalid or not latest' });
  assert.equal((await w.ticket(current)).errcode, 0);

  // The grace never outlives the token itself: then it is plain expiry.
  const short = await start(t, { tokenTtl: 100, graceMs: 5 * MIN });
  const a = (await short.token()).access_token;
  short.advance(50_000);
  await short.token();
  short.advance(50_000);
  assert.equal(short.fake.tokenState(a), 'expired');
  assert.equal((await short.ticket(a)).errcode, 42001);
});

test('wrong or missing grant_type, appid and secret are refused with WeChat errcodes', async (t) => {
  const w = await start(t);
  const cases = [
    [{ grant_type: 'password' }, 40002, 'invalid grant_type'],
    [{ appid: 'wx_other' }, 40013, 'invalid appid'],
    [{ secret: 'nope' }, 40125, 'invalid appsecret'],
    [{ appid: '' }, 41002, 'appid missing'],
    [{ secret: '' }, 41004, 'appsecret missing'],
  ];
  for (const [change, errcode, errmsg] of cases) {
    assert.deepEqual(await w.token(change), { errcode, errmsg }, `token ${JSON.stringify(change)}`);
    assert.deepEqual(await w.stable(change), { errcode, errmsg }, `stable_token ${JSON.stringify(change)}`);
    if (!change.grant_type) {
      assert.equal((await w.jscode(w.fake.issueCode(), change)).errcode, errcode);
      assert.equal((await w.oauth(w.fake.issueCode({ kind: 'oauth' }), change)).errcode, errcode);
    }
  }
  assert.equal(w.fake.currentToken(), null);
  // A refused exchange does not burn the code.
  const code = w.fake.issueCode();
  assert.equal((await w.jscode(code, { secret: 'nope' })).errcode, 40125);
  assert.ok((await w.jscode(code)).openid);
});

test('over the daily quota answers 45009 until the next day', async (t) => {
  const w = await start(t, { quota: { token: 2 } });
  assert.ok((await w.token()).access_token);
  assert.ok((await w.token()).access_token);
  assert.deepEqual(await w.token(), { errcode: 45009, errmsg: 'reach max api daily quota limit' });
  assert.equal((await w.token()).errcode, 45009);
  assert.equal(w.fake.counts.token, 4);
  assert.ok((await w.stable()).access_token, 'other endpoints have their own quota');
  w.advance(24 * 60 * MIN);
  assert.ok((await w.token()).access_token);
});

test('stable_token returns the same token until force_refresh, and is apart from /cgi-bin/token', async (t) => {
  const w = await start(t);
  const first = await w.stable({ force_refresh: false });
  assert.equal(first.expires_in, 7200);
  w.advance(1000 * 1000 + 400);
  assert.deepEqual(await w.stable(), { access_token: first.access_token, expires_in: 6199 });
  const plain = (await w.token()).access_token;
  assert.notEqual(plain, first.access_token);
  assert.equal(w.fake.tokenState(first.access_token), 'valid', 'a /cgi-bin/token call does not supersede it');
  assert.equal((await w.stable()).access_token, first.access_token);

  const forced = await w.stable({ force_refresh: true });
  assert.notEqual(forced.access_token, first.access_token);
  assert.equal(forced.expires_in, 7200);
  assert.equal((await w.stable()).access_token, forced.access_token);
  assert.equal((await w.ticket(first.access_token)).errcode, 0, 'the old one has its grace');
  w.advance(5 * MIN);
  assert.equal((await w.ticket(first.access_token)).errcode, 40001);

  // As documented: in its last 5 minutes a normal call already renews it.
  w.advance((7200 - 301) * 1000 - 5 * MIN); // 301 s left
  assert.equal((await w.stable()).access_token, forced.access_token);
  w.advance(1000);
  const renewed = await w.stable();
  assert.notEqual(renewed.access_token, forced.access_token);
  assert.equal(renewed.expires_in, 7200);

  assert.deepEqual(await w.stable('{not json'), { errcode: 47001, errmsg: 'data format error' });
  const viaGet = await fetch(`${w.fake.url}/cgi-bin/stable_token`);
  assert.equal(viaGet.status, 405);
  assert.equal(viaGet.headers.get('allow'), 'POST');
});

test('mini-program codes: one use, 40163 on reuse, 40029 when unknown, expired or of the other kind', async (t) => {
  const w = await start(t, { codeTtlMs: 5 * MIN });
  const code = w.fake.issueCode({ openid: 'oUser1', unionid: 'uUser1' });
  const session = await w.jscode(code);
  assert.equal(session.openid, 'oUser1');
  assert.equal(session.unionid, 'uUser1');
  assert.equal(Buffer.from(session.session_key, 'base64').length, 16);
  assert.deepEqual(await w.jscode(code), { errcode: 40163, errmsg: 'code been used' });
  assert.deepEqual(await w.jscode('never-issued'), { errcode: 40029, errmsg: 'invalid code' });
  assert.equal((await w.jscode(w.fake.issueCode({ kind: 'oauth' }))).errcode, 40029);
  assert.equal((await w.jscode('')).errcode, 41008);
  const late = w.fake.issueCode();
  w.advance(5 * MIN);
  assert.equal((await w.jscode(late)).errcode, 40029);
  const anon = await w.jscode(w.fake.issueCode());
  assert.match(anon.openid, /^o[\w-]{20,}$/);
  assert.equal('unionid' in anon, false);
});

test('OAuth codes: one use, 40163 on reuse, 40029 when unknown, expired or of the other kind', async (t) => {
  const w = await start(t, { codeTtlMs: 5 * MIN });
  const code = w.fake.issueCode({ kind: 'oauth', openid: 'oUser2', unionid: 'uUser2', scope: 'snsapi_userinfo' });
  const grant = await w.oauth(code);
  assert.deepEqual(Object.keys(grant), ['access_token', 'expires_in', 'refresh_token', 'openid', 'scope', 'unionid']);
  assert.equal(grant.expires_in, 7200);
  assert.equal(grant.openid, 'oUser2');
  assert.equal(grant.scope, 'snsapi_userinfo');
  assert.equal((await w.oauth(code)).errcode, 40163);
  assert.equal((await w.oauth('never-issued')).errcode, 40029);
  assert.equal((await w.oauth(w.fake.issueCode())).errcode, 40029);
  const late = w.fake.issueCode({ kind: 'oauth' });
  w.advance(5 * MIN);
  assert.equal((await w.oauth(late)).errcode, 40029);
  assert.equal((await w.oauth(w.fake.issueCode({ kind: 'oauth' }))).scope, 'snsapi_base');
});

test('an OAuth refresh retires the previous OAuth access_token', async (t) => {
  const w = await start(t);
  const first = await w.oauth(w.fake.issueCode({ kind: 'oauth', openid: 'oUser3' }));
  assert.deepEqual(await w.auth(first.access_token, 'oUser3'), { errcode: 0, errmsg: 'ok' });
  assert.deepEqual(await w.auth(first.access_token, 'oSomeoneElse'), { errcode: 40003, errmsg: 'invalid openid' });

  const second = await w.refresh(first.refresh_token);
  assert.notEqual(second.access_token, first.access_token);
  assert.equal(second.refresh_token, first.refresh_token);
  assert.equal(second.openid, 'oUser3');
  assert.equal((await w.auth(first.access_token, 'oUser3')).errcode, 40001);
  assert.equal((await w.auth(second.access_token, 'oUser3')).errcode, 0);
  w.advance(7200 * 1000);
  assert.equal((await w.auth(second.access_token, 'oUser3')).errcode, 42001);

  assert.deepEqual(await w.refresh('never-issued'), { errcode: 40030, errmsg: 'invalid refresh_token' });
  w.advance(30 * 24 * 60 * MIN);
  assert.deepEqual(await w.refresh(first.refresh_token), { errcode: 42002, errmsg: 'refresh_token expired' });
});

test('/sns/userinfo: the profile for a current snsapi_userinfo token of that openid, errcodes otherwise', async (t) => {
  const w = await start(t);
  const grant = await w.oauth(w.fake.issueCode({ kind: 'oauth', openid: 'oUser4', unionid: 'uUser4', scope: 'snsapi_userinfo', nickname: 'Ann' }));
  assert.deepEqual(await w.userinfo(grant.access_token, 'oUser4'), {
    openid: 'oUser4', nickname: 'Ann', sex: 0, province: '', city: '', country: '', headimgurl: '', privilege: [], unionid: 'uUser4',
  });
  assert.deepEqual(await w.userinfo(grant.access_token, 'oSomeoneElse'), { errcode: 40003, errmsg: 'invalid openid' });
  assert.deepEqual(await w.userinfo('invalid_code', 'oUser4'), { errcode: 40001, errmsg: 'invalid credential, access_token is invalid or not latest' });
  assert.deepEqual(await w.get('/sns/userinfo', { openid: 'oUser4' }), { errcode: 41001, errmsg: 'access_token missing' });
  assert.deepEqual(await w.get('/sns/userinfo', { access_token: grant.access_token }), { errcode: 41009, errmsg: 'missing openid' });
  // A global access_token is not an OAuth one.
  assert.equal((await w.userinfo((await w.token()).access_token, 'oUser4')).errcode, 40001);

  const base = await w.oauth(w.fake.issueCode({ kind: 'oauth', openid: 'oUser5' }));
  assert.deepEqual(await w.userinfo(base.access_token, 'oUser5'), { errcode: 48001, errmsg: 'api unauthorized' });
  assert.equal((await w.userinfo(w.fake.issueCode({ kind: 'oauth' }), 'oUser5')).errcode, 40001, 'a code is not a token');

  const refreshed = await w.refresh(grant.refresh_token);
  assert.equal((await w.userinfo(grant.access_token, 'oUser4')).errcode, 40001, 'retired by the refresh');
  assert.equal((await w.userinfo(refreshed.access_token, 'oUser4')).nickname, 'Ann');
  w.advance(7200 * 1000);
  assert.deepEqual(await w.userinfo(refreshed.access_token, 'oUser4'), { errcode: 42001, errmsg: 'access_token expired' });
  assert.equal(w.fake.counts.oauthUserInfo, 11);
});

test('a ticket is only good while the token it was fetched with is', async (t) => {
  const w = await start(t);
  const token = (await w.token()).access_token;
  const { ticket } = await w.ticket(token);
  assert.equal(w.fake.currentTicket(), ticket);
  const signed = { ...page, signature: sign(ticket, page) };
  assert.equal(w.fake.verifyJsapiSignature(signed), true);
  w.fake.invalidateTokens();
  assert.equal(w.fake.tokenState(token), 'invalidated');
  assert.equal(w.fake.verifyJsapiSignature(signed), false);
  assert.equal((await w.ticket(token)).errcode, 40001);

  const token2 = (await w.token()).access_token;
  const ticket2 = (await w.ticket(token2)).ticket;
  w.fake.expireTokens();
  assert.equal(w.fake.verifyJsapiSignature({ ...page, signature: sign(ticket2, page) }), false);
  assert.equal((await w.ticket(token2)).errcode, 42001);

  // Superseded past its grace, the token takes its unexpired ticket with it.
  const token3 = (await w.token()).access_token;
  const ticket3 = (await w.ticket(token3)).ticket;
  await w.token();
  w.advance(5 * MIN);
  assert.equal(w.fake.verifyJsapiSignature({ ...page, signature: sign(ticket3, page) }), false);
});

test('verifyJsapiSignature checks url, nonce and ticket, ignoring the #fragment', async (t) => {
  const w = await start(t, { ticketTtl: 600, graceMs: MIN });
  const token = (await w.token()).access_token;
  const { ticket, expires_in } = await w.ticket(token);
  assert.equal(expires_in, 600);
  const signature = sign(ticket, page);
  assert.equal(w.fake.verifyJsapiSignature({ ...page, signature }), true);
  assert.equal(w.fake.verifyJsapiSignature({ ...page, url: page.url + '#/cart', signature }), true);
  assert.equal(w.fake.verifyJsapiSignature({ ...page, url: page.url + '&x=1', signature }), false);
  assert.equal(w.fake.verifyJsapiSignature({ ...page, nonceStr: 'other', signature }), false);
  assert.equal(w.fake.verifyJsapiSignature({ ...page, timestamp: '1', signature }), false);
  assert.equal(w.fake.verifyJsapiSignature({ ...page, signature: sign('made-up', page) }), false);

  const newer = (await w.ticket(token)).ticket;
  assert.notEqual(newer, ticket);
  assert.equal(w.fake.verifyJsapiSignature({ ...page, signature }), true, 'the previous ticket has its grace');
  w.advance(MIN);
  assert.equal(w.fake.verifyJsapiSignature({ ...page, signature }), false);
  assert.equal(w.fake.verifyJsapiSignature({ ...page, signature: sign(newer, page) }), true);
  w.advance(9 * MIN);
  assert.equal(w.fake.verifyJsapiSignature({ ...page, signature: sign(newer, page) }), false, 'expired ticket');
});

test('failNext injects errcodes and HTTP failures, then the endpoint recovers', async (t) => {
  const w = await start(t);
  w.fake.failNext('token', { errcode: -1, times: 2 });
  assert.deepEqual(await w.token(), { errcode: -1, errmsg: 'system error' });
  assert.equal((await w.token()).errcode, -1);
  assert.ok((await w.token()).access_token);
  assert.deepEqual(w.fake.calls.map((c) => c.errcode), [-1, -1, 0]);

  w.fake.failNext('ticket', { errcode: 40001 });
  assert.deepEqual(await w.ticket(w.fake.currentToken()), { errcode: 40001, errmsg: 'invalid credential, access_token is invalid or not latest' });
  w.fake.failNext('ticket', { httpStatus: 502 });
  const res = await fetch(`${w.fake.url}/cgi-bin/ticket/getticket?access_token=${w.fake.currentToken()}&type=jsapi`);
  assert.equal(res.status, 502);
  assert.doesNotMatch(res.headers.get('content-type'), /json/);
  await assert.rejects(res.json(), SyntaxError);
  assert.equal((await w.ticket(w.fake.currentToken())).errcode, 0);
  assert.equal(w.fake.counts.ticket, 3);
  assert.throws(() => w.fake.failNext('tokne', {}), /unknown endpoint/);
});

test('hangNext never answers, and close() still returns promptly', async (t) => {
  const w = await start(t);
  w.fake.hangNext('token', 2);
  await assert.rejects(
    fetch(`${w.fake.url}/cgi-bin/token?grant_type=client_credential`, { signal: AbortSignal.timeout(100) }),
    { name: 'TimeoutError' },
  );
  const client = new AbortController();
  const pending = fetch(`${w.fake.url}/cgi-bin/token?grant_type=client_credential`, { signal: client.signal });
  pending.catch(() => {});
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(w.fake.counts.token, 2);
  const closed = await Promise.race([
    w.fake.close().then(() => true),
    new Promise((resolve) => setTimeout(resolve, 1000, false)),
  ]);
  // A close() stuck on the hung socket would otherwise hold the run for minutes.
  if (!closed) client.abort();
  assert.equal(closed, true, 'close() waited on the hung request');
  await assert.rejects(pending, (e) => e.name !== 'AbortError');
});

test('counts and calls record every call, failures included, with the secret redacted', async (t) => {
  const w = await start(t);
  await w.token();
  w.advance(1234);
  await w.token({ secret: 'wrong' });
  const missing = await fetch(`${w.fake.url}/cgi-bin/no_such_api`);
  assert.equal(missing.status, 404);
  assert.deepEqual(await missing.json(), { errcode: -1, errmsg: 'not found' });
  assert.equal((await fetch(`${w.fake.url}/cgi-bin/token`, { method: 'POST' })).status, 405);

  assert.deepEqual(w.fake.counts, {
    token: 3, stableToken: 0, ticket: 0, callbackIp: 0, oauthAccessToken: 0, oauthRefresh: 0, oauthAuth: 0, oauthUserInfo: 0,
    code2Session: 0, phoneNumber: 0, other: 1,
  });
  const [ok, refused, other] = w.fake.calls;
  assert.equal(ok.endpoint, 'token');
  assert.equal(ok.errcode, 0);
  assert.deepEqual(ok.params, { grant_type: 'client_credential', appid: APP.appid, secret: '<redacted>' });
  assert.equal(refused.errcode, 40125);
  assert.equal(refused.at - ok.at, 1234);
  assert.equal(other.endpoint, 'other');
  assert.equal(other.errcode, -1);
  assert.equal(JSON.stringify(w.fake.calls).includes(APP.secret), false);

  const counts = w.fake.counts;
  w.fake.resetCounts();
  assert.equal(counts.token, 0);
  assert.equal(w.fake.calls.length, 0);
});

test('latency delays every reply, globally or per endpoint', async (t) => {
  const timed = async (fn) => { const s = performance.now(); await fn(); return performance.now() - s; };
  const w = await start(t, { latencyMs: 150 });
  assert.ok(await timed(() => w.token()) >= 140);
  w.fake.setLatency(0);
  w.fake.setLatency(200, 'ticket');
  const token = w.fake.currentToken();
  assert.ok(await timed(() => w.token()) < 100);
  assert.ok(await timed(() => w.ticket(token)) >= 190);
  w.fake.setLatency(null, 'ticket');
  assert.ok(await timed(() => w.ticket(token)) < 100);
});
