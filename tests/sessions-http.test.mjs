// wechat.sessions' HTTP handlers under Express, Koa and bare node:http,
// with sessions in memory, a FileStore and a real redis-server: the same
// routes answer the same way everywhere; hostile requests (10 MB bodies,
// header-breaking tokens) change nothing; Redis killed mid-run costs coded
// 503s and no acknowledged login.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startFakeWechat } from './support/fake-wechat-api.mjs';
import { startRedis } from './support/redis-server.mjs';
import { wxsession, APP, TOKEN_SHAPE, keyRing } from './support/sessions-kit.mjs';
import { FRAMEWORKS, listen, rawRequest, bigUpload } from './support/sessions-servers.mjs';

const CHALLENGE = 'Bearer error="invalid_token"';
let fake, redis, dir, n = 0, ring;

before(async () => {
  fake = await startFakeWechat();
  redis = await startRedis();
  dir = mkdtempSync(join(tmpdir(), 'wxsession-sessions-http-'));
  ring = keyRing(fake);
});
after(async () => {
  await fake?.close();
  await redis?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const STORES = {
  memory: () => new wxsession.Store(),
  FileStore: () => new wxsession.FileStore({ fileStorePath: join(dir, `s${n++}.json`), appId: APP.appId }),
  redis: () => new wxsession.RedisStore({ url: redis.url, appId: APP.appId, prefix: 'http' + n++ }),
};

async function serve(framework, store, { appId = APP.appId, appSecret = APP.appSecret, apiBase } = {}) {
  const wechat = new wxsession.Wechat({ appId, appSecret, store, apiBase: apiBase || fake.url });
  const server = await listen(FRAMEWORKS[framework](wechat.sessions));
  return { ...server, wechat, sessions: wechat.sessions, close: async () => { await server.close(); await store.destroy(); } };
}

const post = (base, body, headers = {}) => fetch(base + '/auth/login', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
const get = (base, token, path = '/api/me') => fetch(base + path, { headers: token === undefined ? {} : { authorization: token } });

/** A reply a client may see: JSON { code } at most with an errcode; no stack, no secret. */
async function coded(res, status, code) {
  const text = await res.text();
  assert.equal(res.status, status, text);
  assert.match(res.headers.get('content-type'), /^application\/json/);
  const body = JSON.parse(text);
  assert.equal(body.code, code, text);
  assert.deepEqual(Object.keys(body).filter((k) => k !== 'errcode'), ['code'], text);
  assert.ok(!/stack|\bat \S+ \(|node:internal/.test(text), text);
  for (const s of ring.keys) assert.ok(!text.includes(s), 'a secret in the reply');
  return body;
}

async function login(base, openid) {
  const code = fake.issueCode({ openid });
  const res = await post(base, JSON.stringify({ code }));
  const body = await res.json();
  ring.note(openid);
  assert.equal(res.status, 200, JSON.stringify(body));
  return body;
}

for (const framework of Object.keys(FRAMEWORKS)) {
  for (const kind of Object.keys(STORES)) {
    test(`${framework} + ${kind}: login 200, guard 200/401 with the challenge, 400 without a code, 502 when WeChat refuses`, async () => {
      const srv = await serve(framework, STORES[kind]());
      try {
        const openid = `o_${framework}_${kind}`;
        const res = await post(srv.base, JSON.stringify({ code: fake.issueCode({ openid }), nickName: 'ignored' }));
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('cache-control'), 'no-store');
        const body = await res.json();
        assert.deepEqual(Object.keys(body).sort(), ['expiresIn', 'token'], 'the client gets its token and nothing of WeChat\'s');
        assert.match(body.token, TOKEN_SHAPE);
        assert.equal(body.expiresIn, 7 * 86400);
        ring.note(openid);

        for (const scheme of ['Bearer ', 'bearer ', 'BEARER  ']) {
          const ok = await get(srv.base, scheme + body.token);
          assert.equal(ok.status, 200, scheme);
          assert.deepEqual(await ok.json(), { openid, data: null });
        }
        const forged = randomBytes(32).toString('base64url');
        for (const auth of [undefined, '', 'Bearer ' + forged, body.token, 'Basic ' + body.token, 'Bearer ' + body.token + ' extra', 'Bearer ' + body.token.slice(1)]) {
          const r = await get(srv.base, auth);
          assert.equal(r.headers.get('www-authenticate'), CHALLENGE, String(auth));
          await coded(r, 401, 'UNAUTHORIZED');
        }

        for (const bad of ['{}', '{"code":""}', '{"code":42}', 'not json', '[]', '']) await coded(await post(srv.base, bad), 400, 'BAD_INPUT');
        const wrongMethod = await fetch(srv.base + '/auth/login');
        assert.equal(wrongMethod.headers.get('allow'), 'POST');
        await coded(wrongMethod, 405, 'BAD_INPUT');

        const used = await post(srv.base, JSON.stringify({ code: 'never-issued' }));
        assert.equal((await coded(used, 502, 'WECHAT_API')).errcode, 40029);
        fake.failNext('code2Session', { httpStatus: 500 });
        await coded(await post(srv.base, JSON.stringify({ code: fake.issueCode({ openid }) })), 502, 'HTTP_ERROR');

        assert.equal(await srv.sessions.revokeUser(openid), 1);
        await coded(await get(srv.base, 'Bearer ' + body.token), 401, 'UNAUTHORIZED');
      } finally {
        await srv.close();
      }
    });
  }

  test(`${framework}: 10 MB bodies to the login route are refused 413 without being read, and the server keeps answering`, async () => {
    const srv = await serve(framework, STORES.memory());
    try {
      const { token } = await login(srv.base, 'o_big_' + framework);
      const TEN_MB = 10 * 1024 * 1024;
      const uploads = [bigUpload(srv.port, TEN_MB), bigUpload(srv.port, TEN_MB, { chunked: true }), bigUpload(srv.port, TEN_MB), bigUpload(srv.port, TEN_MB, { chunked: true })];
      const latencies = [];
      for (let i = 0; i < 20; i++) {
        const t0 = performance.now();
        assert.equal((await get(srv.base, 'Bearer ' + token)).status, 200);
        latencies.push(performance.now() - t0);
      }
      for (const up of await Promise.all(uploads)) {
        assert.equal(up.status, 413, JSON.stringify({ ...up, body: up.body.slice(0, 80) }));
        assert.equal(up.headers.connection, 'close');
        assert.deepEqual(JSON.parse(up.body), { code: 'BAD_INPUT' });
      }
      const viaFetch = await post(srv.base, Buffer.alloc(TEN_MB, 0x20));
      await coded(viaFetch, 413, 'BAD_INPUT');
      assert.ok(srv.maxRead() < 1024 * 1024, `a connection read ${srv.maxRead()} bytes`);
      assert.ok(Math.max(...latencies) < 2000, `guarded requests took up to ${Math.max(...latencies).toFixed(0)} ms meanwhile`);
      assert.equal((await post(srv.base, JSON.stringify({ code: fake.issueCode({ openid: 'o_after' }) }))).status, 200, 'logins still work');
    } finally {
      await srv.close();
    }
  });

  test(`${framework}: header-breaking bytes in Authorization are 400 or 401, never reflected, never a session`, async () => {
    const srv = await serve(framework, STORES.memory());
    try {
      const { token } = await login(srv.base, 'o_raw_' + framework);
      const req = (auth) => `GET /api/me HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${auth}\r\nConnection: close\r\n\r\n`;
      const okay = await rawRequest(srv.port, req('Bearer ' + token));
      assert.equal(okay.status, 200, 'the raw client works');
      const euro = Buffer.from('Bearer ' + token.slice(0, 40) + '€', 'utf8').toString('latin1');
      const cases = [req(euro), req('Bearer ' + token + '\0'), req('Bearer ' + token.slice(0, 20) + '\n' + token.slice(20)),
        req('Bearer ' + token + '\r\n X-Folded: 1'), req('Bearer ' + token + ', Bearer ' + token), req('Bearer\t' + token + '\x7f')];
      for (const raw of cases) {
        const r = await rawRequest(srv.port, raw);
        assert.ok(r.status === 400 || r.status === 401, `${JSON.stringify(raw)} -> ${r.status}`);
        if (r.status === 401) {
          assert.equal(r.headers['www-authenticate'], CHALLENGE);
          assert.deepEqual(JSON.parse(r.body), { code: 'UNAUTHORIZED' });
        }
        assert.ok(!Object.values(r.headers).some((v) => v.includes(token.slice(0, 20))), 'no header echoes the token');
      }
    } finally {
      await srv.close();
    }
  });
}

test('redis: the token is stored nowhere in clear, the session_key only in the user\'s record, each session key with its ttl', async () => {
  const store = STORES.redis();
  const srv = await serve('express', store);
  const { createClient } = await import('redis');
  const admin = createClient({ url: redis.url });
  await admin.connect();
  try {
    const { token } = await login(srv.base, 'o_layout');
    const key = ring.note('o_layout');
    const keys = await admin.keys('*');
    const values = Object.fromEntries(await Promise.all(keys.map(async (k) => [k, (await admin.type(k)) === 'string' ? await admin.get(k) : ''])));
    assert.ok(!Object.entries(values).some(([k, v]) => k.includes(token) || v.includes(token)), 'the token is not in Redis');
    const withKey = Object.keys(values).filter((k) => values[k].includes(key));
    assert.deepEqual(withKey.map((k) => k.replace(/^http\d+:/, '')), [`${APP.appId}:mp:o_layout`]);
    const session = keys.find((k) => k.includes(':sess:'));
    assert.ok(session, keys.join(' '));
    const ttl = await admin.pTTL(session);
    assert.ok(ttl > 7 * 86400_000 - 60_000 && ttl <= 7 * 86400_000, `PTTL ${ttl}`);
  } finally {
    await admin.quit();
    await srv.close();
  }
});

test('redis: a token of another app on the same Redis is 401 here', async () => {
  const other = await startFakeWechat({ appId: 'wx_other_app', appSecret: 'other_secret' });
  const mine = await serve('express', STORES.redis());
  const theirs = await serve('express', new wxsession.RedisStore({ url: redis.url, appId: 'wx_other_app', prefix: 'shared' }), { appId: 'wx_other_app', appSecret: 'other_secret', apiBase: other.url });
  try {
    const r = await post(theirs.base, JSON.stringify({ code: other.issueCode({ openid: 'o_both' }) }));
    const { token } = await r.json();
    assert.equal((await get(theirs.base, 'Bearer ' + token)).status, 200);
    await coded(await get(mine.base, 'Bearer ' + token), 401, 'UNAUTHORIZED');
  } finally {
    await mine.close();
    await theirs.close();
    await other.close();
  }
});
