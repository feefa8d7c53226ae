// wechat-jssdk 5.1.0's own Store, JSSDK and OAuth tests (vendored in
// tests/wechat-jssdk/, see its README) run by mocha against our drop-in
// (`wxsession/wechat-jssdk`) and the fake WeChat: their Wechat, JSSDK and
// OAuth code, our stores. Every test of theirs must pass or be pending with
// a reason printed here, and exactly as many must pass as exist.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeWechat } from './support/fake-wechat-api.mjs';
import { ROOT, PKG } from './support/harness.mjs';

const require = createRequire(import.meta.url);
const DIR = join(ROOT, 'tests', 'wechat-jssdk');
const SPECS = ['JSSDK.spec.js', 'OAuth.spec.js', 'Store.spec.js'].map((f) => join(DIR, f));
const MONGODB_URL = process.env.MONGODB_URL;

// Their 57 tests (Store 18, JSSDK 16, OAuth 23): 33 need nothing but the
// fake WeChat; 24 need MongoDB.
const ALL = 57;
const WITHOUT_MONGO = 33;
const EXPECTED = MONGODB_URL ? { passes: ALL, pending: 0 } : { passes: WITHOUT_MONGO, pending: ALL - WITHOUT_MONGO };

// The app their bootstrap.js configures, so their config works against the fake unchanged.
function theirApp() {
  const src = readFileSync(join(DIR, 'bootstrap.js'), 'utf8');
  const field = (name) => {
    const m = src.match(new RegExp(`\\b${name}: '([^']+)'`));
    assert.ok(m, `bootstrap.js has no ${name}`);
    return m[1];
  };
  return { appId: field('appId'), appSecret: field('appSecret') };
}

function runMocha({ cwd, env, report }) {
  const args = [
    require.resolve('mocha/bin/mocha.js'),
    // Nothing from the temp directory or a package.json; --exit as their own
    // `npm test` has it (every JSSDK instance starts a setInterval of its own).
    '--no-config', '--no-package', '--exit', '--forbid-only',
    '--reporter', 'json', '--reporter-option', `output=${report}`,
    ...SPECS,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 240_000 });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, out }));
  });
}

async function dropDatabase(name) {
  const { MongoClient } = require('mongodb');
  const client = new MongoClient(MONGODB_URL, { serverSelectionTimeoutMS: 5000 });
  try {
    await client.db(name).dropDatabase();
  } finally {
    await client.close();
  }
}

test("wechat-jssdk's own tests pass on our stores against the fake WeChat", async (t) => {
  assert.ok(existsSync(join(PKG, 'node', 'wechat-jssdk.cjs')), 'pkg/ is not built: node scripts/build.mjs');
  const fake = await startFakeWechat(theirApp());
  const cwd = mkdtempSync(join(tmpdir(), 'wxsession-wechat-jssdk-'));
  const mongoDb = 'wxsession_wechat_jssdk_' + randomBytes(4).toString('hex');
  t.after(async () => {
    await fake.close();
    rmSync(cwd, { recursive: true, force: true });
    if (MONGODB_URL) await dropDatabase(mongoDb);
  });

  const report = join(cwd, 'mocha-report.json');
  const notes = join(cwd, 'notes.jsonl');
  const env = { FAKE_WECHAT_URL: fake.url, WECHAT_JSSDK_NOTES: notes, WXSESSION_PKG: PKG };
  if (MONGODB_URL) env.MONGODB_DB = mongoDb;
  const run = await runMocha({ cwd, env, report });
  const why = () => `mocha exited ${run.code}${run.signal ? ' on ' + run.signal : ''}:\n${run.out}`;
  assert.ok(existsSync(report), 'mocha wrote no report. ' + why());

  const result = JSON.parse(readFileSync(report, 'utf8'));
  const lines = existsSync(notes) ? readFileSync(notes, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
  const unhandled = lines.filter((n) => n.unhandledRejection).map((n) => n.unhandledRejection);
  const reasons = new Map(lines.filter((n) => n.pending).map((n) => [n.pending, n.reason]));

  const failed = result.failures.map((f) => `${f.fullTitle}: ${f.err.message}`);
  assert.deepEqual(failed, [], 'failing tests. ' + why());
  assert.deepEqual(unhandled, [], 'unhandled rejections during the run');
  assert.equal(run.code, 0, why());

  for (const p of result.pending) {
    assert.ok(reasons.has(p.fullTitle), `pending without a reason: ${p.fullTitle}`);
    t.diagnostic(`pending: ${p.fullTitle} (${reasons.get(p.fullTitle)})`);
  }
  const pendingTitles = new Set(result.pending.map((p) => p.fullTitle));
  for (const title of reasons.keys()) assert.ok(pendingTitles.has(title), `has a skip reason yet did not stay pending: ${title}`);

  // Fewer than expected means a file did not load or a suite was cut short.
  assert.equal(result.passes.length, EXPECTED.passes, `passing tests (of ${ALL})`);
  assert.equal(result.pending.length, EXPECTED.pending, 'pending tests');
  assert.equal(result.stats.tests, EXPECTED.passes + EXPECTED.pending, 'tests mocha ran');
  t.diagnostic(`wechat-jssdk's tests: ${result.passes.length} passing, ${result.pending.length} pending, none failing (of ${ALL})`);
});
