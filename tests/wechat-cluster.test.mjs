// Exactly one refresh across a cluster: real child processes sharing a real
// redis-server through RedisStore, against the fake WeChat API.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { PKG, ROOT } from './support/harness.mjs';
import { startRedis } from './support/redis-server.mjs';
import { startFakeWechat } from './support/fake-wechat-api.mjs';

const APP = { appId: 'wx_fake_app', appSecret: 'fake_secret' };
const WORKER = join(ROOT, 'tests', 'support', 'cluster-worker.mjs');
let redis;
const children = new Set();

before(async () => { redis = await startRedis(); });
after(async () => {
  for (const c of children) c.kill('SIGKILL');
  await redis?.close();
});

async function spawnWorker(fake, env = {}) {
  const child = fork(WORKER, [], {
    env: { ...process.env, PKG_DIR: PKG, REDIS_URL: redis.url, API_BASE: fake.url, APP_ID: APP.appId, APP_SECRET: APP.appSecret, TIMEOUT: '2000', LOCK_TTL: '2500', ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const waiting = new Map();
  let next = 0;
  child.on('message', (m) => {
    if (m.id !== undefined) { waiting.get(m.id)(m.value); waiting.delete(m.id); }
  });
  await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error('worker exited early: ' + code)));
  });
  child.ask = (cmd, args) => new Promise((resolve) => { const id = next++; waiting.set(id, resolve); child.send({ id, cmd, args }); });
  return child;
}

async function cluster(n, fake, env) {
  return Promise.all(Array.from({ length: n }, () => spawnWorker(fake, env)));
}
const values = (results) => results.flat().map((r) => { assert.ok(r.ok, r.code + ': ' + r.message); return r.value; });

test('a cold cluster of 4 processes x 250 getSignature calls fetches one token and one ticket', async () => {
  const fake = await startFakeWechat({ latencyMs: 30 });
  const workers = await cluster(4, fake, { PREFIX: 'cold' });
  try {
    const results = await Promise.all(workers.map((w) => w.ask('burst', { n: 250, url: 'https://h5.test/cold#x' })));
    const sigs = values(results);
    assert.equal(sigs.length, 1000);
    assert.deepEqual([fake.counts.token, fake.counts.ticket], [1, 1]);
    assert.ok(sigs.every((s) => fake.verifyJsapiSignature(s)), 'WeChat accepts every signature');
  } finally {
    await Promise.all(workers.map((w) => w.ask('exit')));
    await fake.close();
  }
});

test('a lock holder killed mid-refresh is replaced once its lock expires', async () => {
  const fake = await startFakeWechat();
  const [victim, ...rest] = await cluster(3, fake, { PREFIX: 'kill' });
  try {
    fake.setLatency(800, 'token');
    victim.ask('token', {});
    while (fake.counts.token < 1) await new Promise((r) => setTimeout(r, 5));
    victim.kill('SIGKILL'); // it holds the lock, its fetch in flight
    fake.setLatency(0, 'token');
    const t0 = Date.now();
    const tokens = values(await Promise.all(rest.map((w) => w.ask('token', {}))));
    assert.equal(new Set(tokens).size, 1, 'the survivors agree on one token');
    assert.equal(fake.counts.token, 2, "the dead holder's fetch and one replacement");
    assert.ok(Date.now() - t0 >= 500, "they waited for the dead holder's lock to expire");
    assert.equal(fake.tokenState(tokens[0]), 'valid');
  } finally {
    await Promise.all(rest.map((w) => w.ask('exit')));
    await fake.close();
  }
});

test('a Redis restart mid-run: cached credentials keep serving, and forced refreshes after it still happen once', async () => {
  const fake = await startFakeWechat();
  const workers = await cluster(3, fake, { PREFIX: 'restart' });
  try {
    const burst = () => Promise.all(workers.map((w) => w.ask('burst', { n: 20, url: 'https://h5.test/r' })));
    const before = (await burst()).map(values);
    assert.deepEqual([fake.counts.token, fake.counts.ticket], [1, 1]);
    await redis.stop();
    // Redis is down: every process still answers from its own memory.
    const during = (await burst()).map(values);
    during.forEach((sigs, i) => assert.ok(sigs.every((s) => s.signature === before[i][0].signature), 'worker ' + i));
    assert.ok(during.flat().every((s) => fake.verifyJsapiSignature(s)));
    await redis.restart(); // an empty Redis: nothing persisted
    const tokens = values(await Promise.all(workers.map((w) => w.ask('token', { force: true }))));
    assert.equal(new Set(tokens).size, 1, 'one new token for all');
    assert.equal(fake.counts.token, 2);
  } finally {
    await Promise.all(workers.map((w) => w.ask('exit')));
    await fake.close();
  }
});
