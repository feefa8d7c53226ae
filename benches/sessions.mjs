// App session benchmarks (sections 13-14 of `npm run bench`): verify() per
// second in memory and on Redis, beside a plain Map lookup and beside
// wafer2-style lookups of sha1(session_key) (its "skey": a Map keyed by the
// hex, and one Redis GET) in the same run; Redis commands per verify; and
// decryptData beside node:crypto's AES-128-CBC on a 1 KB payload. Prints
// figures; asserts nothing. `node benches/sessions.mjs` runs it alone.
import { createHash, createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { median, int, heading, table, throughput } from './lib.mjs';
import { startFakeWechat } from '../tests/support/fake-wechat-api.mjs';
import { startRedis } from '../tests/support/redis-server.mjs';

const here = fileURLToPath(import.meta.url);
const require = createRequire(here);
const wxsession = require(join(dirname(here), '..', 'pkg', 'node', 'index.cjs'));
const APP = { appId: 'wx_fake_app', appSecret: 'fake_secret' };
const SESSIONS = 1000;
const RUN = { batch: 100, seconds: 1 };
const ROUNDS = 3;
const us = (perSec) => (1e6 / perSec).toFixed(perSec > 1e5 ? 2 : 1);

/** SESSIONS logins through `wechat.sessions`: the tokens, and the session_keys WeChat issued. */
async function logIn(wechat, fake) {
  const tokens = [], keys = [];
  for (let i = 0; i < SESSIONS; i++) {
    const openid = 'o_bench_' + i;
    tokens.push((await wechat.sessions.login(fake.issueCode({ openid }))).token);
    keys.push(fake.sessionKeyOf(openid));
  }
  return { tokens, keys };
}

/** Median ops/s of each side over ROUNDS, sides alternating so drift hits both. */
async function compare(sides) {
  const got = Object.fromEntries(Object.keys(sides).map((k) => [k, []]));
  for (const fn of Object.values(sides)) await throughput(fn, { batch: RUN.batch, seconds: 0.3 });
  for (let r = 0; r < ROUNDS; r++) {
    const names = Object.keys(sides);
    for (const name of r % 2 ? names.reverse() : names) got[name].push((await throughput(sides[name], RUN)).rps);
  }
  return Object.fromEntries(Object.entries(got).map(([k, v]) => [k, median(v)]));
}

// 13. verify ---------------------------------------------------------------
async function verifySection(summary) {
  heading('13. sessions.verify() per second, beside a Map and wafer2-style sha1(session_key) lookups');
  const fake = await startFakeWechat();
  const redis = await startRedis();
  const { createClient } = require('redis');
  const client = createClient({ url: redis.url });
  const admin = createClient({ url: redis.url });
  const memory = new wxsession.Store();
  const onRedis = new wxsession.RedisStore({ client, appId: APP.appId, noInterval: true });
  try {
    await client.connect();
    await admin.connect();
    const mem = new wxsession.Wechat({ ...APP, store: memory, apiBase: fake.url });
    const red = new wxsession.Wechat({ ...APP, store: onRedis, apiBase: fake.url });
    const m = await logIn(mem, fake);
    const r = await logIn(red, fake);
    // wafer2-node-sdk: skey = sha1(session_key), the user's row looked up by it.
    const skeys = r.keys.map((k) => createHash('sha1').update(k).digest('hex'));
    const rows = new Map(skeys.map((s, i) => [s, { openid: 'o_bench_' + i, skey: s, session_key: r.keys[i] }]));
    const plain = new Map(m.tokens.map((t, i) => [t, { openid: 'o_bench_' + i }]));
    for (const [s, row] of rows) await client.set('skey:' + s, JSON.stringify(row));
    let i = 0;
    const next = (list) => list[i++ % list.length];
    const figures = await compare({
      'verify(), memory Store': () => mem.sessions.verify(next(m.tokens)),
      'Map.get(token)': async () => plain.get(next(m.tokens)),
      'wafer2: Map.get(sha1 hex)': async () => rows.get(next(skeys)),
    });
    const redisFigures = await compare({
      'verify(), RedisStore': () => red.sessions.verify(next(r.tokens)),
      'wafer2: Redis GET sha1 hex + JSON.parse': async () => JSON.parse(await client.get('skey:' + next(skeys))),
    });
    // Redis commands per verify: counted on the client and by the server.
    const sent = [];
    const orig = client.sendCommand;
    client.sendCommand = function (args, opts) { sent.push(args[0]); return orig.call(this, args, opts); };
    await admin.sendCommand(['CONFIG', 'RESETSTAT']);
    const N = 2000;
    for (let k = 0; k < N; k += 100) await Promise.all(r.tokens.slice(k % SESSIONS, k % SESSIONS + 100).map((t) => red.sessions.verify(t)));
    client.sendCommand = orig;
    const stats = await admin.sendCommand(['INFO', 'commandstats']);
    let serverCalls = 0;
    for (const c of stats.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)) if (c[1] !== 'info' && c[1] !== 'config') serverCalls += Number(c[2]);
    const all = { ...figures, ...redisFigures };
    const base = all['Map.get(token)'];
    table(['lookup', 'ops/s', 'us/op', 'vs Map.get'], Object.entries(all).map(([k, v]) => [k, int(v), us(v), (v / base).toFixed(3)]));
    console.log(`Redis commands per verify: ${(sent.length / N).toFixed(2)} sent by the client (${[...new Set(sent)].join(',')}), ` +
      `${(serverCalls / N).toFixed(2)} served (INFO commandstats), over ${N} verifies of fresh sessions (no renewal due)`);
    console.log(`${SESSIONS} sessions each; batches of ${RUN.batch} concurrent, median of ${ROUNDS} x ${RUN.seconds} s. verify() hashes the token`);
    console.log('(SHA-256) and reads the backend on every call (a revoke counts at once everywhere); the Map and wafer2 rows');
    console.log('hash nothing, and wafer2\'s skey is sha1(session_key): deterministic, and the key itself is its row.');
    summary.sessions = `verify ${int(all['verify(), memory Store'])}/s memory, ${int(all['verify(), RedisStore'])}/s Redis ` +
      `(${(serverCalls / N).toFixed(2)} Redis command/verify; wafer2 GET ${int(all['wafer2: Redis GET sha1 hex + JSON.parse'])}/s)`;
  } finally {
    await memory.destroy();
    await onRedis.destroy();
    if (client.isOpen) await client.close();
    if (admin.isOpen) await admin.close();
    await redis.close();
    await fake.close();
  }
}

// 14. decryptData ----------------------------------------------------------
function decryptSection(summary) {
  heading('14. decryptData per second vs node:crypto AES-128-CBC, 1 KB payload');
  const appId = APP.appId, key = randomBytes(16), iv = randomBytes(16);
  const body = { stepInfoList: [], watermark: { appid: appId, timestamp: 1700000000 } };
  while (JSON.stringify(body).length < 1024 - 40) body.stepInfoList.push({ timestamp: 1700000000 + body.stepInfoList.length * 86400, step: 4321 });
  const plain = JSON.stringify(body);
  const cipher = createCipheriv('aes-128-cbc', key, iv);
  const data = Buffer.concat([cipher.update(plain), cipher.final()]).toString('base64');
  const [k64, iv64] = [key.toString('base64'), iv.toString('base64')];
  const ours = () => wxsession.decryptData(data, iv64, k64, appId);
  // The same work in JS: base64, AES-128-CBC with PKCS#7, JSON, the watermark check.
  const node = () => {
    const d = createDecipheriv('aes-128-cbc', Buffer.from(k64, 'base64'), Buffer.from(iv64, 'base64'));
    const obj = JSON.parse(Buffer.concat([d.update(data, 'base64'), d.final()]).toString('utf8'));
    if (!obj.watermark || obj.watermark.appid !== appId) throw new Error('watermark');
    return obj;
  };
  if (JSON.stringify(ours()) !== JSON.stringify(node())) throw new Error('decryptData and node:crypto disagree');
  const rate = (fn) => {
    const t0 = performance.now();
    let n = 0;
    while (performance.now() - t0 < 1000) { for (let j = 0; j < 200; j++) fn(); n += 200; }
    return (n * 1000) / (performance.now() - t0);
  };
  rate(ours); rate(node);
  const o = [], c = [];
  for (let r = 0; r < ROUNDS; r++) {
    if (r % 2) { c.push(rate(node)); o.push(rate(ours)); } else { o.push(rate(ours)); c.push(rate(node)); }
  }
  const [mo, mc] = [median(o), median(c)];
  table(['', 'ops/s', 'us/op'], [[`decryptData (wasm core), ${plain.length} B`, int(mo), us(mo)], ['node:crypto + JSON.parse', int(mc), us(mc)], ['ratio', (mo / mc).toFixed(2), '']]);
  console.log('both decode base64, decrypt, unpad, parse and check the watermark; the core checks the padding in constant time');
  console.log('and has no AES-NI (an MVP wasm build has no SIMD); a mini-program login decrypts once, not in a loop.');
  summary.sessions = (summary.sessions || '') + ` | decryptData ${int(mo)}/s vs node:crypto ${int(mc)}/s`;
}

export async function sessionsSections(summary) {
  await verifySection(summary);
  decryptSection(summary);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const summary = {};
  await sessionsSections(summary);
  console.log(`\nsummary (sessions): ${summary.sessions}`);
  process.exit(0);
}
