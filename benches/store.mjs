// Token Store benchmarks (sections 5-7 of `npm run bench`): ops/s beside
// wechat-jssdk 5.1.0 in the same process, Redis commands per operation, and
// the memory 100k cached signatures take. Prints figures; asserts nothing.
// Run alone as a child (`--mem-child ours|theirs`) it does one memory probe.
import fs, { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { median, int, heading, table } from './lib.mjs';
import { startRedis } from '../tests/support/redis-server.mjs';

const here = fileURLToPath(import.meta.url);
const require = createRequire(here);
const PKG_NODE = join(dirname(here), '..', 'pkg', 'node', 'index.cjs');
const APP_ID = 'wxbench0000000001';
const ROUNDS = 3;
const MEM_N = 100_000;

// Realistic signature records: jsapi_ticket 86 chars, nonceStr 16, timestamp,
// url 60, signature 40 hex. All share one ticket, also the global token's.
const TICKET = ('kgt8ON7yVITDhtdwci0qeS5Sqo5Q0XbI7xyWc4W1EzPbUvQu-Bf8tB3bF3M8tX2mH4MpwR9fkM1bT0n6yQ4rX2dA' +
  'zzzz').slice(0, 86);
const sigUrl = (i) => `https://m.example.com/activity/spring/detail.html?id=${String(i).padStart(7, '0')}`;
const sigInfo = (i) => ({
  jsapi_ticket: TICKET,
  nonceStr: createHash('md5').update('n' + i).digest('base64url').slice(0, 16),
  timestamp: String(1700000000 + i),
  url: sigUrl(i),
  signature: createHash('sha1').update('s' + i).digest('hex'),
});
const tokenInfo = (i) => ({ accessToken: 'AT' + String(i).padStart(134, '0'), jsapi_ticket: TICKET, expires_in: 7200 });
const us = (opsPerSec) => (1e6 / opsPerSec).toFixed(opsPerSec > 1e5 ? 2 : 1);
const mb = (b) => (b / 1048576).toFixed(1);

// wechat-jssdk's FileStore writes with fs.writeFile and does not wait for it;
// track those writes so "awaited" figures include them (ours always waits).
const pending = new Set();
let theirsDir = null;
const origWriteFile = fs.writeFile;
function trackTheirWrites(dir) {
  theirsDir = dir;
  fs.writeFile = function (path, data, cb) {
    if (typeof path !== 'string' || !path.startsWith(theirsDir) || typeof cb !== 'function') return origWriteFile.apply(this, arguments);
    let done;
    const p = new Promise((r) => { done = r; });
    pending.add(p);
    return origWriteFile.call(this, path, data, (err) => { pending.delete(p); done(); cb(err); });
  };
}
const writesSettled = async () => { while (pending.size) await Promise.all([...pending]); };

function sides(kind, O, W, dirs) {
  let k = 0;
  return {
    ours: {
      make: () => (kind === 'memory' ? new O.Store()
        : new O.FileStore({ fileStorePath: join(dirs.ours, `s${k++}.json`), appId: APP_ID, noInterval: true })),
      flush: (s) => s.flush(),
      update: (s, info) => s.updateGlobalToken(info),
      destroy: (s) => s.destroy(),
    },
    theirs: {
      make: () => (kind === 'memory' ? new W.Store({ noInterval: true })
        : new W.FileStore({ fileStorePath: join(dirs.theirs, `s${k++}.json`), noInterval: true })),
      flush: async (s) => { s.flush(); await writesSettled(); },
      update: async (s, info) => { const r = await s.updateGlobalToken(info); await writesSettled(); return r; },
      destroy: async (s) => { await writesSettled(); s.destroy(); },
    },
  };
}

const URLS = Array.from({ length: 1000 }, (_, i) => sigUrl(i));
async function fill(side, s, n = 1000, from = 0) {
  for (let i = from; i < from + n; i++) await s.saveSignature(sigUrl(i), sigInfo(i));
}
async function warmFile(side, s) { await s.getGlobalToken(); await fill(side, s); await side.flush(s); }

// Each op: n calls (sequential awaited, or Promise.all batches), fresh store per run.
function ops(kind) {
  const file = kind === 'file';
  const getHit = async (side, s) => {
    if (file) await warmFile(side, s); else await fill(side, s);
    for (const u of URLS) if (!(await s.getSignature(u))) throw new Error('getSignature: expected a hit for ' + u);
  };
  const list = [
    { name: 'getSignature (hit, warmed)', n: 50_000, setup: getHit, call: (side, s, i) => s.getSignature(URLS[i % 1000]) },
    { name: 'getSignature, Promise.all of 100', n: 50_000, batch: 100, setup: getHit, call: (side, s, i) => s.getSignature(URLS[i % 1000]) },
    { name: 'saveSignature (new URLs)', n: 10_000, setup: async (side, s, n) => { if (file) await s.getGlobalToken(); return Array.from({ length: n }, (_, i) => sigInfo(5000 + i)); },
      call: (side, s, i, infos) => s.saveSignature(sigUrl(5000 + i), infos[i]) },
    { name: 'getGlobalToken', n: 50_000, setup: async (side, s) => { await side.update(s, tokenInfo(0)); }, call: (side, s) => s.getGlobalToken() },
    { name: 'updateGlobalToken' + (file ? ' (incl. write)' : ''), n: file ? 100 : 10_000,
      setup: async (side, s) => { if (file) await warmFile(side, s); }, call: (side, s, i) => side.update(s, tokenInfo(i + 1)) },
  ];
  if (!file) {
    list.splice(3, 0, { name: 'saveSignature, past 10k (default max)', n: 2000, setup: async (side, s, n) => { await fill(side, s, 10_000); return Array.from({ length: n }, (_, i) => sigInfo(20_000 + i)); },
      call: (side, s, i, infos) => s.saveSignature(sigUrl(20_000 + i), infos[i]) });
  } else {
    list.push({ name: 'updateGlobalToken, theirs not awaiting write', n: 100, setup: async (side, s) => { await warmFile(side, s); },
      call: (side, s, i) => s.updateGlobalToken(tokenInfo(i + 1)) });
    list.push({ name: 'flush of 1000 dirty signatures', n: 1, setup: async (side, s) => { await s.getGlobalToken(); await fill(side, s); },
      call: (side, s) => side.flush(s) });
  }
  return list;
}

async function runOnce(op, side, n) {
  const s = side.make();
  try {
    const ctx = op.setup ? await op.setup(side, s, n) : undefined;
    const t0 = performance.now();
    if (op.batch) {
      const ps = new Array(op.batch);
      for (let i = 0; i < n; i += op.batch) {
        for (let j = 0; j < op.batch; j++) ps[j] = op.call(side, s, i + j, ctx);
        await Promise.all(ps);
      }
    } else {
      for (let i = 0; i < n; i++) await op.call(side, s, i, ctx);
    }
    return (n * 1000) / (performance.now() - t0);
  } finally {
    await side.destroy(s);
    if (s.fileStorePath) { // theirs: is the file it left behind still JSON?
      const k = op.name, c = corrupt.get(k) || { bad: 0, runs: 0 };
      c.runs++;
      try { JSON.parse(readFileSync(s.fileStorePath, 'utf8')); } catch { c.bad++; }
      corrupt.set(k, c);
    }
  }
}
const corrupt = new Map();

async function opsSection(O, W, dirs) {
  heading('5. Token Store ops/s: ours vs wechat-jssdk 5.1.0 (same run)');
  const out = {};
  for (const kind of ['memory', 'file']) {
    const sd = sides(kind, O, W, dirs);
    const rows = [];
    for (const op of ops(kind)) {
      for (const name of ['ours', 'theirs']) await runOnce(op, sd[name], Math.ceil(op.n / 5)); // warm-up
      const got = { ours: [], theirs: [] };
      for (let r = 0; r < ROUNDS; r++) {
        for (const name of r % 2 ? ['theirs', 'ours'] : ['ours', 'theirs']) got[name].push(await runOnce(op, sd[name], op.n));
      }
      const o = median(got.ours), t = median(got.theirs);
      rows.push([op.name, int(op.n), int(o), int(t), (o / t).toFixed(2), `${us(o)} / ${us(t)}`]);
      out[`${kind}:${op.name}`] = o / t;
    }
    console.log(kind === 'memory' ? '\nmemory: new Store() vs new Store({ noInterval: true })'
      : '\nfile: new FileStore({ fileStorePath, appId, noInterval: true }) vs new FileStore({ fileStorePath, noInterval: true })');
    table(['op', 'n', 'ours ops/s', 'theirs ops/s', 'ours/theirs', 'us/op ours / theirs'], rows);
  }
  console.log(`median of ${ROUNDS} interleaved rounds after a warm-up run; fresh stores per run, sequential awaited calls unless`);
  console.log('batched; file getSignature/getGlobalToken are memory hits on both sides (the file is read once).');
  console.log('updateGlobalToken flushes on both sides: ours resolves after write+fsync+rename of the whole file; theirs');
  console.log('returns at once and writes the whole store with fs.writeFile (no fsync); "(incl. write)" waits for that write.');
  console.log('flush row: ours one atomic write of the file after 1000 backend sets; theirs one fs.writeFile of the store.');
  console.log('no memory flush row: a memory store has nothing to write (both flush() calls are no-ops).');
  console.log('"past 10k": stores already holding 10,000 signatures (our default maxSignatures) saving 2,000 more.');
  return out;
}

// 6. Redis -----------------------------------------------------------------
async function redisSection(O) {
  heading('6. Redis commands per operation (RedisStore on a local redis-server)');
  const server = await startRedis();
  const { createClient } = require('redis');
  const client = createClient({ url: server.url });
  const admin = createClient({ url: server.url });
  const stores = [];
  try {
    await client.connect(); await admin.connect();
    const sent = [];
    const orig = client.sendCommand;
    client.sendCommand = function (args, opts) { sent.push(args[0]); return orig.call(this, args, opts); };
    const serverCalls = async () => {
      const text = await admin.sendCommand(['INFO', 'commandstats']);
      let n = 0;
      for (const m of text.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)) if (m[1] !== 'info' && m[1] !== 'config') n += Number(m[2]);
      return n;
    };
    const mk = () => { const s = new O.RedisStore({ client, appId: APP_ID, noInterval: true }); stores.push(s); return s; };
    const a = mk(), b = mk();
    const rows = [];
    const count = async (what, expected, fn, note = '') => {
      await admin.sendCommand(['CONFIG', 'RESETSTAT']);
      sent.length = 0;
      const result = await fn();
      rows.push([what, sent.length ? `${sent.length} (${[...new Set(sent)].join(',')})` : '0', await serverCalls(), expected,
        typeof note === 'function' ? note(result) : note]);
    };
    await count('getSignature cold, not in Redis', 2, () => a.getSignature(sigUrl(1)),
      'the global record first (read once per recheck interval), then the URL');
    await count('  same URL again (absence is cached)', 0, () => a.getSignature(sigUrl(1)));
    await b.saveSignature(sigUrl(1), sigInfo(1)); await b.flush();
    await count('  again, after a 2nd store saved it', 0, () => a.getSignature(sigUrl(1)),
      (v) => (v ? 'sees it' : 'still undefined (cached miss)'));
    await b.saveSignature(sigUrl(2), sigInfo(2)); await b.flush();
    await count('getSignature cold, in Redis', 1, () => a.getSignature(sigUrl(2)));
    await count('getSignature warm', 0, () => a.getSignature(sigUrl(2)));
    await count('saveSignature', 0, () => a.saveSignature(sigUrl(3), sigInfo(3)));
    await count('  then flush', 1, () => a.flush());
    await count('flush, nothing dirty', 0, () => a.flush());
    await count('10 x saveSignature + 1 flush', 10, async () => { await fill(null, a, 10, 100); await a.flush(); }, 'auto-pipelined by node-redis');
    await count('updateGlobalToken, global read before', 1, () => a.updateGlobalToken(tokenInfo(1)),
      'merged with the copy the first getSignature read');
    await count('updateGlobalToken, warm', 1, () => a.updateGlobalToken(tokenInfo(2)));
    await count('getGlobalToken, warm', 0, () => a.getGlobalToken());
    await b.getGlobalToken();
    await a.updateGlobalToken(tokenInfo(3));
    await count('getGlobalToken on a 2nd store after the 1st updated', 0, () => b.getGlobalToken(),
      (t) => (t.accessToken === tokenInfo(3).accessToken ? 'sees the new token' : 'its cached token, until the record is 60 s old'));
    table(['operation', 'client commands', 'server calls', 'expected', 'note'], rows);
    console.log('client commands: counted on the redis client the stores share; server calls: INFO commandstats delta.');
    return rows;
  } finally {
    for (const s of stores) await s.destroy().catch(() => {});
    if (client.isOpen) await client.close();
    if (admin.isOpen) await admin.close();
    await server.close();
  }
}

// 7. Memory ----------------------------------------------------------------
async function memChild(side) {
  const instances = [];
  const Instance = WebAssembly.Instance;
  WebAssembly.Instance = class extends Instance { constructor(m, i) { super(m, i); instances.push(this); } };
  const store = side === 'ours' ? new (require(PKG_NODE).Store)({ maxSignatures: 200_000 })
    : new (require('wechat-jssdk').Store)({ noInterval: true });
  await store.getSignature(sigUrl(0));
  const wasm = () => (instances[0] ? instances[0].exports.memory.buffer.byteLength : 0);
  const snap = () => { globalThis.gc(); globalThis.gc(); return { ...process.memoryUsage(), wasm: wasm() }; };
  const before = snap();
  let majorGcs = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (e.detail && e.detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majorGcs++;
  });
  obs.observe({ entryTypes: ['gc'] });
  const t0 = performance.now();
  for (let i = 0; i < MEM_N; i++) await store.saveSignature(sigUrl(i), sigInfo(i));
  const ms = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 10));
  obs.disconnect();
  const after = snap();
  const count = side === 'ours' ? store._core.signatureCount() : Object.keys(store.store.urls).length;
  process.stdout.write(JSON.stringify({ before, after, ms, count, majorGcs, wasmSeen: instances.length > 0 }));
  await store.destroy();
}

async function memorySection() {
  heading(`7. Memory for ${int(MEM_N)} cached signatures (fresh node --expose-gc per side)`);
  const run = promisify(execFile);
  const rows = [], res = {};
  for (const side of ['ours', 'theirs']) {
    const { stdout } = await run(process.execPath, ['--expose-gc', here, '--mem-child', side], { timeout: 300_000, maxBuffer: 1 << 20 });
    const { before: b, after: a, ms, count, majorGcs, wasmSeen } = JSON.parse(stdout);
    const d = (k) => a[k] - b[k];
    const total = d('heapUsed') + d('external');
    res[side] = total / MEM_N;
    rows.push([side, int(count), mb(d('heapUsed')), mb(d('external')), mb(d('arrayBuffers')),
      wasmSeen ? `${mb(b.wasm)} -> ${mb(a.wasm)}` : 'n/a', mb(total), int(total / MEM_N), mb(d('rss')), `${int(ms)} ms`, majorGcs]);
  }
  table(['', 'stored', 'heapUsed', 'external', 'arrayBuffers', 'wasm memory', 'heap+external', 'bytes/sig', 'rss', 'save loop', 'major GCs'], rows);
  console.log('MB deltas after saving (gc() before each reading). Node counts ArrayBuffers in both external and arrayBuffers,');
  console.log('so heapUsed+external is the total (adding arrayBuffers again would double-count); the wasm linear memory is');
  console.log('in external, not in arrayBuffers. Ours: new Store({ maxSignatures: 200000 }) (the default is 10,000); theirs:');
  console.log('new Store({ noInterval: true }), which keeps the caller\'s info objects by reference. "save loop" includes');
  console.log('building the info objects (two hashes each, the same on both sides); rss is for reference only.');
  return res;
}

export async function storeSections(summary) {
  const O = require(PKG_NODE);
  const t0 = performance.now();
  const W = require('wechat-jssdk');
  const loadMs = performance.now() - t0;
  const root = mkdtempSync(join(tmpdir(), 'wxsession-store-bench-'));
  const dirs = { ours: join(root, 'ours'), theirs: join(root, 'theirs') };
  fs.mkdirSync(dirs.ours); fs.mkdirSync(dirs.theirs);
  trackTheirWrites(dirs.theirs);
  try {
    console.log(`\nwechat-jssdk ${require('wechat-jssdk/package.json').version}: require('wechat-jssdk') took ${loadMs.toFixed(0)} ms ` +
      '(loads mongoose too); it starts no timers, and {noInterval: true} stores start none either.');
    const r = await opsSection(O, W, dirs);
    await writesSettled();
    for (const [k, c] of corrupt) {
      if (c.bad) console.log(`wechat-jssdk FileStore: "${k}" left ${c.bad} of ${c.runs} store files not valid JSON (overlapping fs.writeFile calls)`);
    }
    const redisRows = await redisSection(O);
    const mem = await memorySection();
    const f = (k) => r[k].toFixed(2);
    summary.store = `memory getSignature x${f('memory:getSignature (hit, warmed)')}, saveSignature x${f('memory:saveSignature (new URLs)')}; ` +
      `file updateGlobalToken x${f('file:updateGlobalToken (incl. write)')}, flush 1000 x${f('file:flush of 1000 dirty signatures')} (ours/theirs ops/s) | ` +
      `redis cold get ${redisRows[0][2]}, warm get ${redisRows[4][2]} cmds | ` +
      `100k sigs ${int(mem.ours)} vs ${int(mem.theirs)} B/sig`;
  } finally {
    fs.writeFile = origWriteFile;
    rmSync(root, { recursive: true, force: true });
  }
}

if (process.argv[1] === here && process.argv[2] === '--mem-child') await memChild(process.argv[3]);
