// session.uploadFile() and session.downloadFile() of the built mini-program
// entry in the strict sandbox, over the fake wx.uploadFile/wx.downloadFile
// and a real HTTP backend: request()'s guarantees, progress and abort.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { miniProgramWorld, settleAll, failOnUncaught, PKG } from './support/harness.mjs';

// Nothing here may throw outside a promise.
failOnUncaught(after, assert);

async function withWorld(opts, body) {
  const world = await miniProgramWorld(opts);
  // Every upload and download as the device would send it: where, with what token.
  const sent = [];
  for (const api of ['uploadFile', 'downloadFile']) {
    const real = world.wx[api];
    world.wx[api] = (o) => {
      sent.push({ api, url: o.url, auth: o.header && o.header.Authorization });
      return real.call(world.wx, o);
    };
  }
  try { await body(world, sent); } finally { await world.close(); }
}

const photo = Buffer.from('\x89PNG not really a photo');
// Objects made inside the sandbox have its realm's prototypes.
const plain = (v) => JSON.parse(JSON.stringify(v));

test('an upload before any login shares the one login with requests, carries the token and resolves { statusCode, data }', () => withWorld({ latency: 5 }, async ({ createSession, wx, backend }, sent) => {
  const session = await createSession();
  const filePath = wx.writeTempFile(photo);
  const progress = [];
  const [up, a, b] = await Promise.all([
    session.uploadFile({ url: '/api/upload', filePath, name: 'avatar', formData: { album: 'me' }, onProgress: (e) => progress.push(e) }),
    session.request({ url: '/api/a' }),
    session.request({ url: '/api/b' }),
  ]);
  assert.equal(wx.calls.login, 1);
  assert.equal(backend.state.counts.exchange, 1);
  assert.ok(a.ok && b.ok);
  assert.deepEqual(Object.keys(up).sort(), ['data', 'statusCode']);
  assert.equal(up.statusCode, 201);
  assert.equal(typeof up.data, 'string', 'an upload answers a string body, as wx gives it');
  const body = JSON.parse(up.data);
  assert.deepEqual(body.parts, { album: 'me', avatar: { size: photo.length, text: photo.toString() } });
  assert.match(sent[0].auth, /^Bearer \S+$/);
  assert.deepEqual(plain(progress.at(-1)), { progress: 100, totalBytesSent: photo.length, totalBytesExpectedToSend: photo.length });
  assert.ok(progress.every((e) => Object.keys(e).join() === 'progress,totalBytesSent,totalBytesExpectedToSend'), JSON.stringify(progress));
}));

test('a download resolves the temp file wx wrote (or the filePath given), with progress', () => withWorld({}, async ({ createSession, wx }) => {
  const session = await createSession();
  const progress = [];
  const got = await session.downloadFile({ url: '/api/files/1000', onProgress: (e) => progress.push(e) });
  assert.deepEqual(Object.keys(got).sort(), ['statusCode', 'tempFilePath']);
  assert.equal(got.statusCode, 200);
  assert.equal(wx.files.get(got.tempFilePath).length, 1000);
  assert.deepEqual(plain(progress.at(-1)), { progress: 100, totalBytesWritten: 1000, totalBytesExpectedToWrite: 1000 });
  const kept = await session.downloadFile({ url: '/api/files/10', filePath: wx.env.USER_DATA_PATH + '/a.bin' });
  assert.deepEqual(plain(kept), { statusCode: 200, filePath: 'wxfile://usr/a.bin' });
  assert.equal(wx.files.get('wxfile://usr/a.bin').length, 10);
}));

test('a revoke: an upload\'s and a download\'s 401 join one shared re-login with requests, each replayed once', () => withWorld({ backendLatency: 5 }, async ({ createSession, wx, backend }, sent) => {
  const session = await createSession();
  await session.login();
  backend.revokeAll();
  const filePath = wx.writeTempFile(photo);
  const [up, down, ...rest] = await Promise.all([
    session.uploadFile({ url: '/api/upload', filePath, name: 'f' }),
    session.downloadFile({ url: '/api/files/5' }),
    ...Array.from({ length: 5 }, () => session.request({ url: '/api/x' })),
  ]);
  assert.equal(up.statusCode, 201);
  assert.equal(down.statusCode, 200);
  assert.ok(rest.every((r) => r.ok));
  assert.equal(wx.calls.login, 2, 'one login, one shared re-login');
  assert.equal(backend.state.counts.exchange, 2);
  assert.deepEqual([wx.calls.uploadFile, wx.calls.downloadFile], [2, 2], 'each replayed once');
  assert.notEqual(sent[0].auth, sent[2].auth, 'the replay carries the new token');
}));

test('still 401 after the re-login: UNAUTHORIZED with the status and the string body, never a loop', () => withWorld({}, async ({ createSession, wx }) => {
  const session = await createSession({ loginUrl: undefined, exchange: async () => ({ token: 'forged' }) });
  const filePath = wx.writeTempFile(photo);
  const err = await session.uploadFile({ url: '/api/upload', filePath, name: 'f' }).catch((e) => e);
  assert.equal(err.code, 'UNAUTHORIZED');
  assert.equal(err.status, 401);
  assert.equal(err.data, '{"error":"unauthorized"}');
  assert.equal(wx.calls.uploadFile, 2);
  assert.equal(wx.calls.login, 2);
}));

test('a transfer that never answers rejects TIMEOUT within its timeout, and its task is aborted', () => withWorld({}, async ({ createSession, wx }) => {
  const session = await createSession();
  await session.login();
  wx.knobs.hangTransfers = true;
  const aborted = [];
  const real = wx.downloadFile;
  wx.downloadFile = (o) => {
    const task = real.call(wx, o);
    return Object.assign({}, task, { abort: () => { aborted.push(o.url); task.abort(); } });
  };
  const t0 = Date.now();
  await assert.rejects(session.downloadFile({ url: '/api/files/1', timeout: 100 }), (e) => e.code === 'TIMEOUT');
  assert.ok(Date.now() - t0 < 1500);
  assert.equal(aborted.length, 1, 'the watchdog released the connection');
}));

test('abort(): in flight it rejects ABORTED and aborts the wx task; waiting for the login it never sends, and the login goes on', () => withWorld({ latency: 20 }, async ({ createSession, wx }) => {
  const session = await createSession();
  const filePath = wx.writeTempFile(photo);
  // Waiting for the login: nothing is sent.
  const waiting = session.uploadFile({ url: '/api/upload', filePath, name: 'f' });
  const other = session.request({ url: '/api/a' });
  waiting.abort();
  const err = await waiting.catch((e) => e);
  assert.equal(err.code, 'ABORTED');
  assert.match(err.message, /upload of http:\/\/127\.0\.0\.1:\d+\/api\/upload was aborted/);
  assert.ok((await other).ok, 'the shared login went on');
  assert.equal(wx.calls.uploadFile, 0);
  // In flight: the task is aborted, and its late fail callback changes nothing.
  wx.knobs.hangTransfers = true;
  const inFlight = session.downloadFile({ url: '/api/files/1' });
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(wx.calls.downloadFile, 1);
  inFlight.abort();
  inFlight.abort();
  await assert.rejects(inFlight, (e) => e.code === 'ABORTED');
  wx.knobs.hangTransfers = false;
  // Aborting a settled transfer does nothing.
  const done = session.downloadFile({ url: '/api/files/1' });
  await done;
  done.abort();
  assert.equal((await done).statusCode, 200);
}));

test('the token goes only to the backend\'s origin: another origin is BAD_CONFIG and nothing is sent', () => withWorld({}, async ({ createSession, wx }, sent) => {
  const seen = [];
  const other = createServer((req, res) => { seen.push(req.headers.authorization); res.end('ok'); });
  await new Promise((r) => other.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${other.address().port}`;
  try {
    const session = await createSession();
    const filePath = wx.writeTempFile(photo);
    for (const call of [
      () => session.uploadFile({ url: origin + '/steal', filePath, name: 'f' }),
      () => session.downloadFile({ url: '//evil.test/x' }),
      () => session.downloadFile({ url: 'https://evil.test/x?secret=s3cr3t' }),
    ]) {
      const err = await call().catch((e) => e);
      assert.equal(err.code, 'BAD_CONFIG');
      assert.doesNotMatch(err.message, /s3cr3t/);
    }
    assert.equal(wx.calls.login + sent.length, 0, 'refused before a login or a transfer');
    const allowed = await createSession({ tokenOrigins: [origin] });
    assert.equal((await allowed.downloadFile({ url: origin + '/file' })).statusCode, 200);
    assert.match(seen[0], /^Bearer \S+$/);
  } finally {
    await new Promise((r) => other.close(r));
  }
}));

test('options are checked before anything happens: BAD_CONFIG naming the key, and the promise still has abort()', () => withWorld({}, async ({ createSession, wx }) => {
  const session = await createSession();
  const filePath = wx.writeTempFile(photo);
  const cases = [
    [undefined, /uploadFile needs \{ url, filePath, name \}/],
    [{ url: '/api/upload', filePath }, /needs \{ url, filePath, name \}/],
    [{ url: '/api/upload', filepath: filePath, name: 'f' }, /unknown option filepath \(did you mean filePath\?\)/],
    [{ url: '/api/upload', filePath: 7, name: 'f' }, /filePath must be a non-empty string, not 7/],
    [{ url: '/api/upload', filePath, name: 'f', formData: null }, /formData must be an object, not null/],
    [{ url: '/api/upload', filePath, name: 'f', timeout: 0 }, /timeout must be a whole number from 1 to 600000 ms/],
    [{ url: '/api/upload', filePath, name: 'f', onProgress: 'yes' }, /onProgress must be a function/],
  ];
  for (const [options, message] of cases) {
    const p = session.uploadFile(options);
    assert.equal(typeof p.abort, 'function');
    p.abort();
    await assert.rejects(p, (e) => e.code === 'BAD_CONFIG' && message.test(e.message), String(message));
  }
  await assert.rejects(session.downloadFile({ url: '' }), (e) => e.code === 'BAD_CONFIG');
  assert.equal(wx.calls.login + wx.calls.uploadFile + wx.calls.downloadFile, 0);
}));

test('wx\'s own failures: a file that does not exist is NETWORK with its errMsg; a throwing onProgress breaks nothing', () => withWorld({}, async ({ createSession, wx }) => {
  const session = await createSession();
  const err = await session.uploadFile({ url: '/api/upload', filePath: 'wxfile://tmp_missing', name: 'f' }).catch((e) => e);
  assert.equal(err.code, 'NETWORK');
  assert.match(err.message, /^uploadFile:fail file not found/);
  const settled = await settleAll([
    session.uploadFile({ url: '/api/upload', filePath: wx.writeTempFile(photo), name: 'f', onProgress: () => { throw new Error('app bug'); } }),
    session.downloadFile({ url: '/api/files/3', onProgress: () => { throw new Error('app bug'); } }),
  ]);
  assert.ok(settled.every((s) => s.ok), JSON.stringify(settled));
}));

test('web and node sessions have no uploadFile: there is no wx.uploadFile to run it', () => withWorld({}, async ({ createSession }) => {
  const session = await createSession();
  assert.equal(typeof session.uploadFile, 'function');
  const node = createRequire(import.meta.url)(join(PKG, 'node', 'index.cjs'));
  assert.equal(typeof node.Session.prototype.uploadFile, 'undefined');
}));
