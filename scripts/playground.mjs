#!/usr/bin/env node
// `npm start`: the www/ playground. One HTTP server on 127.0.0.1 serves the
// page (www/), the built package (pkg/) and a demo app backend built on the
// package's node entry; the backend talks to the strict fake WeChat API from
// tests/support on its own port. A second small server, on another port, is
// WeChat's client side (the code wx.login gets): another origin, as in a
// real app. Ctrl-C stops everything and exits 0.
//
// Importable: startPlayground({ port, redisUrl, quiet }) -> { url, wechatSideUrl, fake, backend, close }.
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startFakeWechat } from '../tests/support/fake-wechat-api.mjs';
import { serveFile } from '../tests/support/static-files.mjs';
import { createBackend } from './playground-backend.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const PKG = join(ROOT, 'pkg');
const WWW = join(ROOT, 'www');
const APP = { appId: 'wx_playground_app', appSecret: 'playground_secret' };
const PREFERRED_PORT = 8765;

export async function startPlayground({ port = 0, redisUrl = null, quiet = true, host = '127.0.0.1' } = {}) {
  if (!existsSync(join(PKG, 'node', 'index.cjs')) || !existsSync(join(PKG, 'web', 'index.js'))) {
    throw new Error('pkg/ is missing: build it first with `node scripts/build.mjs`');
  }
  const wxsession = createRequire(import.meta.url)(join(PKG, 'node', 'index.cjs'));
  const say = quiet ? () => {} : (msg) => console.log('  backend  ' + msg);
  const cleanups = []; // run last-in first-out by close()
  let closing = null;
  const close = () => (closing ??= (async () => {
    for (const fn of cleanups.reverse()) {
      try { await fn(); } catch (err) { if (!quiet) console.error('playground: while stopping: ' + err.message); }
    }
  })());

  try {
    const fake = await startFakeWechat(APP);
    cleanups.push(() => fake.close());

    // The fake is new on every start, so credentials stored by an earlier
    // run mean nothing to it: each run gets its own file (or Redis prefix).
    let store, storeLabel;
    if (redisUrl) {
      const prefix = 'wxsession-playground-' + randomBytes(4).toString('hex');
      store = new wxsession.RedisStore({ url: redisUrl, prefix, appId: APP.appId });
      storeLabel = `RedisStore ${redisUrl} (keys ${prefix}:*)`;
    } else {
      mkdirSync(join(ROOT, '.playground'), { recursive: true });
      const runDir = mkdtempSync(join(ROOT, '.playground', 'run-'));
      cleanups.push(() => rmSync(runDir, { recursive: true, force: true }));
      const fileStorePath = join(runDir, 'wechat-info.json');
      store = new wxsession.FileStore({ fileStorePath, appId: APP.appId });
      storeLabel = 'FileStore ' + fileStorePath;
    }
    cleanups.push(() => store.destroy());
    await store.getGlobalToken(); // fail now, not on the first click, if Redis is unreachable

    const wechat = new wxsession.Wechat({ ...APP, apiBase: fake.url, store });
    let origin = null, wechatSidePort = null;
    const backend = createBackend({ wechat, fake, origin: () => origin, wechatSidePort: () => wechatSidePort, log: say });
    const route = async (req, res, raw) => {
      const url = new URL(req.url, 'http://playground');
      if (await backend.handle(req, res, url, raw)) return;
      if (req.method !== 'GET' && req.method !== 'HEAD') return text(res, 405, 'method not allowed');
      // The page, its SPA routes (history.pushState targets, so a reload works), pkg/ and www/.
      if (url.pathname === '/' || url.pathname.startsWith('/spa/')) return serveFile(res, { '/': WWW }, '/', '/index.html');
      if (url.pathname.startsWith('/pkg/')) return serveFile(res, { '/pkg/': PKG }, '/pkg/', url.pathname);
      return serveFile(res, { '/': WWW }, '/', url.pathname);
    };
    const server = await listen(route, port, host, cleanups);
    origin = `http://${host}:${server.address().port}`;
    const wechatSide = await listen(async (req, res) => {
      if (!backend.handleWechatSide(req, res, new URL(req.url, 'http://wechat-side'))) text(res, 404, 'not found');
    }, 0, host, cleanups);
    wechatSidePort = wechatSide.address().port;
    return { url: origin + '/', wechatSideUrl: `http://${host}:${wechatSidePort}/`, fake, backend: backend.state, store: storeLabel, close };
  } catch (err) {
    await close();
    throw err;
  }
}

// An HTTP server answering route(req, res, body); closed (connections too) by cleanups.
async function listen(route, port, host, cleanups) {
  const server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => {
      raw += chunk;
      if (raw.length > 1e6) req.destroy();
    });
    req.on('end', () => route(req, res, raw).catch((err) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(err && err.message));
    }));
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  cleanups.push(() => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  return server;
}

function text(res, status, body) {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(body);
}

const TRY = [
  'Burst: fire 100 concurrent requests on a cold page: one wx.login, one exchange, 100 answers.',
  'Revoke on the server, then burst again: 100 × 401, ONE shared re-login, every request replayed once.',
  'Expire the token / fail the next login / add latency, and watch the timeline and the chart.',
  'Server sessions: live sessions per user (sessions.list), revoke one user, decrypt data WeChat encrypted for this user.',
  'JS-SDK: navigate an SPA route, then wx.config with urlMode landing (iOS) or current (Android); the wrong one fails.',
  'OAuth: a round trip through the (simulated) WeChat authorize page, and a link with a forged state (refused).',
];

async function main() {
  const envPort = process.env.PORT;
  if (envPort !== undefined && !/^\d+$/.test(envPort)) {
    console.error(`playground: PORT must be a number, got ${envPort}`);
    process.exit(1);
  }
  const options = { redisUrl: process.env.REDIS_URL || null, quiet: false };
  let pg;
  try {
    pg = await startPlayground({ ...options, port: envPort !== undefined ? Number(envPort) : PREFERRED_PORT });
  } catch (err) {
    // The usual port is taken (another playground?): any free one will do, unless PORT asked for it.
    if (err.code !== 'EADDRINUSE' || envPort !== undefined) {
      console.error('playground: ' + err.message);
      process.exit(1);
    }
    pg = await startPlayground({ ...options, port: 0 });
  }
  console.log(`\nwxsession playground: ${pg.url}\n`);
  console.log(`  fake WeChat API  ${pg.fake.url}`);
  console.log(`  wx.login (sim.)  ${pg.wechatSideUrl}`);
  console.log(`  WeChat store     ${pg.store}\n`);
  console.log('Open the URL in a browser and try:');
  for (const t of TRY) console.log('  - ' + t);
  console.log('\nCtrl-C stops it.\n');

  let stopping = false;
  const stop = async (signal) => {
    if (stopping) return;
    stopping = true;
    console.log(`\nplayground: ${signal}, stopping`);
    const force = setTimeout(() => {
      console.error('playground: did not stop within 5 s; exiting anyway');
      process.exit(1);
    }, 5000);
    force.unref();
    await pg.close();
    console.log('playground: stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
