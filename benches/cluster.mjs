// Sections 11-12 of `npm run bench`: how many calls cross into wasm for one
// cold getSignature, and how long a forced refresh in one process takes to
// reach every other process sharing Redis. Prints figures; asserts nothing.
// `node benches/cluster.mjs` runs it alone.
import { fork, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createRequire } from 'node:module';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { int, heading, table, median } from './lib.mjs';
import { startFakeWechat } from '../tests/support/fake-wechat-api.mjs';
import { startRedis } from '../tests/support/redis-server.mjs';

const here = fileURLToPath(import.meta.url);
const root = join(dirname(here), '..');
const PKG = join(root, 'pkg');
const APP = { appId: 'wx_fake_app', appSecret: 'fake_secret' };

// Run alone (`--count-calls`): counts every call of one of our wasm exports
// (wasm-bindgen's own helpers such as malloc are counted apart).
async function countCalls() {
  const counts = { ours: 0, helpers: 0 };
  const Instance = WebAssembly.Instance;
  WebAssembly.Instance = class extends Instance {
    get exports() {
      // The real exports object is frozen: hand out a counting copy.
      const real = super.exports;
      const copy = {};
      for (const [name, v] of Object.entries(real)) {
        if (typeof v !== 'function') { copy[name] = v; continue; }
        const helper = name.startsWith('__wbindgen') || name.startsWith('__wbg');
        copy[name] = (...args) => { counts[helper ? 'helpers' : 'ours']++; return v(...args); };
      }
      return copy;
    }
  };
  const require = createRequire(here);
  const wxsession = require(join(PKG, 'node', 'index.cjs'));
  const fake = await startFakeWechat();
  // A backend that locks like Redis does, in memory: every step is real I/O.
  const map = new Map();
  const locking = {
    get: async (k) => (map.has(k) ? map.get(k) : null),
    set: async (k, v) => { map.set(k, v); },
    delete: async (k) => { map.delete(k); },
    lock: async (k) => (map.has('lock:' + k) ? null : (map.set('lock:' + k, 't'), 't')),
    unlock: async (k) => { map.delete('lock:' + k); },
  };
  const rows = {};
  try {
    for (const [name, store] of [['memory', new wxsession.Store()], ['locking backend', new wxsession.Store({ backend: locking, noInterval: true })]]) {
      const wechat = new wxsession.Wechat({ ...APP, store, apiBase: fake.url });
      counts.ours = 0; counts.helpers = 0;
      await wechat.jssdk.getSignature('https://h5.example.com/cold');
      const cold = { ...counts };
      counts.ours = 0; counts.helpers = 0;
      await wechat.jssdk.getSignature('https://h5.example.com/cold');
      rows[name] = { cold, warm: { ...counts } };
      await store.destroy();
    }
    process.stdout.write(JSON.stringify({ rows, fetches: [fake.counts.token, fake.counts.ticket] }));
  } finally {
    await fake.close();
  }
}

async function callsSection(summary) {
  heading('11. wasm calls for one getSignature: cold (token and ticket fetched, then signed) and cached');
  const { stdout } = await promisify(execFile)(process.execPath, [here, '--count-calls'], { timeout: 60_000 });
  const r = JSON.parse(stdout);
  table(['store', 'cold: calls into our exports', 'cold: wasm-bindgen helpers', 'cached: ours', 'cached: helpers'],
    Object.entries(r.rows).map(([name, x]) => [name, x.cold.ours, x.cold.helpers, x.warm.ours, x.warm.helpers]));
  console.log('each I/O the core asks for is answered with one call; the previous glue made about 70 for a cold getSignature.');
  const l = r.rows['locking backend'];
  summary.cluster = `cold getSignature: ${l.cold.ours} wasm calls with a locking backend, ${r.rows.memory.cold.ours} in memory (cached: ${l.warm.ours})`;
}

function worker(fake, redis, env) {
  const child = fork(join(root, 'tests', 'support', 'cluster-worker.mjs'), [], {
    env: { ...process.env, PKG_DIR: PKG, REDIS_URL: redis.url, API_BASE: fake.url, APP_ID: APP.appId, APP_SECRET: APP.appSecret,
      TIMEOUT: '2000', LOCK_TTL: '5000', ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiting = new Map();
  let next = 0;
  child.on('message', (m) => { if (m.id !== undefined) { waiting.get(m.id)(m.value); waiting.delete(m.id); } });
  child.ask = (cmd, args) => new Promise((resolve) => { const id = next++; waiting.set(id, resolve); child.send({ id, cmd, args }); });
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve(child));
    child.once('exit', (code) => reject(new Error('worker exited: ' + code)));
  });
}

async function freshnessSection(summary) {
  const N = 4, RECHECK = 1000, ROUNDS = 3;
  heading(`12. A forced refresh in one of ${N} processes (Redis): time until every other signs with the new ticket`);
  const redis = await startRedis();
  const fake = await startFakeWechat();
  const workers = await Promise.all(Array.from({ length: N }, () => worker(fake, redis, { PREFIX: 'bench-fresh', RECHECK: String(RECHECK) })));
  const url = 'https://h5.example.com/fresh';
  const sign = async (w) => (await w.ask('burst', { n: 1, url }))[0].value;
  try {
    const delays = [];
    for (let round = 0; round < ROUNDS; round++) {
      const before = await Promise.all(workers.map(sign));
      await workers[0].ask('refresh');
      const t0 = Date.now();
      const seen = new Array(N).fill(null);
      seen[0] = 0;
      while (seen.some((s) => s === null) && Date.now() - t0 < RECHECK * 5) {
        const now = await Promise.all(workers.map(sign));
        now.forEach((s, i) => { if (seen[i] === null && s.signature !== before[i].signature) seen[i] = Date.now() - t0; });
        await new Promise((r) => setTimeout(r, 20));
      }
      delays.push(Math.max(...seen.map((s) => (s === null ? Infinity : s))));
    }
    table(['', 'value'], [
      ['recheckInterval (this run; default 60000)', `${RECHECK} ms`],
      [`slowest process to sign with the new ticket (median of ${ROUNDS})`, `${int(median(delays))} ms`],
      ['token + ticket fetches for those refreshes', `${fake.counts.token} + ${fake.counts.ticket}`],
    ]);
    console.log("each process re-reads the shared record at most once per interval; WeChat keeps the old ticket valid for ~5 min,");
    console.log('so the default 60 s keeps every signature valid while costing each process one Redis GET a minute.');
    summary.cluster += ` | refresh seen by all ${N} processes after ${int(median(delays))} ms (recheckInterval ${RECHECK} ms)`;
  } finally {
    await Promise.all(workers.map((w) => w.ask('exit')));
    await fake.close();
    await redis.close();
  }
}

export async function clusterSections(summary) {
  await callsSection(summary);
  await freshnessSection(summary);
}

if (process.argv[1] === here) {
  if (process.argv[2] === '--count-calls') {
    await countCalls();
  } else {
    const summary = {};
    await clusterSections(summary);
    console.log(`\nsummary (cluster): ${summary.cluster}`);
  }
}
