// The node entry of the built package (pkg/node/index.cjs): fetch, memory
// or file storage, the same core and error codes as the mini-program.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, writeFileSync, rmSync, statSync, readdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { PKG } from './support/harness.mjs';
import { WeChatAccounts } from './support/wechat-accounts.mjs';
import { startAppBackend } from './support/app-backend.mjs';

const wxsession = createRequire(import.meta.url)(join(PKG, 'node', 'index.cjs'));

async function world(body) {
  const accounts = new WeChatAccounts();
  const backend = await startAppBackend({ accounts });
  const dir = mkdtempSync(join(tmpdir(), 'wxsession-node-'));
  let codes = 0;
  const opts = (extra = {}) => ({ baseUrl: backend.url, loginUrl: '/auth/login', getCode: async () => { codes++; return accounts.issueCode(); }, ...extra });
  try { await body({ backend, opts, dir, codes: () => codes }); } finally { await backend.close(); rmSync(dir, { recursive: true, force: true }); }
}

test('package.json points node at this entry and the mini-program at miniprogram_dist', () => {
  const manifest = JSON.parse(readFileSync(join(PKG, 'package.json'), 'utf8'));
  assert.equal(manifest.name, 'wxsession');
  assert.equal(manifest.miniprogram, 'miniprogram_dist');
  assert.equal(manifest.main, 'node/index.cjs');
  assert.deepEqual(manifest.exports['.'].node, { types: './types/node.d.ts', default: './node/index.cjs' });
  for (const f of ['miniprogram_dist/index.js', 'miniprogram_dist/wxsession_bg.wasm.br', 'web/index.js', 'types/node.d.ts']) {
    assert.ok(readFileSync(join(PKG, f)).length > 0, f);
  }
});

test('a burst shares one login; 401 leads to one re-login', () => world(async ({ backend, opts, codes }) => {
  const session = await wxsession.createSession(opts());
  const results = await Promise.all(Array.from({ length: 30 }, () => session.request({ url: '/api/a', method: 'POST', data: { n: 1 } })));
  assert.ok(results.every((r) => r.ok && r.body.n === 1));
  assert.equal(codes(), 1);
  backend.revokeAll();
  await Promise.all(Array.from({ length: 10 }, () => session.request({ url: '/api/a' })));
  assert.equal(codes(), 2);
  assert.equal(backend.state.counts.exchange, 2);
}));

test('storagePath: the token survives a restart in a 0600 file written by the package\'s file writer', () => world(async ({ opts, dir, codes }) => {
  const storagePath = join(dir, 'session.json');
  await (await wxsession.createSession(opts({ storagePath }))).login();
  const again = await wxsession.createSession(opts({ storagePath }));
  assert.equal(again.state, 'authenticated');
  await again.request({ url: '/api/a' });
  assert.equal(codes(), 1);
  assert.equal(statSync(storagePath).mode & 0o777, 0o600, 'the file holds a Bearer token: owner only');
  const file = JSON.parse(readFileSync(storagePath, 'utf8'));
  assert.deepEqual(Object.keys(file.entries), ['wxsession']);
  assert.deepEqual(Object.keys(JSON.parse(file.entries.wxsession.value)).sort(), ['expiresAt', 'issuedAt', 'token', 'v']);
  assert.deepEqual(readdirSync(dir), ['session.json'], 'no temp files left');
}));

test('storagePath: a planted symlink at a temp name is not followed, and an unreadable file is moved aside, not replaced', () => world(async ({ opts, dir }) => {
  const storagePath = join(dir, 'session.json');
  const victim = join(dir, 'victim.txt');
  writeFileSync(victim, 'precious');
  // The name the previous writer used, predictably.
  symlinkSync(victim, storagePath + '.' + process.pid + '.tmp');
  writeFileSync(storagePath, '{not json: someone else\'s file');
  const warned = [];
  const warn = console.warn;
  console.warn = (m) => warned.push(m);
  try {
    const session = await wxsession.createSession(opts({ storagePath }));
    assert.equal(session.state, 'anonymous');
    await session.login();
  } finally {
    console.warn = warn;
  }
  assert.equal(readFileSync(victim, 'utf8'), 'precious');
  const aside = readdirSync(dir).filter((f) => f.startsWith('session.json.corrupt-'));
  assert.equal(aside.length, 1);
  assert.equal(readFileSync(join(dir, aside[0]), 'utf8'), '{not json: someone else\'s file');
  assert.match(warned.join('\n'), /moved it to/);
  assert.equal(JSON.parse(readFileSync(storagePath, 'utf8')).entries.wxsession.expiresAt > Date.now(), true);
}));

test('storage: your own { get, set, delete } (promises too) holds the token with its ttl; remove() instead of delete() is BAD_CONFIG saying so', () => world(async ({ opts }) => {
  const writes = [];
  const map = new Map();
  const storage = {
    get: async (k) => (map.has(k) ? map.get(k) : null),
    set: async (k, v, ttlMs) => { writes.push(['set', k, ttlMs]); map.set(k, v); },
    delete: async (k) => { writes.push(['delete', k]); map.delete(k); },
  };
  const session = await wxsession.createSession(opts({ storage, storageKey: 'me' }));
  await session.login();
  assert.equal(writes.length, 1);
  assert.equal(writes[0][1], 'me');
  // The backend issues 7200 s tokens: the ttl ends with the token.
  assert.ok(Math.abs(writes[0][2] - 7200e3) < 2000, String(writes[0][2]));
  await session.logout();
  assert.deepEqual(writes[1], ['delete', 'me']);
  const legacy = { get: () => null, set() {}, remove() {} };
  await assert.rejects(wxsession.createSession(opts({ storage: legacy })), (e) => e.code === 'BAD_CONFIG' && /remove\(key\) is now called delete\(key\)/.test(e.message));
  await assert.rejects(wxsession.createSession(opts({ storage, storagePath: '/tmp/x.json' })), (e) => e.code === 'BAD_CONFIG');
}));

test('a storage that never answers delays nothing past the timeout', () => world(async ({ opts }) => {
  const never = () => new Promise(() => {});
  const t0 = Date.now();
  const session = await wxsession.createSession(opts({ storage: { get: never, set: never, delete: never }, timeout: 200 }));
  await session.login();
  await session.logout();
  assert.ok(Date.now() - t0 < 2000, String(Date.now() - t0));
}));

test('getCode failures and timeouts reject with codes', () => world(async ({ opts }) => {
  const failing = await wxsession.createSession(opts({ getCode: async () => { throw new Error('no'); } }));
  await assert.rejects(failing.request({ url: '/api/a' }), (e) => e.code === 'LOGIN_FAILED');
  const hanging = await wxsession.createSession(opts({ getCode: () => new Promise(() => {}), timeout: 100 }));
  await assert.rejects(hanging.request({ url: '/api/a' }), (e) => e.code === 'TIMEOUT');
}));

test('node rejects options that only make sense in a mini-program', async () => {
  await assert.rejects(wxsession.createSession({ baseUrl: 'http://x.test', loginUrl: '/l' }), (e) => e.code === 'BAD_CONFIG' && /getCode/.test(e.message));
  await assert.rejects(wxsession.createSession({ baseUrl: 'http://x.test', loginUrl: '/l', getCode: async () => 'c', checkSession: 'once' }), (e) => e.code === 'BAD_CONFIG');
});

test("signatures: WeChat's official JS-SDK example, rawData and push checks; nothing throws on junk", () => {
  const official = {
    jsapiTicket: 'sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg',
    nonceStr: 'Wm3WZYTPz0wzccnW', timestamp: 1414587457, url: 'http://mp.weixin.qq.com?params=value#fragment',
  };
  assert.equal(wxsession.signJsapi(official), '0f9de62fce790f9a083d5c99e95740ceb90c27ed');
  assert.throws(() => wxsession.signJsapi({ ...official, url: 42 }), (e) => e.code === 'BAD_INPUT');
  assert.throws(() => wxsession.signJsapi({ ...official, url: '' }), (e) => e.code === 'BAD_INPUT');
  // Long and non-ASCII URLs cross as UTF-8 bytes: the same digest as node's
  // own sha1 of the JS-SDK string, fragment dropped.
  const expected = (url) => createHash('sha1').update(`jsapi_ticket=${official.jsapiTicket}&noncestr=${official.nonceStr}` +
    `&timestamp=${official.timestamp}&url=${url.split('#')[0]}`).digest('hex');
  for (const url of ['https://h5.example.com/p?q=' + 'x'.repeat(8000) + '#top', 'https://h5.example.com/活动/页?名=值#片段',
    'https://h5.example.com/e?\u{1F600}=1']) {
    assert.equal(wxsession.signJsapi({ ...official, url }), expected(url), url.slice(0, 40));
  }
  const sessionKey = 'HyVFkGl5F5OQWJZZaNzBBg==';
  const raw = '{"nickName":"Band"}';
  const sig = createHash('sha1').update(raw + sessionKey).digest('hex');
  assert.equal(wxsession.verifyRawData(raw, sig, sessionKey), true);
  assert.equal(wxsession.verifyRawData(raw + ' ', sig, sessionKey), false);
  const push = createHash('sha1').update(['1409304348', 'mytoken', 'xxxxxx'].sort().join('')).digest('hex');
  assert.equal(wxsession.verifyPushSignature({ token: 'mytoken', timestamp: '1409304348', nonce: 'xxxxxx', signature: push }), true);
  for (const junk of [undefined, null, {}, { token: 1 }, { token: 'mytoken', timestamp: '1', nonce: 'x', signature: 'zz' }]) {
    assert.equal(wxsession.verifyPushSignature(junk), false);
  }
  assert.equal(wxsession.verifyRawData(null, undefined, 5), false);
  assert.match(wxsession.nonceStr(), /^[A-Za-z0-9]{16}$/);
  assert.throws(() => wxsession.nonceStr(0), (e) => e.code === 'BAD_INPUT');
});

test('the token goes only to baseUrl\'s origin and tokenOrigins; anything else is BAD_CONFIG before a login', () => world(async ({ backend, opts, codes }) => {
  const session = await wxsession.createSession(opts());
  for (const url of ['https://evil.test/x', '//evil.test/x', backend.url.replace('127.0.0.1', 'localhost') + '/api/a',
    `http://127.0.0.1:1@evil.test/`, 'http://evil.test\\@127.0.0.1/', 'javascript:alert(1)']) {
    await assert.rejects(session.request({ url }), (e) => e.code === 'BAD_CONFIG', url);
  }
  assert.equal(codes(), 0, 'a refused URL starts no login');
  // What concatenation sent elsewhere is a path on the backend now.
  for (const url of ['.evil.test/x', '@evil.test/x']) {
    await assert.rejects(session.request({ url }), (e) => e.code === 'HTTP_ERROR' && e.status === 404, url);
  }
  const err = await session.request({ url: 'https://evil.test/x?secret=s3cr3t' }).catch((e) => e);
  assert.doesNotMatch(err.message, /s3cr3t/);
  assert.match(err.message, /tokenOrigins/);
  await assert.rejects(wxsession.createSession(opts({ loginUrl: 'https://evil.test/login' })), (e) => e.code === 'BAD_CONFIG' && /loginUrl/.test(e.message));
  await assert.rejects(wxsession.createSession(opts({ tokenOrigins: ['https://ok.test/'] })), (e) => e.code === 'BAD_CONFIG' && /tokenOrigins/.test(e.message));
}));

test('a NETWORK failure names the URL without its query', () => world(async ({ opts }) => {
  const session = await wxsession.createSession(opts({ tokenOrigins: ['http://127.0.0.1:9'] }));
  const err = await session.request({ url: 'http://127.0.0.1:9/x?code=s3cr3t', data: { more: 's3cr3t' } }).catch((e) => e);
  assert.equal(err.code, 'NETWORK');
  assert.match(err.message, /^GET http:\/\/127\.0\.0\.1:9\/x failed/);
  assert.doesNotMatch(err.message, /s3cr3t/);
}));

test('createSession options that are NaN, Infinity, BigInt, null or mistyped are BAD_CONFIG naming the key', () => world(async ({ opts }) => {
  for (const [key, value] of [['timeout', NaN], ['timeout', Infinity], ['maxRelogin', 1n], ['expiryMargin', -Infinity],
    ['baseUrl', null], ['loginUrl', null], ['reloginOn', [401, NaN]], ['tokenOrigins', 'https://a.test'], ['timeout', 1.5], ['checkSession', 1]]) {
    await assert.rejects(wxsession.createSession(opts({ [key]: value })),
      (e) => e.code === 'BAD_CONFIG' && e.name === 'WxSessionError' && e.message.includes(key), `${key}: ${String(value)}`);
  }
  await assert.rejects(wxsession.createSession(null), (e) => e.code === 'BAD_CONFIG');
  await assert.rejects(wxsession.createSession(opts({ timout: 5 })), (e) => e.code === 'BAD_CONFIG' && /did you mean timeout/.test(e.message));
}));

test('an exchange answer with a token no header can carry, or an expiresIn that is not a positive number, is EXCHANGE_FAILED; absurd lifetimes are clamped', () => world(async ({ opts }) => {
  const answer = { token: 't', expiresIn: 7200 };
  const map = new Map();
  const storage = { get: (k) => map.get(k) || null, set: (k, v) => { map.set(k, v); }, delete: (k) => { map.delete(k); } };
  const session = await wxsession.createSession(opts({ loginUrl: undefined, exchange: async () => answer, storage }));
  for (const bad of [{ token: '€uro' }, { token: 'a\r\nX-Evil: 1' }, { token: 'a b' }, { token: 't', expiresIn: '7200' },
    { token: 't', expiresIn: -1 }, { token: 't', expiresIn: 0 }, { token: 't', expiresIn: NaN }, { token: 't', expiresIn: {} }]) {
    Object.assign(answer, { expiresIn: undefined }, bad);
    await assert.rejects(session.login({ force: true }), (e) => e.code === 'EXCHANGE_FAILED', JSON.stringify(bad));
    assert.equal(session.state, 'anonymous');
  }
  const lifetime = (expiresIn) => {
    Object.assign(answer, { token: 't', expiresIn });
    return session.login({ force: true }).then(() => {
      const t = JSON.parse(map.get('wxsession'));
      return t.expiresAt === null ? null : t.expiresAt - t.issuedAt;
    });
  };
  assert.equal(await lifetime(1e300), 365 * 24 * 3600 * 1000);
  assert.equal(await lifetime(1e-9), 1000);
  assert.equal(await lifetime(7200.5), 7200500);
  assert.equal(await lifetime(undefined), null, 'no expiresIn: the token lives until a 401, as documented');
}));

test('verifyRawData and verifyPushSignature: an empty session key or token never verifies', () => {
  const raw = '{"nickName":"Band"}';
  assert.equal(wxsession.verifyRawData(raw, createHash('sha1').update(raw).digest('hex'), ''), false);
  const push = createHash('sha1').update(['', '1409304348', 'xxxxxx'].sort().join('')).digest('hex');
  assert.equal(wxsession.verifyPushSignature({ token: '', timestamp: '1409304348', nonce: 'xxxxxx', signature: push }), false);
});

test('engines: Node 20 or later, in the workspace and in the published package', () => {
  const root = JSON.parse(readFileSync(join(PKG, '..', 'package.json'), 'utf8'));
  const published = JSON.parse(readFileSync(join(PKG, 'package.json'), 'utf8'));
  assert.equal(root.engines.node, '>=20');
  assert.equal(published.engines.node, '>=20');
  assert.ok(Number(process.versions.node.split('.')[0]) >= 20, 'the tests run on the floor we claim or above');
});
