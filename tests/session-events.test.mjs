// createSession({ onEvent }): one report per backend call attempt, login and
// wx.checkSession, in the mini-program sandbox and the node entry. Never a
// token, a login code or a body; a hook that throws, rejects or is slow
// never breaks the session.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { miniProgramWorld, settleAll, failOnUncaught, PKG } from './support/harness.mjs';
import { WeChatAccounts } from './support/wechat-accounts.mjs';
import { startAppBackend } from './support/app-backend.mjs';

failOnUncaught(after, assert);

async function withWorld(opts, body) {
  const world = await miniProgramWorld(opts);
  try { await body(world); } finally { await world.close(); }
}

// Hooks run after the turn that produced them: let them.
const settle = () => new Promise((r) => setTimeout(r, 20));
const KEYS = new Set(['type', 'url', 'status', 'durationMs', 'attempt', 'error']);

test('each attempt, login and check is reported once, with what happened and never a token, code or body', () => withWorld({}, async ({ createSession, wx, backend, accounts }) => {
  const events = [];
  const session = await createSession({ onEvent: (e) => events.push(e) });
  await Promise.all([session.request({ url: '/api/a?secret=s3cr3t' }), session.request({ url: '/api/b', method: 'POST', data: { body: 'private' } })]);
  await session.request({ url: '/api/fail' }).catch(() => {});
  backend.revokeAll();
  const filePath = wx.writeTempFile('photo');
  await session.uploadFile({ url: '/api/upload', filePath, name: 'f', formData: { caption: 'private' } });
  await session.downloadFile({ url: '/api/files/4' });
  await settle();

  const shape = events.map((e) => [e.type, e.url && e.url.replace(backend.url, ''), e.status, e.attempt, e.error]);
  assert.deepEqual(shape, [
    ['login', undefined, undefined, 1, undefined],
    ['request', '/api/a', 200, 1, undefined],
    ['request', '/api/b', 200, 1, undefined],
    ['request', '/api/fail', 500, 1, 'HTTP_ERROR'],
    ['upload', '/api/upload', 401, 1, 'UNAUTHORIZED'],
    ['relogin', undefined, undefined, 1, undefined],
    ['upload', '/api/upload', 201, 2, undefined],
    ['download', '/api/files/4', 200, 1, undefined],
  ]);
  for (const e of events) {
    assert.ok(Object.keys(e).every((k) => KEYS.has(k)), JSON.stringify(e));
    assert.ok(Number.isInteger(e.durationMs) && e.durationMs >= 0, JSON.stringify(e));
  }
  // No secret of any kind, in any event.
  const text = JSON.stringify(events);
  const secrets = [...backend.state.tokens.keys(), ...accounts.codes.keys(), 's3cr3t', 'private', 'photo', 'unauthorized', 'Bearer'];
  assert.ok(secrets.length > 4);
  for (const s of secrets) assert.ok(!text.includes(s), 'an event holds ' + s);
  assert.equal(wx.calls.login, 2);
}));

test('a failed wx.checkSession is reported SESSION_EXPIRED and its login is a relogin; failed logins count their attempts', () => withWorld({}, async (world) => {
  await (await world.createSession()).login();
  world.restart();
  world.accounts.sessionValid = false;
  const events = [];
  const session = await world.createSession({ onEvent: (e) => events.push(e) });
  world.backend.state.failNextLogins = 1;
  await assert.rejects(session.request({ url: '/api/a' }), (e) => e.code === 'EXCHANGE_FAILED');
  await session.request({ url: '/api/a' });
  world.wx.knobs.failLogins = 1;
  await session.login({ force: true }).catch(() => {});
  await settle();
  assert.deepEqual(events.map((e) => [e.type, e.attempt, e.error]), [
    ['checkSession', 1, 'SESSION_EXPIRED'],
    ['relogin', 1, 'EXCHANGE_FAILED'],
    ['relogin', 2, undefined],
    ['request', 1, undefined],
    ['login', 1, 'LOGIN_FAILED'],
  ]);
}));

test('a hook that throws, rejects, never settles or blocks never breaks the session', () => withWorld({}, async ({ createSession, wx }) => {
  const hooks = {
    throws: () => { throw new Error('monitoring is down'); },
    rejects: async () => { throw new Error('monitoring is down'); },
    hangs: () => new Promise(() => {}),
    blocks: () => { const end = Date.now() + 20; while (Date.now() < end) { /* a slow synchronous reporter */ } },
  };
  for (const [name, onEvent] of Object.entries(hooks)) {
    const session = await createSession({ onEvent });
    const settled = await settleAll([session.request({ url: '/api/a' }), session.request({ url: '/api/fail' }),
      session.downloadFile({ url: '/api/files/1' })]);
    assert.deepEqual(settled.map((s) => s.ok), [true, false, true], name);
    assert.equal(settled[1].error.code, 'HTTP_ERROR', name);
    await session.logout();
  }
  await settle();
  assert.equal(wx.calls.login, 4);
}));

test('onEvent must be a function; without it nothing is reported (and the hot path stays as it was)', () => withWorld({}, async ({ createSession }) => {
  await assert.rejects(createSession({ onEvent: 'console.log' }), (e) => e.code === 'BAD_CONFIG' && /onEvent must be a function/.test(e.message));
  await assert.rejects(createSession({ onEvnt: () => {} }), (e) => e.code === 'BAD_CONFIG' && /did you mean onEvent/.test(e.message));
}));

test('the node entry reports its requests and logins the same way', async () => {
  const wxsession = createRequire(import.meta.url)(join(PKG, 'node', 'index.cjs'));
  const accounts = new WeChatAccounts();
  const backend = await startAppBackend({ accounts });
  try {
    const events = [];
    const session = await wxsession.createSession({
      baseUrl: backend.url, loginUrl: '/auth/login', getCode: async () => accounts.issueCode(), onEvent: (e) => events.push(e),
    });
    await session.request({ url: '/api/a?code=x' });
    await settle();
    assert.deepEqual(events.map((e) => [e.type, e.url, e.status]), [['login', undefined, undefined], ['request', backend.url + '/api/a', 200]]);
  } finally {
    await backend.close();
  }
});
