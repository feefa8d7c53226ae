// Helpers for benches/run.mjs: tables, statistics, sandboxes and an
// instantly answering wx stub.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildNpm, createSandbox } from '../tests/support/miniprogram-sandbox.mjs';

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

export const ms = (t) => `${t.toFixed(t < 10 ? 2 : 1)} ms`;
export const int = (n) => Math.round(n).toLocaleString('en-US');
export const kb = (n) => `${(n / 1024).toFixed(2)} KB`;

export function heading(title) {
  console.log(`\n== ${title} ${'='.repeat(Math.max(0, 68 - title.length))}`);
}

/** Prints rows under headers in fixed-width columns; the first column is left-aligned. */
export function table(headers, rows) {
  const cells = [headers, ...rows].map((r) => r.map(String));
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] || '').length)));
  const line = (r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(cells[0]));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of cells.slice(1)) console.log(line(r));
}

const tempDirs = [];

/** A fresh project root with the package "built npm"-style, and a strict sandbox over it. */
export function freshSandbox(pkgDir, wx) {
  const projectRoot = mkdtempSync(join(tmpdir(), 'wxsession-bench-'));
  tempDirs.push(projectRoot);
  buildNpm(projectRoot, pkgDir);
  return createSandbox({ projectRoot, wx });
}

export function cleanupSandboxes() {
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/**
 * A minimal wx whose request() answers 200 {ok:true} synchronously. Storage
 * holds values as given; its asynchronous APIs (what the session uses) and
 * getRandomValues answer in a microtask, so no timer clamp skews timings.
 */
export function instantWx() {
  const storage = new Map();
  const calls = { login: 0, checkSession: 0, request: 0, getRandomValues: 0 };
  return {
    calls,
    storage,
    request(opts) {
      calls.request++;
      opts.success({ statusCode: 200, data: { ok: true }, header: {}, errMsg: 'request:ok' });
      return { abort() {} };
    },
    login(opts) {
      calls.login++;
      queueMicrotask(() => opts.success({ code: 'code-' + calls.login, errMsg: 'login:ok' }));
    },
    checkSession(opts) {
      calls.checkSession++;
      queueMicrotask(() => opts.success({ errMsg: 'checkSession:ok' }));
    },
    getRandomValues(opts) {
      calls.getRandomValues++;
      queueMicrotask(() => {
        const bytes = new Uint8Array(opts.length);
        for (let i = 0; i < bytes.length; i++) bytes[i] = (Math.random() * 256) | 0;
        opts.success({ randomValues: bytes.buffer, errMsg: 'getRandomValues:ok' });
      });
    },
    getStorage: (opts) => queueMicrotask(() => (storage.has(opts.key)
      ? opts.success({ data: storage.get(opts.key), errMsg: 'getStorage:ok' })
      : opts.fail({ errMsg: 'getStorage:fail data not found' }))),
    setStorage: (opts) => queueMicrotask(() => { storage.set(opts.key, opts.data); opts.success({ errMsg: 'setStorage:ok' }); }),
    removeStorage: (opts) => queueMicrotask(() => { storage.delete(opts.key); opts.success({ errMsg: 'removeStorage:ok' }); }),
  };
}

/** What wx storage holds for a valid, never-expiring token: the storage record around the token record. */
export const warmToken = (token = 't') => ({
  value: JSON.stringify({ v: 1, token, issuedAt: Date.now(), expiresAt: null }),
  expiresAt: null,
});

/**
 * Runs batches of `batch` concurrent calls of fn (awaited with Promise.all)
 * for about `seconds`; returns { rps, n, elapsed }.
 */
export async function throughput(fn, { batch = 100, seconds = 1 } = {}) {
  const budget = seconds * 1000;
  let n = 0;
  const t0 = performance.now();
  let elapsed = 0;
  const ps = new Array(batch);
  do {
    for (let i = 0; i < batch; i++) ps[i] = fn();
    await Promise.all(ps);
    n += batch;
    elapsed = performance.now() - t0;
  } while (elapsed < budget);
  return { rps: (n * 1000) / elapsed, n, elapsed };
}
