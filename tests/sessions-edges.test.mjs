// wechat.sessions at its edges, on the built package and real Express and
// node:http: body parsers that already read the body as text or bytes, a
// route that throws or rejects behind the guard, an error code that is not
// ours, and tokens of the wrong length refused before they reach the core.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import express from 'express';
import { startFakeWechat } from './support/fake-wechat-api.mjs';
import { wxsession, APP } from './support/sessions-kit.mjs';
import { listen } from './support/sessions-servers.mjs';

let fake, wechat;
before(async () => {
  fake = await startFakeWechat();
  wechat = new wxsession.Wechat({ ...APP, store: new wxsession.Store(), apiBase: fake.url });
});
after(async () => {
  await wechat?.close();
  await fake?.close();
});

const login = (base, body, type = 'application/json') =>
  fetch(base + '/auth/login', { method: 'POST', headers: { 'content-type': type }, body });

test('loginHandler behind express.text() or express.raw() parses the body they read', async () => {
  for (const parser of [express.text({ type: '*/*' }), express.raw({ type: '*/*' })]) {
    const app = express();
    app.post('/auth/login', parser, wechat.sessions.loginHandler({ limit: 1024 }));
    const srv = await listen(http.createServer(app));
    try {
      const ok = await login(srv.base, JSON.stringify({ code: fake.issueCode({ openid: 'o_parsed' }) }));
      const body = await ok.json();
      assert.equal(ok.status, 200, JSON.stringify(body));
      assert.equal((await wechat.sessions.verify(body.token)).openid, 'o_parsed');
      const bad = await login(srv.base, 'not json');
      assert.equal(bad.status, 400);
      assert.deepEqual(await bad.json(), { code: 'BAD_INPUT' });
      const big = await login(srv.base, JSON.stringify({ code: 'x', pad: 'p'.repeat(2000) }));
      assert.equal(big.status, 413);
      assert.deepEqual(await big.json(), { code: 'BAD_INPUT' });
    } finally {
      await srv.close();
    }
  }
});

test('a route that throws or rejects behind the guard gets a coded 500, and the process goes on', async () => {
  const { token } = await wechat.sessions.login(fake.issueCode({ openid: 'o_throw' }));
  const guard = wechat.sessions.middleware();
  const unhandled = [];
  const onUnhandled = (e) => unhandled.push(e);
  process.on('unhandledRejection', onUnhandled);
  const routes = {
    throws: () => { throw new Error('route bug'); },
    rejects: async () => { throw new Error('db down'); },
  };
  const srv = await listen(http.createServer((req, res) => guard(req, res, routes[req.url.slice(1)])));
  try {
    for (const path of Object.keys(routes)) {
      const res = await fetch(srv.base + '/' + path, { headers: { authorization: 'Bearer ' + token }, signal: AbortSignal.timeout(5000) });
      assert.equal(res.status, 500, path);
      assert.deepEqual(await res.json(), { code: 'INTERNAL' }, path);
    }
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(unhandled, []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
    await srv.close();
  }
});

test('an error code or status that is not ours reaches no client: the data() hook failing is 500 INTERNAL', async () => {
  // A driver's own error, and an http-errors style 413: only the handler's
  // own body checks answer 413.
  for (const thrown of [Object.assign(new Error('Access denied for user'), { code: 'ER_ACCESS_DENIED_ERROR' }),
    Object.assign(new Error('Payload Too Large'), { status: 413, statusCode: 413 })]) {
    const app = express();
    app.post('/auth/login', express.json(), wechat.sessions.loginHandler({ data: () => { throw thrown; } }));
    const srv = await listen(http.createServer(app));
    try {
      const res = await login(srv.base, JSON.stringify({ code: fake.issueCode({ openid: 'o_hook' }) }));
      assert.equal(res.status, 500, thrown.message);
      assert.deepEqual(await res.json(), { code: 'INTERNAL' });
    } finally {
      await srv.close();
    }
  }
});

test('a token that is not 43 characters is UNAUTHORIZED before the core sees it', async () => {
  const { token } = await wechat.sessions.login(fake.issueCode({ openid: 'o_len' }));
  // Count what reaches the core: a refused token must never be copied into the wasm.
  const core = wechat.sessions._core;
  const seen = [];
  const spies = ['startVerify', 'startRevoke', 'startDecrypt'].map((name) => {
    const real = core[name];
    core[name] = function (...args) { seen.push(name); return real.apply(this, args); };
    return () => { core[name] = real; };
  });
  try {
    const huge = 'A'.repeat(8 * 1024 * 1024);
    for (const bad of [token + 'A', token.slice(1), huge, '', undefined, 42]) {
      for (const call of [(t) => wechat.sessions.verify(t), (t) => wechat.sessions.revoke(t), (t) => wechat.sessions.decrypt(t, 'AAAA', 'AAAA')]) {
        await assert.rejects(call(bad), (e) => e.code === 'UNAUTHORIZED');
      }
    }
    assert.deepEqual(seen, []);
    assert.equal((await wechat.sessions.verify(token)).openid, 'o_len');
    assert.deepEqual(seen, ['startVerify'], 'the spy sees calls that do reach the core');
  } finally {
    spies.forEach((restore) => restore());
  }
});
