#!/usr/bin/env node
// Runs examples/miniprogram, unchanged, in the strict mini-program sandbox
// (no WebAssembly, fetch, URL, TextDecoder or crypto; a fake wx) against
// examples/server (Express on wechat.sessions, talking to the strict fake
// WeChat API), and prints the LOGIN TIMELINE of five situations: a cold
// burst, a warm restart, a server-side revoke, a failing login and a
// logout. Exits 1 if anything does not go the way the library promises.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildNpm, createSandbox } from '../tests/support/miniprogram-sandbox.mjs';
import { createWx } from '../tests/support/fake-wx.mjs';
import {
  STORAGE_KEY, createTimeline, heading, instrumentWx, instrumentWasm, sandboxConsole, watchSession,
  pageInstance, copyProject, describePage, counters, delta, createChecks, countRequests, withLatency,
} from './demo-lib.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const PKG = join(ROOT, 'pkg');
const EXAMPLE = join(ROOT, 'examples', 'miniprogram');
const { startServer } = createRequire(import.meta.url)(join(ROOT, 'examples', 'server', 'server.js'));
const WX_LATENCY = 20;       // every wx.login / checkSession / getRandomValues
const NETWORK_LATENCY = 30;  // each way, between the device and the server
const WECHAT_LATENCY = 20;   // every call the server makes to (the fake) WeChat
const DEADLINE_MS = 30000;   // the whole demo; a hang is a failure, not a wait
const OPENID = 'o_demo_user';

const tl = createTimeline();
const checks = createChecks();
const { expect } = checks;

if (!existsSync(join(PKG, 'package.json')) || !existsSync(join(PKG, 'miniprogram_dist', 'index.js'))) {
  console.error('demo: pkg/ is missing; build it first with `node scripts/build.mjs`');
  process.exit(1);
}

let projectRoot = null;
const watchdog = setTimeout(() => {
  console.error(`\nFAILED: the demo did not finish within ${DEADLINE_MS / 1000} s (a request or login hung)`);
  if (projectRoot) rmSync(projectRoot, { recursive: true, force: true });
  process.exit(1);
}, DEADLINE_MS);
watchdog.unref();

// ---- the world: WeChat, examples/server, a device with the sample on it ----
// In fake mode the server starts the fake WeChat API itself; this device's
// wx.login gets its codes from that fake, for one user.
const backend = await startServer({ port: 0, log: (line) => tl.log('backend', line) });
backend.fake.setLatency(WECHAT_LATENCY);
const accounts = {
  sessionValid: false,
  issueCode() {
    accounts.sessionValid = true;
    return backend.fake.issueCode({ kind: 'miniprogram', openid: OPENID });
  },
};
const net = countRequests(withLatency(createWx({ accounts, latency: WX_LATENCY }), NETWORK_LATENCY), backend.url);
const wx = instrumentWx(net.wx, tl, backend.url);
projectRoot = mkdtempSync(join(tmpdir(), 'wxsession-demo-'));
copyProject(EXAMPLE, projectRoot);
buildNpm(projectRoot, PKG); // what DevTools' "Tools > Build npm" does

/** One app lifecycle: a fresh JS context on the same device (same wx storage). */
async function launch() {
  const sandbox = createSandbox({ projectRoot, wx, console: sandboxConsole(tl) });
  instrumentWasm(sandbox, tl);
  sandbox.run('config.js').setBaseUrl(backend.url);
  sandbox.run('app.js');
  const app = sandbox.app;
  tl.log('app', 'App.onLaunch() → wxsession.createSession({ baseUrl, loginUrl: \'/auth/login\' })');
  app.onLaunch({ path: 'pages/index/index', query: {}, scene: 1001 });
  const watching = app.sessionReady.then((session) => {
    tl.log('session', `ready, state ${session.state}`);
    watchSession(session, tl);
    return session;
  });
  sandbox.run('pages/index/index.js');
  const page = pageInstance(sandbox.pages[0]);
  tl.log('page', 'index.onLoad() → 4 requests at once (profile, orders, cart, notices)');
  const loaded = await page.onLoad({});
  return { sandbox, app, page, loaded, session: await watching };
}

const itemsWith = (page, status) => page.data.items.filter((it) => it.status === status);

async function scenario(title, body) {
  heading(title);
  tl.reset();
  const before = counters(wx, net);
  await body(() => delta(before, counters(wx, net)));
}

let run;
try {
  console.log('wxsession demo: examples/miniprogram in a strict mini-program sandbox');
  console.log(`  project  ${projectRoot} (copied, then "build npm" from pkg/)`);
  console.log(`  backend  ${backend.url}  examples/server (Express + wechat.sessions), fake WeChat API ${backend.fake.url} (${WECHAT_LATENCY} ms per call)`);
  console.log(`  wx       fake, ${WX_LATENCY} ms per async call; wx.request goes to the backend, ${NETWORK_LATENCY} ms each way`);
  console.log('  LOGIN TIMELINE: → a wx call starts, ← its callback arrives; offsets from each heading');

  await scenario('(a) cold start: a burst of concurrent requests shares ONE login', async (d) => {
    run = await launch();
    const n = d();
    console.log(describePage(run.page.data));
    expect(run.loaded && itemsWith(run.page, 'ok').length === 4, 'all 4 panels loaded', describePage(run.page.data));
    expect(n.login === 1, '4 concurrent requests caused exactly 1 wx.login', n.login);
    expect(n.exchange === 1, '... and exactly 1 code exchange at the backend', n.exchange);
    expect(n.unauthorized === 0, 'no request was sent without a token (no 401)', n.unauthorized);
    expect(run.session.state === 'authenticated', 'session is authenticated', run.session.state);
  });

  await scenario('(b) app restart: warm start from wx storage, no wx.login', async (d) => {
    run = await launch();
    const n = d();
    console.log(describePage(run.page.data));
    expect(run.loaded, 'all 4 panels loaded', describePage(run.page.data));
    expect(n.login === 0 && n.exchange === 0, 'no wx.login and no exchange: the stored token was reused', `${n.login} logins, ${n.exchange} exchanges`);
    expect(n.checkSession === 1, 'wx.checkSession ran once for this lifecycle (default checkSession: \'once\')', n.checkSession);
  });

  await scenario('(c) the server revokes the user\'s sessions: one shared re-login, all succeed', async (d) => {
    tl.log('demo', `wechat.sessions.revokeUser('${OPENID}') on the server; then the page reloads (pull-down refresh)`);
    const revoked = await backend.wechat.sessions.revokeUser(OPENID);
    const ok = await run.page.refresh();
    const n = d();
    console.log(describePage(run.page.data));
    expect(revoked === 1, 'revokeUser ended the one live session', revoked);
    expect(ok, 'every request succeeded after being replayed once', describePage(run.page.data));
    expect(n.unauthorized >= 1, `the old token was refused (${n.unauthorized}× 401)`, n.unauthorized);
    expect(n.login === 1 && n.exchange === 1, 'all the 401s shared ONE re-login', `${n.login} logins, ${n.exchange} exchanges`);
  });

  await scenario('(d) the next login fails: EXCHANGE_FAILED, then the next request recovers', async (d) => {
    tl.log('demo', 'revokeUser again, and WeChat\'s jscode2session answers errcode -1 (system error) once: the login route answers 502');
    await backend.wechat.sessions.revokeUser(OPENID);
    backend.fake.failNext('code2Session', { errcode: -1 });
    const first = await run.page.refresh();
    const failed = itemsWith(run.page, 'error');
    console.log(describePage(run.page.data));
    for (const it of failed) console.log(`    ${it.key}: err.code ${it.code}, err.message "${it.detail}"`);
    expect(!first && failed.length === 4, 'all 4 requests rejected', describePage(run.page.data));
    expect(failed.every((it) => it.code === 'EXCHANGE_FAILED'), 'each with err.code EXCHANGE_FAILED', failed.map((it) => it.code).join(','));
    expect(run.session.state === 'anonymous', 'session is anonymous after the failed login', run.session.state);
    expect(d().login === 1, 'the failure was shared too: 1 wx.login for the 4 requests', d().login);

    tl.log('demo', 'WeChat answers again; the user pulls to refresh again');
    const second = await run.page.refresh();
    const n = d();
    console.log(describePage(run.page.data));
    expect(second, 'the next refresh recovered: all 4 panels loaded', describePage(run.page.data));
    expect(n.login === 2 && n.exchange === 2, '2 logins in this section: the failed one and the recovery', `${n.login} logins, ${n.exchange} exchanges`);
  });

  await scenario('(e) logout: token dropped from memory and wx storage', async (d) => {
    tl.log('page', 'index.onLogout() (the "Log out" button)');
    await run.page.onLogout();
    console.log(describePage(run.page.data));
    expect(run.session.state === 'anonymous', 'session is anonymous', run.session.state);
    expect(wx.storage.has(STORAGE_KEY) === false, `wx storage no longer holds '${STORAGE_KEY}'`, JSON.stringify(wx.storage.get(STORAGE_KEY)));
    expect(d().login === 0 && d().request === 0, 'logging out calls no wx.login and no wx.request, it only removes the token', JSON.stringify(d()));

    tl.log('demo', 'one more request through utils/api.js after the logout');
    const body = await run.sandbox.run('utils/api.js').request({ url: '/api/profile' });
    expect(body && body.ok === true && d().login === 1, 'the next request logged in again by itself (1 wx.login)', `${d().login} logins`);
  });
} catch (err) {
  checks.failures.push(`unexpected exception: ${(err && err.message) || err}`);
  console.error(`\n  ✗ unexpected exception: ${(err && err.code) || ''} ${(err && err.stack) || err}`);
} finally {
  await backend.close();
  rmSync(projectRoot, { recursive: true, force: true });
}

const total = { logins: wx.calls.login, exchanges: net.counts.exchange, code2Session: backend.fake.counts.code2Session, checks: wx.calls.checkSession, requests: wx.calls.request, unauthorized: net.counts.unauthorized };
heading('summary');
console.log(`wx.login ×${total.logins} · exchanges ×${total.exchanges} (jscode2session ×${total.code2Session}; 1 refused on purpose) · wx.checkSession ×${total.checks} · wx.request ×${total.requests} · 401s ×${total.unauthorized}`);
if (checks.failures.length) {
  console.log(`\nFAILED: ${checks.failures.length} expectation(s) not met:`);
  for (const f of checks.failures) console.log(`  - ${f}`);
  process.exitCode = 1;
} else {
  console.log(`OK: all five situations behaved as promised (${checks.passed} checks).`);
}
