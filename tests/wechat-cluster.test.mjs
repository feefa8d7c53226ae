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

test('a forced refresh in one process reaches every other within recheckInterval', async () => {
  const recheck = 600;
  const fake = await startFakeWechat({ graceMs: 3000 });
  const [a, b] = await cluster(2, fake, { PREFIX: 'fresh', RECHECK: String(recheck) });
  try {
    const sign = async (w) => values([await w.ask('burst', { n: 1, url: 'https://h5.test/fresh' })])[0];
    const before = await sign(b);
    assert.ok(fake.verifyJsapiSignature(before));
    assert.deepEqual((await a.ask('refresh')).ok, true);
    const refreshedAt = Date.now();
    const newTicket = fake.currentTicket();
    let adoptedAfter = null;
    while (Date.now() - refreshedAt < recheck * 3) {
      const sig = await sign(b);
      if (sig.signature !== before.signature && adoptedAfter === null) adoptedAfter = Date.now() - refreshedAt;
      if (Date.now() - refreshedAt > recheck + 200) {
        assert.notEqual(sig.signature, before.signature, 'B still serves the signature made with the replaced ticket');
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(adoptedAfter !== null && adoptedAfter <= recheck + 200, `B adopted the new ticket after ${adoptedAfter} ms`);
    assert.deepEqual([fake.counts.token, fake.counts.ticket], [2, 2], 'B adopted, it did not fetch');
    // Once WeChat's grace for the old ticket is over, B's signatures verify.
    await new Promise((r) => setTimeout(r, 3100 - (Date.now() - refreshedAt)));
    const after = await sign(b);
    assert.ok(fake.verifyJsapiSignature(after), 'made with ' + newTicket);
  } finally {
    await Promise.all([a, b].map((w) => w.ask('exit')));
    await fake.close();
  }
});

test('a holder stalled past its lease fetches nothing more and never overwrites the newer ticket', async () => {
  const fake = await startFakeWechat();
  // The victim's HTTP timeout outlasts the stall, so its late answer does
  // arrive: only its lease, checked by the clock, stops it from writing.
  const victim = await spawnWorker(fake, { PREFIX: 'stall', TIMEOUT: '5000' });
  const other = await spawnWorker(fake, { PREFIX: 'stall' });
  try {
    values([await victim.ask('token', {}), await other.ask('token', {})]);
    fake.setLatency(300, 'ticket');
    const stalled = victim.ask('ticket', {});
    while (fake.counts.ticket < 1) await new Promise((r) => setTimeout(r, 2));
    victim.kill('SIGSTOP'); // it holds the ticket lock, its fetch answered late
    fake.setLatency(0, 'ticket');
    await new Promise((r) => setTimeout(r, 2700)); // past LOCK_TTL (2500 ms)
    const [newer] = values([await other.ask('ticket', {})]);
    assert.equal(fake.counts.ticket, 2, 'the other process took over once the lease lapsed');
    victim.kill('SIGCONT');
    const late = await stalled;
    assert.deepEqual(late, { ok: true, value: newer }, 'its late answer was dropped for the newer ticket');
    const [now] = values([await victim.ask('ticket', {})]);
    assert.equal(now, newer, 'the stalled holder adopted the newer ticket');
    assert.equal(fake.counts.ticket, 2, 'and fetched nothing more');
    const [otherNow] = values([await other.ask('ticket', {})]);
    assert.equal(otherNow, newer, 'the newer ticket was never overwritten');
  } finally {
    await Promise.all([victim, other].map((w) => w.ask('exit')));
    await fake.close();
  }
});
