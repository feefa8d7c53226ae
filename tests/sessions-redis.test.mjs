// Sessions on a real redis-server that is killed (SIGKILL) while logins and
// guarded requests are in flight, then started again from its append-only
// file. A login is acknowledged when its 200 { token } is sent, which is
// after Redis acknowledged both of its writes; a login whose write failed
// answers 503 STORE_UNAVAILABLE and its token never leaves the server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeWechat } from './support/fake-wechat-api.mjs';
import { startRedis } from './support/redis-server.mjs';
import { wxsession, APP } from './support/sessions-kit.mjs';
import { FRAMEWORKS, listen } from './support/sessions-servers.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('Redis killed mid-run: every answer is 200 or a coded 503 (never a 401), and every acknowledged login verifies after the restart', { timeout: 60_000 }, async () => {
  const redis = await startRedis({ durable: true });
  const fake = await startFakeWechat();
  const store = new wxsession.RedisStore({ url: redis.url, appId: APP.appId, timeout: 400 });
  const wechat = new wxsession.Wechat({ ...APP, store, apiBase: fake.url });
  const srv = await listen(FRAMEWORKS.express(wechat.sessions));
  const acked = [];
  const seen = { login: {}, verify: {} };
  const note = async (what, res) => {
    const body = await res.json();
    const key = res.status === 200 ? '200' : `${res.status} ${body.code}`;
    seen[what][key] = (seen[what][key] || 0) + 1;
    return body;
  };
  let running = true, n = 0;
  const worker = async () => {
    while (running) {
      // One user per login: no two logins wait on one user's lock.
      const code = fake.issueCode({ openid: `o_outage_${n++}` });
      const res = await fetch(srv.base + '/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code }) });
      const body = await note('login', res);
      if (res.status === 200) acked.push(body.token);
      if (acked.length) {
        const token = acked[Math.floor(Math.random() * acked.length)];
        await note('verify', await fetch(srv.base + '/api/me', { headers: { authorization: 'Bearer ' + token } }));
      }
    }
  };
  try {
    const until = async (done, ms, what) => {
      for (const end = Date.now() + ms; !done();) {
        if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms (${acked.length} logins acknowledged)`);
        await sleep(20);
      }
    };
    const workers = Array.from({ length: 4 }, worker);
    await until(() => acked.length >= 5, 15_000, 'logins before the outage');
    const before = acked.length;
    await redis.stop(); // SIGKILL, mid-request
    await sleep(1000);
    const down = acked.length;
    await redis.restart();
    // The client reconnects (backing off up to 2 s) and logins resume.
    await until(() => acked.length >= down + 5, 15_000, 'logins after the restart');
    running = false;
    await Promise.all(workers);

    for (const what of ['login', 'verify']) {
      const keys = Object.keys(seen[what]);
      assert.ok(keys.every((k) => k === '200' || k === '503 STORE_UNAVAILABLE'), `${what}: ${JSON.stringify(seen[what])}`);
    }
    assert.ok(seen.login['503 STORE_UNAVAILABLE'] > 0 && seen.verify['503 STORE_UNAVAILABLE'] > 0, 'the outage was hit: ' + JSON.stringify(seen));
    assert.ok(before > 0 && acked.length >= down + 5, `logins before (${before}), when Redis went down (${down}) and after (${acked.length})`);
    const lost = [];
    for (const token of acked) {
      const res = await fetch(srv.base + '/api/me', { headers: { authorization: 'Bearer ' + token } });
      if (res.status !== 200) lost.push(res.status);
    }
    assert.deepEqual(lost, [], `of ${acked.length} acknowledged logins`);
  } finally {
    running = false;
    await srv.close();
    await store.destroy();
    await fake.close();
    await redis.close();
  }
});
