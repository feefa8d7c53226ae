// Server credential benchmarks (sections 8-10 of `npm run bench`): WeChat
// API calls a cold burst makes, beside wechat-jssdk 5.1.0 against the same
// fake server; warm getSignature throughput; signJsapi beside Node's crypto,
// js-sha1 (its pure-JS path, what a mini-program runs) and crypto-js.
// Prints figures; asserts nothing. `node benches/wechat.mjs` runs it alone.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, int, heading, table } from './lib.mjs';
import { startFakeWechat } from '../tests/support/fake-wechat-api.mjs';

const here = fileURLToPath(import.meta.url);
const require = createRequire(here);
const wxsession = require(join(dirname(here), '..', 'pkg', 'node', 'index.cjs'));
const APP = { appId: 'wx_fake_app', appSecret: 'fake_secret' };
const BURST = 1000;
const LATENCY = 20; // ms per WeChat call: a realistic round trip
const ROUNDS = 5;
const GRACE_MS = 300_000; // the fake's default, as WeChat documents

// js-sha1 silently uses Node's crypto unless told not to before require.
globalThis.window = { JS_SHA1_NO_NODE_JS: true };
const jsSha1 = require('js-sha1');
delete globalThis.window;
const CryptoJS = require('crypto-js');

function theirWechat(fake, dir) {
  const { Wechat, Store } = require('wechat-jssdk');
  return new Wechat({
    ...APP, wechatRedirectUrl: 'http://127.0.0.1/oauth',
    accessTokenUrl: fake.url + '/cgi-bin/token', ticketUrl: fake.url + '/cgi-bin/ticket/getticket',
    store: new Store({ noInterval: true }), clearCountInterval: 2 ** 30, storeOptions: { fileStorePath: join(dir, 'x.json') },
  });
}
const ourWechat = (fake) => new wxsession.Wechat({ ...APP, store: new wxsession.Store(), apiBase: fake.url });

async function coldBurst(make, urls) {
  // The fake's clock can jump ahead: WeChat keeps a superseded token (and the
  // tickets bought with it) valid for a 5 min grace, so the real cost of extra
  // token fetches only shows once that grace has passed.
  let skew = 0;
  const fake = await startFakeWechat({ latencyMs: LATENCY, now: () => Date.now() + skew });
  try {
    const client = make(fake);
    const t0 = performance.now();
    const results = await Promise.allSettled(Array.from({ length: BURST }, (_, i) => client.jssdk.getSignature(urls[i % urls.length])));
    const ms = performance.now() - t0;
    const sigs = results.filter((r) => r.status === 'fulfilled').map((r) => r.value);
    const accepted = sigs.filter((s) => fake.verifyJsapiSignature(s)).length;
    const calls = { token: fake.counts.token, ticket: fake.counts.ticket };
    skew = GRACE_MS + 1000;
    const later = sigs.filter((s) => fake.verifyJsapiSignature(s)).length;
    // What each URL's page gets next (from the cache: both keep signatures ~2 h).
    const next = await Promise.all(urls.map((u) => client.jssdk.getSignature(u)));
    const nextOk = next.filter((s) => fake.verifyJsapiSignature(s)).length;
    return { ...calls, ok: sigs.length, distinct: new Set(sigs.map((s) => s.signature)).size, accepted, later, nextOk, urls: urls.length, ms };
  } finally {
    await fake.close();
  }
}

async function burstSection(summary, dir) {
  heading(`8. Cold burst: ${BURST} concurrent getSignature on an empty store (fake WeChat, ${LATENCY} ms per call)`);
  const rows = [];
  const cases = [['1 URL', ['https://h5.example.com/activity?id=1']], ['10 URLs', Array.from({ length: 10 }, (_, i) => `https://h5.example.com/p/${i}`)]];
  for (const [label, urls] of cases) {
    const ours = await coldBurst(ourWechat, urls);
    const theirs = await coldBurst((fake) => theirWechat(fake, dir), urls);
    for (const [name, r] of [['wxsession', ours], ['wechat-jssdk 5.1.0', theirs]]) {
      rows.push([label, name, r.token, r.ticket, `${r.ok}/${BURST}`, r.distinct, `${r.accepted}/${r.ok}`, `${r.later}/${r.ok}`,
        `${r.nextOk}/${r.urls}`, `${int(r.ms)} ms`]);
    }
    if (label === '1 URL') summary.credentials = `cold burst of ${BURST}: ${ours.token} token + ${ours.ticket} ticket fetch (wechat-jssdk: ${theirs.token} + ${theirs.ticket}, ` +
      `${theirs.later}/${theirs.ok} sigs valid after the grace)`;
  }
  table(['', 'library', 'token calls', 'ticket calls', 'resolved', 'distinct sigs', 'accepted now', 'after grace', 'cached next', 'wall'], rows);
  console.log("accepted now: verifyJsapiSignature at once; after grace: the same signatures with the fake's clock 5 min later,");
  console.log('when only the newest token and its tickets still count; cached next: what getSignature(url) then serves per URL');
  console.log("(the cached signature, which WeChat rejects unless it was signed with the newest ticket). Every token fetch");
  console.log("also spends WeChat's daily token quota (2000).");
}

async function perSecond(fn, n) {
  for (let i = 0; i < n / 5; i++) await fn(); // warm-up: let V8 optimise before timing
  const rates = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await fn();
    rates.push(n / ((performance.now() - t0) / 1000));
  }
  return median(rates);
}

async function cachedSection(summary, dir) {
  heading('9. Cached getSignature (warm instance, one URL, sequential awaits; median of 5 rounds)');
  const url = 'https://h5.example.com/activity?id=1';
  const fake = await startFakeWechat();
  try {
    const ours = ourWechat(fake), theirs = theirWechat(fake, dir);
    await ours.jssdk.getSignature(url); await theirs.jssdk.getSignature(url);
    const a = await perSecond(() => ours.jssdk.getSignature(url), 20000);
    const b = await perSecond(() => theirs.jssdk.getSignature(url), 20000);
    const t = await perSecond(() => ours.getAccessToken(), 50000);
    table(['', 'ops/s', 'µs/op', 'ratio (ours / theirs)'], [
      ['wxsession getSignature', int(a), (1e6 / a).toFixed(2), (a / b).toFixed(2)],
      ['wechat-jssdk getSignature', int(b), (1e6 / b).toFixed(2), ''],
      ['wxsession getAccessToken', int(t), (1e6 / t).toFixed(2), ''],
    ]);
    summary.credentials += ` | cached getSignature ${int(a)}/s (${(a / b).toFixed(2)}x wechat-jssdk)`;
  } finally {
    await fake.close();
  }
}

function signSection(summary) {
  heading('10. signJsapi: sha1 of the JS-SDK string, per second (median of 5 rounds)');
  const ticket = 'sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg';
  const rows = [];
  for (const [label, size] of [['100 B url', 100], ['4 KB url', 4096]]) {
    const url = ('https://h5.example.com/p?q=' + 'x'.repeat(size)).slice(0, size);
    const params = { jsapiTicket: ticket, nonceStr: 'Wm3WZYTPz0wzccnW', timestamp: '1414587457', url };
    const plain = `jsapi_ticket=${ticket}&noncestr=${params.nonceStr}&timestamp=${params.timestamp}&url=${url}`;
    const impls = [
      ['wxsession signJsapi', () => wxsession.signJsapi(params)],
      ['node crypto', () => createHash('sha1').update(plain).digest('hex')],
      ['js-sha1 (pure JS)', () => jsSha1(plain)],
      ['crypto-js', () => CryptoJS.SHA1(plain).toString()],
    ];
    const outputs = new Set(impls.map(([, f]) => f()));
    if (outputs.size !== 1) throw new Error('sha1 implementations disagree: ' + [...outputs].join(' '));
    const n = size > 1000 ? 20000 : 100000;
    const rates = impls.map(([name, f]) => {
      for (let i = 0; i < n / 5; i++) f(); // warm-up
      const r = [];
      for (let round = 0; round < ROUNDS; round++) {
        const t0 = performance.now();
        for (let i = 0; i < n; i++) f();
        r.push(n / ((performance.now() - t0) / 1000));
      }
      return [name, median(r)];
    });
    const [, node] = rates[1], [, pure] = rates[2];
    for (const [name, rate] of rates) rows.push([label, name, int(rate), (1e6 / rate).toFixed(2), (rate / node).toFixed(2), (rate / pure).toFixed(2)]);
    if (size === 100) summary.credentials += ` | signJsapi ${int(rates[0][1])}/s (${(rates[0][1] / pure).toFixed(1)}x js-sha1, ${(rates[0][1] / node).toFixed(2)}x node crypto)`;
  }
  table(['', 'implementation', 'ops/s', 'µs/op', 'vs node crypto', 'vs js-sha1'], rows);
  console.log('outputs agree (one hex digest per input across all four)');
}

export async function wechatSections(summary) {
  const dir = mkdtempSync(join(tmpdir(), 'wxsession-bench-'));
  const cwd = process.cwd();
  process.chdir(dir); // wechat-jssdk may create its default FileStore in cwd
  try {
    await burstSection(summary, dir);
    await cachedSection(summary, dir);
    signSection(summary);
  } finally {
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === here) {
  const summary = {};
  await wechatSections(summary);
  console.log(`\nsummary (credentials): ${summary.credentials}`);
  process.exit(0); // wechat-jssdk's store intervals would keep the process alive
}
