// The node entry's Wechat class (pkg/node/index.cjs) against the strict fake
// WeChat API on 127.0.0.1: real HTTP, real expiry, one-time codes, quotas.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { PKG } from './support/harness.mjs';
import { settleAll } from './support/harness.mjs';
import { startFakeWechat } from './support/fake-wechat-api.mjs';

const require = createRequire(import.meta.url);
const wxsession = require(join(PKG, 'node', 'index.cjs'));
const APP = { appId: 'wx_fake_app', appSecret: 'fake_secret' };

async function world(fakeOptions, body) {
  const fake = await startFakeWechat(fakeOptions);
  const make = (extra = {}) => new wxsession.Wechat({ ...APP, store: new wxsession.Store(), apiBase: fake.url, ...extra });
  try { await body({ fake, make }); } finally { await fake.close(); }
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test("WeChat's official JS-SDK example signs to its published signature", () => {
  const signature = wxsession.signJsapi({
    jsapiTicket: 'sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg',
    nonceStr: 'Wm3WZYTPz0wzccnW', timestamp: 1414587457, url: 'http://mp.weixin.qq.com?params=value#ignored',
  });
  assert.equal(signature, '0f9de62fce790f9a083d5c99e95740ceb90c27ed');
});

test('a cold burst of 500 getSignature calls makes one token and one ticket fetch, and WeChat accepts the signature', () => world({ latencyMs: 20 }, async ({ fake, make }) => {
  const wechat = make();
  const sigs = await Promise.all(Array.from({ length: 500 }, () => wechat.jssdk.getSignature('https://h5.test/page?a=1#/route')));
  assert.deepEqual([fake.counts.token, fake.counts.ticket], [1, 1]);
  assert.equal(new Set(sigs.map((s) => s.signature)).size, 1);
  assert.deepEqual(Object.keys(sigs[0]).sort(), ['appId', 'nonceStr', 'signature', 'timestamp', 'url']);
  assert.equal(sigs[0].url, 'https://h5.test/page?a=1');
  assert.equal(sigs[0].appId, APP.appId);
  assert.ok(fake.verifyJsapiSignature(sigs[0]));
  // Cached: the same signature, no more calls.
  assert.deepEqual(await wechat.jssdk.getSignature('https://h5.test/page?a=1#/other'), sigs[0]);
  assert.deepEqual([fake.counts.token, fake.counts.ticket], [1, 1]);
  const forced = await wechat.jssdk.getSignature('https://h5.test/page?a=1', { force: true });
  assert.notEqual(forced.nonceStr, sigs[0].nonceStr);
  assert.ok(fake.verifyJsapiSignature(forced));
}));

test('credentials are refreshed a margin before they expire, and cached signatures follow their ticket', () => world({ tokenTtl: 2, ticketTtl: 2 }, async ({ fake, make }) => {
  const wechat = make();
  const first = await wechat.jssdk.getSignature('https://h5.test/');
  const token = await wechat.getAccessToken();
  await sleep(1100); // half of a 2 s life: past the refresh point, before WeChat's expiry
  assert.notEqual(await wechat.getAccessToken(), token);
  assert.equal(fake.tokenState(token), 'valid', 'refreshed before WeChat expired it');
  const second = await wechat.jssdk.getSignature('https://h5.test/');
  assert.notEqual(second.signature, first.signature, 'a signature is served only while its ticket is current');
  assert.ok(fake.verifyJsapiSignature(second));
  assert.deepEqual([fake.counts.token, fake.counts.ticket], [2, 2]);
}));

test('a rejected token (40001/42001) is replaced once and the call retried once', () => world({}, async ({ fake, make }) => {
  const wechat = make();
  const before = await wechat.getAccessToken();
  fake.invalidateTokens();
  assert.deepEqual(await wechat.request('/cgi-bin/getcallbackip'), { ip_list: ['127.0.0.1'] });
  assert.notEqual(await wechat.getAccessToken(), before);
  assert.equal(fake.counts.token, 2);
  // Rejected again after the retry: WeChat's error, not a loop.
  fake.failNext('callbackIp', { errcode: 42001, errmsg: 'access_token expired', times: 2 });
  await assert.rejects(wechat.request('/cgi-bin/getcallbackip'), (e) => e.code === 'WECHAT_API' && e.errcode === 42001 && e.errmsg === 'access_token expired');
  assert.equal(fake.counts.token, 3);
  // A ticket fetch that finds the token invalid does the same.
  fake.invalidateTokens();
  await wechat.getJsapiTicket({ force: true });
  assert.equal(fake.counts.token, 4);
}));

test('WeChat errors, network failures and timeouts reject with codes and never leak the secret', async () => {
  await world({}, async ({ fake, make }) => {
    await assert.rejects(make({ appSecret: 'wrong_secret' }).getAccessToken(), (e) => e.code === 'WECHAT_API' && e.errcode === 40125 && !e.message.includes('wrong_secret'));
    fake.failNext('token', { httpStatus: 502 });
    await assert.rejects(make().getAccessToken(), (e) => e.code === 'HTTP_ERROR' && e.status === 502);
    fake.hangNext('token');
    const t0 = Date.now();
    await assert.rejects(make({ timeout: 300 }).getAccessToken(), (e) => e.code === 'TIMEOUT');
    assert.ok(Date.now() - t0 < 2000);
  });
  await world({ quota: { token: 1 } }, async ({ make }) => {
    await make().getAccessToken();
    await assert.rejects(make().getAccessToken(), (e) => e.code === 'WECHAT_API' && e.errcode === 45009);
  });
  const port = await new Promise((resolve) => { const s = createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); }); });
  const offline = new wxsession.Wechat({ ...APP, appSecret: 'topsecret', store: new wxsession.Store(), apiBase: `http://127.0.0.1:${port}` });
  await assert.rejects(offline.getAccessToken(), (e) => e.code === 'NETWORK' && !e.message.includes('topsecret'));
});

test('bad options and input are refused with codes', () => world({}, async ({ make }) => {
  for (const bad of [{}, { appId: 'x' }, { ...APP, apiBase: 'ftp://x' }, { ...APP, timeout: 0 }, { ...APP, store: {} }, { ...APP, margin: -1 }]) {
    assert.throws(() => new wxsession.Wechat({ store: new wxsession.Store(), ...bad }), (e) => e.code === 'BAD_CONFIG', JSON.stringify(bad));
  }
  const wechat = make();
  for (const call of [() => wechat.jssdk.getSignature(''), () => wechat.miniProgram.code2Session(''), () => wechat.oauth.getAccessToken(undefined), () => wechat.oauth.refreshAccessToken(''), () => wechat.request('no-slash')]) {
    await assert.rejects(call(), (e) => e.code === 'BAD_INPUT');
  }
  await assert.rejects(wechat.oauth.refreshAccessToken('nobody'), (e) => e.code === 'BAD_INPUT' && /exchange a code first/.test(e.message));
}));

test('code2Session: one call per code even when asked concurrently; no session_key field name leaks through', () => world({}, async ({ fake, make }) => {
  const wechat = make();
  const code = fake.issueCode({ kind: 'miniprogram', openid: 'o_mp', unionid: 'u_1' });
  const [a, b] = await Promise.all([wechat.miniProgram.code2Session(code), wechat.miniProgram.code2Session(code)]);
  assert.deepEqual(a, b);
  assert.deepEqual(Object.keys(a).sort(), ['openid', 'sessionKey', 'unionid']);
  assert.equal(a.openid, 'o_mp');
  assert.equal(fake.counts.code2Session, 1);
  await assert.rejects(wechat.miniProgram.code2Session(code), (e) => e.code === 'WECHAT_API' && e.errcode === 40163);
  await assert.rejects(wechat.miniProgram.code2Session('never-issued'), (e) => e.errcode === 40029);
}));

test('OAuth: a code is exchanged once, stored under the openid, and refreshed into a token WeChat accepts', () => world({}, async ({ fake, make }) => {
  const store = new wxsession.Store();
  const wechat = make({ store });
  const code = fake.issueCode({ kind: 'oauth', openid: 'o_web', scope: 'snsapi_userinfo' });
  const [info] = await Promise.all([wechat.oauth.getAccessToken(code), wechat.oauth.getAccessToken(code)]);
  assert.equal(fake.counts.oauthAccessToken, 1);
  assert.equal(info.openid, 'o_web');
  assert.equal((await store.getOAuthAccessToken('o_web')).access_token, info.access_token);
  const [r1, r2] = await Promise.all([wechat.oauth.refreshAccessToken('o_web'), wechat.oauth.refreshAccessToken('o_web')]);
  assert.equal(fake.counts.oauthRefresh, 1, 'one refresh for concurrent callers');
  assert.equal(r1.access_token, r2.access_token);
  assert.notEqual(r1.access_token, info.access_token);
  const auth = await fetch(`${fake.url}/sns/auth?access_token=${r1.access_token}&openid=o_web`).then((r) => r.json());
  assert.equal(auth.errcode, 0);
  const keyed = await wechat.oauth.getAccessToken(fake.issueCode({ kind: 'oauth', openid: 'o_2' }), 'session-42');
  assert.equal((await store.getOAuthAccessToken('session-42')).openid, keyed.openid);
}));

test("a store written for wechat-jssdk (its own in-memory Store) works unchanged", () => world({}, async ({ fake }) => {
  const JssdkStore = require('wechat-jssdk').Store;
  const store = new JssdkStore({ noInterval: true });
  const wechat = new wxsession.Wechat({ ...APP, store, apiBase: fake.url });
  const sigs = await Promise.all(Array.from({ length: 50 }, () => wechat.jssdk.getSignature('https://h5.test/legacy')));
  assert.ok(fake.verifyJsapiSignature(sigs[0]));
  assert.deepEqual([fake.counts.token, fake.counts.ticket], [1, 1]);
  assert.equal((await store.getGlobalToken()).accessToken, await wechat.getAccessToken());
  assert.equal((await store.getSignature('https://h5.test/legacy')).signature, sigs[0].signature);
}));

test('stable_token mode: force asks WeChat for a new one, otherwise the current one is reused', () => world({}, async ({ fake, make }) => {
  const wechat = make({ stableToken: true });
  const [a, b] = [await wechat.getAccessToken(), await make({ stableToken: true }).getAccessToken()];
  assert.equal(a, b, 'stable_token answers the same token while it is valid');
  const forced = await wechat.getAccessToken({ force: true });
  assert.notEqual(forced, a);
  assert.deepEqual([fake.counts.stableToken, fake.counts.token], [3, 0]);
}));

test('manual refreshes are limited to 5 per 2 hours; force is not', () => world({}, async ({ fake, make }) => {
  const wechat = make();
  for (let i = 0; i < 5; i++) await wechat.refresh();
  await assert.rejects(wechat.refresh(), (e) => e.code === 'RATE_LIMITED');
  await wechat.getAccessToken({ force: true });
  assert.equal(fake.counts.token, 6);
  const results = await settleAll([wechat.getJsapiTicket(), wechat.jssdk.getSignature('https://h5.test/x')]);
  assert.ok(results.every((r) => r.ok));
}));
