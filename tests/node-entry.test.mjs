// The node entry of the built package (pkg/node/index.cjs): fetch, memory
// or file storage, the same core and error codes as the mini-program.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
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
  assert.equal(manifest.exports['.'].node, './node/index.cjs');
  for (const f of ['miniprogram_dist/index.js', 'miniprogram_dist/wxsession_bg.wasm.br', 'web/index.js', 'index.d.ts']) {
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

test('a token in a JSON file survives a restart (atomic writes, no temp files left)', () => world(async ({ opts, dir, codes }) => {
  const storagePath = join(dir, 'session.json');
  await (await wxsession.createSession(opts({ storagePath }))).request({ url: '/api/a' });
  const again = await wxsession.createSession(opts({ storagePath }));
  assert.equal(again.state, 'authenticated');
  await again.request({ url: '/api/a' });
  assert.equal(codes(), 1);
  assert.deepEqual(Object.keys(JSON.parse(readFileSync(storagePath, 'utf8'))), ['wxsession']);
  writeFileSync(storagePath, '{corrupt');
  const fresh = await wxsession.createSession(opts({ storagePath }));
  assert.equal(fresh.state, 'anonymous');
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
