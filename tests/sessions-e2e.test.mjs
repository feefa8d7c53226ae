// End to end: the unmodified examples/miniprogram in the strict sandbox
// against examples/server (real Express, wechat.sessions) and the fake
// WeChat API it starts. The server's clock is shifted by the test
// (sessions-kit's shiftedClock: Date.now in this process, which the node
// entry and the fake WeChat read); the device keeps real time, as a phone
// would while its server's sessions age.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, PKG } from './support/harness.mjs';
import { buildNpm, createSandbox } from './support/miniprogram-sandbox.mjs';
import { createWx } from './support/fake-wx.mjs';
import { shiftedClock } from './support/sessions-kit.mjs';
import { copyProject, pageInstance, countRequests } from '../scripts/demo-lib.mjs';

const { startServer } = createRequire(import.meta.url)(join(ROOT, 'examples', 'server', 'server.js'));
const OPENID = 'o_e2e_user';
const BURST = 50;
let world = null;

afterEach(async () => {
  await world?.close();
  world = null;
});

/** examples/server, a device with the sample npm-built into a fresh copy, and what the device saw. */
async function start(serverOptions = {}) {
  const srv = await startServer({ port: 0, ...serverOptions });
  const projectRoot = mkdtempSync(join(tmpdir(), 'wxsession-e2e-'));
  copyProject(join(ROOT, 'examples', 'miniprogram'), projectRoot);
  buildNpm(projectRoot, PKG);
  const accounts = {
    sessionValid: false,
    issueCode() {
      accounts.sessionValid = true;
      return srv.fake.issueCode({ kind: 'miniprogram', openid: OPENID });
    },
  };
  const net = countRequests(createWx({ accounts, latency: 2 }), srv.url);
  const wx = net.wx;
  let sandbox = null;
  const w = {
    srv, wx, sessions: srv.wechat.sessions,
    /** An app launch: App.onLaunch, then the index page's onLoad (4 requests at once). */
    async launch() {
      sandbox = createSandbox({ projectRoot, wx });
      sandbox.run('config.js').setBaseUrl(srv.url);
      sandbox.run('app.js');
      sandbox.app.onLaunch({ path: 'pages/index/index', query: {}, scene: 1001 });
      sandbox.run('pages/index/index.js');
      const page = pageInstance(sandbox.pages[0]);
      return { page, loaded: page.onLoad({}) };
    },
    /** `n` requests through the sample's utils/api.js at once: how many resolved ok. */
    async burst(n = BURST) {
      const api = sandbox.run('utils/api.js');
      const results = await Promise.allSettled(Array.from({ length: n }, (_, i) => api.request({ url: '/api/orders', data: { page: i } })));
      return results.filter((r) => r.status === 'fulfilled' && r.value.ok === true).length;
    },
    /** Counters so far: wx.login, jscode2session, exchanges and 401s the device saw. */
    counts: () => ({ login: wx.calls.login, code2Session: srv.fake.counts.code2Session, exchange: net.counts.exchange, unauthorized: net.counts.unauthorized }),
    async close() {
      await srv.close();
      rmSync(projectRoot, { recursive: true, force: true });
    },
  };
  return w;
}

const since = (w, before) => Object.fromEntries(Object.entries(w.counts()).map(([k, v]) => [k, v - before[k]]));

test('a cold burst (the page\'s four panels and 50 more requests) makes one wx.login and one jscode2session', async () => {
  world = await start();
  const { page, loaded } = await world.launch();
  const [panels, ok] = await Promise.all([loaded, world.burst()]);
  assert.equal(panels, true, JSON.stringify(page.data));
  assert.equal(ok, BURST);
  assert.deepEqual(world.counts(), { login: 1, code2Session: 1, exchange: 1, unauthorized: 0 });
  assert.equal((await world.sessions.list(OPENID)).length, 1, 'one session on the server');
});

test('revokeUser on the server: the next burst gets 401s and shares one re-login; every request is answered', async () => {
  world = await start();
  const { loaded } = await world.launch();
  assert.equal(await loaded, true);
  assert.equal(await world.sessions.revokeUser(OPENID), 1);
  const before = world.counts();
  assert.equal(await world.burst(), BURST);
  assert.deepEqual(since(world, before), { login: 1, code2Session: 1, exchange: 1, unauthorized: BURST });
  // The page's next refresh needs nothing more.
  const again = world.counts();
  assert.equal(await world.burst(), BURST);
  assert.deepEqual(since(world, again), { login: 0, code2Session: 0, exchange: 0, unauthorized: 0 });
});

test('expiry on the server\'s clock: a session unused for its whole ttl is refused, and the next burst shares one re-login', async (t) => {
  const clock = shiftedClock();
  t.after(() => clock.restore());
  world = await start({ sessions: { ttl: 60_000 } });
  const { loaded } = await world.launch();
  assert.equal(await loaded, true);
  clock.advance(61_000);
  const before = world.counts();
  assert.equal(await world.burst(), BURST);
  assert.deepEqual(since(world, before), { login: 1, code2Session: 1, exchange: 1, unauthorized: BURST });
});

test('sliding renewal: a session used past half its ttl lives another ttl, so a device in use never logs in again', async (t) => {
  const clock = shiftedClock();
  t.after(() => clock.restore());
  world = await start({ sessions: { ttl: 60_000 } });
  const { loaded } = await world.launch();
  assert.equal(await loaded, true);
  const [first] = await world.sessions.list(OPENID);
  const before = world.counts();
  clock.advance(35_000); // 25 s left: used now, renewed
  assert.equal(await world.burst(), BURST);
  const [renewed] = await world.sessions.list(OPENID);
  assert.ok(renewed.expiresAt >= first.expiresAt + 35_000, JSON.stringify({ first, renewed }));
  clock.advance(35_000); // 70 s after the login: past its first expiry, inside the renewed one
  assert.equal(await world.burst(), BURST);
  assert.deepEqual(since(world, before), { login: 0, code2Session: 0, exchange: 0, unauthorized: 0 });
  clock.advance(61_000); // then unused for a whole ttl
  assert.equal(await world.burst(), BURST);
  assert.deepEqual(since(world, before), { login: 1, code2Session: 1, exchange: 1, unauthorized: BURST });
});

/** Runs a script with `env`; resolves { code, signal, out } once it exits (or kills it after `ms`). */
function runScript(args, { env = {}, ms = 30000, onOutput } = {}) {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const seen = (d) => { out += d; if (onOutput) onOutput(out, child); };
  child.stdout.on('data', seen);
  child.stderr.on('data', seen);
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  return new Promise((resolve) => child.on('exit', (code, signal) => { clearTimeout(timer); resolve({ code, signal, out }); }));
}

test('`npm run example:server` (server.js) starts against the fake WeChat, serves the curl walk-through, and stops on SIGINT', async () => {
  let flow = null;
  const result = await runScript(['examples/server/server.js'], {
    env: { PORT: '0', WECHAT_APP_ID: '', WECHAT_APP_SECRET: '', WECHAT_API_BASE: '', REDIS_URL: '' },
    onOutput(out, child) {
      const url = (out.match(/example server: (http:\/\/127\.0\.0\.1:\d+)/) || [])[1];
      if (!url || flow) return;
      flow = (async () => {
        const json = async (path, init) => (await fetch(url + path, init)).json();
        const { code } = await json('/dev/code');
        const { token } = await json('/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code }) });
        const auth = { authorization: 'Bearer ' + token, 'content-type': 'application/json' };
        const profile = await json('/api/profile', { headers: auth });
        const phone = await json('/api/phone', { method: 'POST', headers: auth, body: JSON.stringify({ code: (await json('/dev/phone-code')).code }) });
        const decrypted = await json('/api/decrypt', { method: 'POST', headers: auth, body: JSON.stringify(await json('/dev/encrypted')) });
        const refused = await fetch(url + '/api/profile');
        child.kill('SIGINT');
        return { token, profile, phone, decrypted, refused: [refused.status, refused.headers.get('www-authenticate'), await refused.json()] };
      })();
    },
  });
  assert.ok(flow, result.out);
  const { token, profile, phone, decrypted, refused } = await flow;
  assert.deepEqual([profile.ok, profile.openid], [true, 'o_dev_user']);
  assert.deepEqual(phone, { phoneNumber: '13800138000', countryCode: '86' });
  assert.equal(decrypted.data.stepInfoList[0].step, 4321);
  assert.equal(decrypted.data.watermark, undefined, 'the route answers the data, not the watermark');
  assert.deepEqual(refused, [401, 'Bearer error="invalid_token"', { code: 'UNAUTHORIZED' }]);
  assert.match(result.out, /using a local fake WeChat API/);
  assert.match(result.out, /POST \/auth\/login → 200/);
  assert.ok(!result.out.includes(token) && !/session_?key/i.test(result.out), 'the request log shows no token and no session_key');
  assert.deepEqual([result.code, result.signal], [0, null], result.out);
});

test('the server refuses half a configuration: an appId without its secret, or an API base without credentials', async () => {
  for (const env of [{ WECHAT_APP_ID: 'wx_x' }, { WECHAT_API_BASE: 'https://api.weixin.qq.com' }]) {
    const r = await runScript(['examples/server/server.js'], { env: { PORT: '0', WECHAT_APP_ID: '', WECHAT_APP_SECRET: '', WECHAT_API_BASE: '', ...env } });
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /example server: .*(both|needs)/);
  }
});

test('`npm run demo:miniprogram` (scripts/demo.mjs) runs the sample against examples/server and every check passes', async () => {
  const r = await runScript(['scripts/demo.mjs'], { ms: 60000 });
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /OK: all five situations behaved as promised \(\d+ checks\)/);
  assert.ok(!/✗/.test(r.out), r.out);
});
